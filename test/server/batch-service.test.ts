/**
 * SealBatch framing, limits, per-document errors, flow control, cancellation and idempotency, over real gRPC with
 * the real spool and handlers and a stand-in engine (test/server/batch-e2e.test.ts runs the real engine and token).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { connectBatch, sealBatch, type BatchInput, type BatchResult } from '../../src/cli/batch-client.ts';
import { BatchAnswer, type DocumentSealed } from '../../src/gen/seald/v1/batch_pb.ts';
import type { sealDocument } from '../../src/engine/seal.ts';
import { SealdError } from '../../src/errors.ts';
import { FAKE_REVISION, fakeSealDocument, reflect, spoolFiles } from './harness.ts';
import { rawBatch, sealedBytes, startBatchHarness, type BatchHarness, type BatchRequestPayload } from './batch-harness.ts';

const MiB = 1024 * 1024;
const placement = { kind: { case: 'position' as const, value: { page: 1, x: 100, y: 100 } } };

let h: BatchHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function pdfLike(size: number, tag: string): Buffer {
  const bytes = Buffer.alloc(size, 0x20);
  bytes.write(`%PDF-1.7 ${tag}\n`);
  return bytes;
}

function input(id: string, bytes: Buffer, extra: Partial<BatchInput> = {}): BatchInput {
  return {
    id,
    size: bytes.length,
    async *read() {
      for (let offset = 0; offset < bytes.length; offset += 300_000) yield bytes.subarray(offset, offset + 300_000);
    },
    ...extra,
  };
}

/**
 * Run a batch through the client; collect each document's bytes and result. With whole-document answers (the
 * default here: these tests are about the server's framing) also check each answer's chunks are contiguous; with
 * appended answers the client hands on uploads while other documents' answers arrive, so only order per id counts.
 */
async function runBatch(harness: BatchHarness, inputs: BatchInput[], concurrency = 8, answer: 'full' | 'appended' = 'full') {
  const outputs = new Map<string, Buffer[]>();
  const results = new Map<string, BatchResult>();
  const order: string[] = [];
  let current: string | undefined;
  const totals = await sealBatch(harness.client, { sealId: 'org', placement }, inputs, {
    concurrency,
    answer,
    onChunk(id, chunk) {
      if (answer === 'appended') {
        outputs.set(id, [...(outputs.get(id) ?? []), Buffer.from(chunk)]);
        return;
      }
      if (current !== undefined && current !== id) throw new Error(`chunks of ${id} interleaved with ${current}`);
      current = id;
      outputs.set(id, [...(outputs.get(id) ?? []), Buffer.from(chunk)]);
    },
    onResult(result) {
      if (answer === 'full' && current !== undefined && current !== result.id) throw new Error(`result of ${result.id} inside ${current}`);
      current = undefined;
      order.push(result.id);
      results.set(result.id, result);
    },
  });
  const bytes = (id: string) => Buffer.concat(outputs.get(id) ?? []);
  return { totals, results, bytes, order };
}

/** Stand-in engine that refuses documents whose first line says BAD, like the real one refuses a broken PDF. */
function refusingBad(inner: typeof sealDocument = fakeSealDocument()): typeof sealDocument {
  return async (source, seal, placementArg, options) => {
    if (Buffer.from(source.read(0, 16)).toString('latin1').includes('BAD')) {
      throw new SealdError('invalid-input', 'PDF_MALFORMED', 'the document is not a readable PDF: no startxref');
    }
    return inner(source, seal, placementArg, options);
  };
}

describe('SealBatch', () => {
  it('is listed by server reflection, with its descriptor', async () => {
    h = await startBatchHarness();
    const { services } = await reflect(h.server.address, { listServices: '' });
    expect(services).toEqual(expect.arrayContaining(['seald.v1.SealService', 'seald.v1.BatchService']));
    const { files } = await reflect(h.server.address, { fileContainingSymbol: 'seald.v1.BatchService' });
    const batchFile = files.find((f) => f.name === 'seald/v1/batch.proto')!;
    expect(batchFile.service[0]!.method.map((m) => m.name)).toEqual(['SealBatch']);
    expect(files.map((f) => f.name)).toContain('seald/v1/seald.proto');
  });

  it('seals every document of a pipelined batch; each answer is the input plus the revision, chunks contiguous', async () => {
    h = await startBatchHarness();
    const docs = Array.from({ length: 12 }, (_, i) => pdfLike(i % 3 === 0 ? 2 * MiB + 17 : 40_000 + i, `doc${i}`));
    const { totals, results, bytes } = await runBatch(h, docs.map((d, i) => input(`doc-${i}`, d)));
    expect(totals).toMatchObject({ documents: 12, sealed: 12, replayed: 0, failed: 0, concurrency: 4 });
    docs.forEach((d, i) => {
      const result = results.get(`doc-${i}`)!;
      expect(result.ok).toBe(true);
      const out = bytes(`doc-${i}`);
      expect(out.equals(Buffer.concat([d, FAKE_REVISION]))).toBe(true);
      if (result.ok) expect(result.summary.documentSize).toBe(BigInt(out.length));
    });
    expect(totals.bytesIn).toBe(docs.reduce((n, d) => n + d.length, 0));
    expect(spoolFiles(h.spoolDir)).toEqual([]);
    const lines = h.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    expect(lines.filter((l) => l.operation === 'batch_document')).toHaveLength(12);
    const callLine = lines.find((l) => l.operation === 'seal_batch');
    expect(callLine).toMatchObject({ status: 'OK', principal: 'anonymous', documents: { sealed: 12, failed: 0 } });
  });

  it('appended answers: only the new revision crosses back, the client hands on upload + revision, identical to a whole answer', async () => {
    h = await startBatchHarness({ sealDocument: refusingBad() });
    const docs = Array.from({ length: 6 }, (_, i) => pdfLike(i === 2 ? 3 * MiB + 5 : 30_000 + i, `appended${i}`));
    const bad = pdfLike(20_000, 'BAD');
    const run = await runBatch(h, [...docs.map((d, i) => input(`a-${i}`, d)), input('a-bad', bad)], 3, 'appended');
    expect(run.totals).toMatchObject({ documents: 7, sealed: 6, failed: 1 });
    docs.forEach((d, i) => {
      const result = run.results.get(`a-${i}`)!;
      expect(run.bytes(`a-${i}`).equals(Buffer.concat([d, FAKE_REVISION]))).toBe(true);
      expect(result).toMatchObject({ ok: true, bytesIn: d.length, bytesOut: d.length + FAKE_REVISION.length });
      if (result.ok) expect(result.summary.documentSize).toBe(BigInt(d.length + FAKE_REVISION.length));
    });
    // The failed document's upload was handed on too (and must be discarded by the caller); its result says so.
    expect(run.results.get('a-bad')).toMatchObject({ ok: false, errorCode: 'PDF_MALFORMED' });
    // What the server wrote to the wire (the counters of the call's request log line): the revisions only.
    const callLine = h.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'request' && l.operation === 'seal_batch');
    expect(callLine.bytesOut).toBe(6 * FAKE_REVISION.length);

    // On the wire: revision chunks, then DocumentSealed naming the bytes they go after.
    const raw = rawBatch(h.client);
    await raw.send({ case: 'header', value: { sealId: 'org', placement, answer: BatchAnswer.APPENDED } });
    await raw.send({ case: 'start', value: { documentId: 'w' } });
    await raw.send({ case: 'chunk', value: { documentId: 'w', data: docs[0]! } });
    await raw.send({ case: 'end', value: { documentId: 'w' } });
    raw.call.end();
    expect((await raw.status).code).toBe(0);
    expect(sealedBytes(raw.responses, 'w').equals(Buffer.from(FAKE_REVISION))).toBe(true);
    const sealed = raw.responses.find((r) => r.payload.case === 'sealed')!.payload.value as DocumentSealed;
    expect(sealed.inputSize).toBe(BigInt(docs[0]!.length));
    expect(Buffer.from(sealed.inputSha256).toString('hex')).toBe(createHash('sha256').update(docs[0]!).digest('hex'));

    // A replay asked for as a whole document is the same sealed document.
    const whole = await runBatch(h, [input('a-1', docs[1]!)], 1, 'full');
    expect(whole.totals.replayed).toBe(1);
    expect(whole.bytes('a-1').equals(run.bytes('a-1'))).toBe(true);
  });

  it('file inputs: read straight into the request frames, the same answers as read(); a file that shrinks or is missing fails the call', async () => {
    h = await startBatchHarness();
    const dir = fs.mkdtempSync(path.join(h.spoolDir, '..', 'file-inputs-'));
    // Multi-chunk (3 MiB + 5: four chunks, the last short), single-chunk, and a size on a chunk boundary.
    const docs = [pdfLike(3 * MiB + 5, 'f0'), pdfLike(30_001, 'f1'), pdfLike(MiB, 'f2')];
    const files = docs.map((d, i) => {
      const file = path.join(dir, `f${i}.pdf`);
      fs.writeFileSync(file, d);
      return file;
    });
    for (const answer of ['appended', 'full'] as const) {
      const run = await runBatch(h, files.map((file, i) => ({ id: `${answer}-f${i}`, file })), 2, answer);
      expect(run.totals).toMatchObject({ documents: 3, sealed: 3, failed: 0, bytesIn: docs.reduce((n, d) => n + d.length, 0) });
      docs.forEach((d, i) => expect(run.bytes(`${answer}-f${i}`).equals(Buffer.concat([d, FAKE_REVISION]))).toBe(true));
    }

    // Shrinks after its first chunk went out: the call fails with the file named, nothing is sealed from it.
    const shrinking = path.join(dir, 'shrinking.pdf');
    fs.writeFileSync(shrinking, pdfLike(2 * MiB + 1, 'shrinks'));
    const sealedIds: string[] = [];
    await expect(
      sealBatch(h.client, { sealId: 'org', placement }, [{ id: 'shrinks', file: shrinking }], {
        onChunk: () => fs.truncateSync(shrinking, 10),
        onResult: (r) => void sealedIds.push(r.id),
      }),
    ).rejects.toThrow(/shrinking\.pdf changed while it was being sent/);
    expect(sealedIds).toEqual([]);

    await expect(sealBatch(h.client, { sealId: 'org', placement }, [{ id: 'missing', file: path.join(dir, 'missing.pdf') }])).rejects.toThrow(/ENOENT/);
    await expect(sealBatch(h.client, { sealId: 'org', placement }, [{ id: 'nothing' }])).rejects.toThrow(/neither read\(\) nor file/);
    expect(spoolFiles(h.spoolDir)).toEqual([]);
  });

  it('one broken PDF among good ones: a per-document error, the others sealed, the call OK', async () => {
    h = await startBatchHarness({ sealDocument: refusingBad() });
    const inputs = [
      input('good-1', pdfLike(50_000, 'a')),
      input('broken', pdfLike(50_000, 'BAD')),
      input('good-2', pdfLike(3 * MiB, 'b')),
      input('unknown-seal', pdfLike(10_000, 'c'), { sealId: 'nope' }),
      input('empty', Buffer.alloc(0)),
      input('good-3', pdfLike(70_000, 'd'), { sealId: 'personal' }),
    ];
    const { totals, results } = await runBatch(h, inputs);
    expect(totals).toMatchObject({ documents: 6, sealed: 3, failed: 3 });
    expect(results.get('broken')).toMatchObject({ ok: false, code: 3, status: 'INVALID_ARGUMENT', errorCode: 'PDF_MALFORMED' });
    expect(results.get('unknown-seal')).toMatchObject({ ok: false, status: 'NOT_FOUND', errorCode: 'SEAL_NOT_FOUND' });
    expect(results.get('empty')).toMatchObject({ ok: false, status: 'INVALID_ARGUMENT', errorCode: 'EMPTY_DOCUMENT' });
    const personal = results.get('good-3')!;
    expect(personal.ok && personal.summary.signerSubject).toBe('CN=personal');
    expect(spoolFiles(h.spoolDir)).toEqual([]);
  });

  it('an oversized document is refused as soon as it crosses the limit; its later chunks are dropped', async () => {
    h = await startBatchHarness({ limits: { maxDocumentBytes: 2 * MiB } });
    const { results, totals } = await runBatch(h, [
      input('big', pdfLike(5 * MiB, 'big')),
      input('small', pdfLike(100_000, 'small')),
    ]);
    expect(results.get('big')).toMatchObject({ ok: false, status: 'RESOURCE_EXHAUSTED', errorCode: 'DOCUMENT_TOO_LARGE' });
    expect(results.get('small')?.ok).toBe(true);
    expect(totals.failed).toBe(1);
    expect(spoolFiles(h.spoolDir)).toEqual([]);
  });

  it('interleaved chunks of several documents are reassembled per document; placement overrides apply', async () => {
    const pages: number[] = [];
    const inner = fakeSealDocument();
    h = await startBatchHarness({
      sealDocument: (source, seal, p, o) => {
        pages.push('page' in p ? p.page : 0);
        return inner(source, seal, p, o);
      },
    });
    const a = pdfLike(1_500_000, 'A');
    const b = pdfLike(700_000, 'B');
    const raw = rawBatch(h.client);
    await raw.send({ case: 'header', value: { sealId: 'org', placement } });
    await raw.send({ case: 'start', value: { documentId: 'a' } });
    await raw.send({
      case: 'start',
      value: { documentId: 'b', placement: { kind: { case: 'position', value: { page: 2, x: 10, y: 10 } } } },
    });
    await raw.send({ case: 'chunk', value: { documentId: 'a', data: a.subarray(0, 1_000_000) } });
    await raw.send({ case: 'chunk', value: { documentId: 'b', data: b.subarray(0, 300_000) } });
    await raw.send({ case: 'chunk', value: { documentId: 'a', data: a.subarray(1_000_000) } });
    await raw.send({ case: 'chunk', value: { documentId: 'b', data: b.subarray(300_000) } });
    await raw.send({ case: 'end', value: { documentId: 'b' } });
    await raw.send({ case: 'end', value: { documentId: 'a' } });
    raw.call.end();
    expect((await raw.status).code).toBe(0);
    expect(sealedBytes(raw.responses, 'a').equals(Buffer.concat([a, FAKE_REVISION]))).toBe(true);
    expect(sealedBytes(raw.responses, 'b').equals(Buffer.concat([b, FAKE_REVISION]))).toBe(true);
    expect(raw.responses.filter((r) => r.payload.case === 'sealed').map((r) => r.documentId).sort()).toEqual(['a', 'b']);
    expect(pages.sort()).toEqual([1, 2]);
  });

  it('never seals more than the configured number of documents at once, and advertises it', async () => {
    let running = 0;
    let peak = 0;
    const inner = fakeSealDocument({ delayMs: 30 });
    h = await startBatchHarness({
      batch: { inflightDocuments: 3 },
      sealDocument: async (...args) => {
        running++;
        peak = Math.max(peak, running);
        try {
          return await inner(...args);
        } finally {
          running--;
        }
      },
    });
    // A client that ignores the limit and pipelines everything is held back by the server.
    const raw = rawBatch(h.client);
    expect((await raw.metadata).get('seald-batch-max-inflight')).toEqual(['3']);
    await raw.send({ case: 'header', value: { sealId: 'org', placement } });
    for (let i = 0; i < 15; i++) {
      await raw.send({ case: 'start', value: { documentId: `d${i}` } });
      await raw.send({ case: 'chunk', value: { documentId: `d${i}`, data: pdfLike(20_000, `${i}`) } });
      await raw.send({ case: 'end', value: { documentId: `d${i}` } });
    }
    raw.call.end();
    expect((await raw.status).code).toBe(0);
    expect(raw.responses.filter((r) => r.payload.case === 'sealed')).toHaveLength(15);
    expect(peak).toBe(3);
    // The batch client agrees to the server's limit.
    peak = 0;
    const { totals } = await runBatch(h, Array.from({ length: 9 }, (_, i) => input(`c${i}`, pdfLike(20_000, `${i}`))), 10);
    expect(totals).toMatchObject({ sealed: 9, concurrency: 3 });
    expect(peak).toBe(3);
  });

  it('stops reading and sealing while the client does not read its answers (no unbounded buffering)', async () => {
    let calls = 0;
    const inner = fakeSealDocument();
    h = await startBatchHarness({
      batch: { inflightDocuments: 2 },
      sealDocument: (...args) => {
        calls++;
        return inner(...args);
      },
    });
    // The answers the server may write ahead are bounded by the client's receive window: this client keeps
    // HTTP/2's default (64 KB) instead of the batch client's 32 MiB, so the bound shows with 40 documents of 1 MiB.
    const smallWindow = connectBatch(h.server.address, { 'grpc-node.flow_control_window': 65_535 });
    const raw = rawBatch(smallWindow);
    raw.call.pause();
    const docs = Array.from({ length: 40 }, (_, i) => pdfLike(MiB, `${i}`));
    const sending = (async () => {
      await raw.send({ case: 'header', value: { sealId: 'org', placement } });
      for (const [i, d] of docs.entries()) {
        await raw.send({ case: 'start', value: { documentId: `d${i}` } });
        await raw.send({ case: 'chunk', value: { documentId: `d${i}`, data: d } });
        await raw.send({ case: 'end', value: { documentId: `d${i}` } });
      }
      raw.call.end();
    })();
    // Wait until the server stops making progress, then check how far it went.
    let last = -1;
    while (calls !== last) {
      last = calls;
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    expect(calls).toBeLessThan(docs.length / 2);
    raw.call.resume();
    await sending;
    expect((await raw.status).code).toBe(0);
    expect(calls).toBe(docs.length);
    docs.forEach((d, i) => expect(sealedBytes(raw.responses, `d${i}`).equals(Buffer.concat([d, FAKE_REVISION]))).toBe(true));
    smallWindow.close();
  });

  it('protocol violations fail the call with INVALID_ARGUMENT or RESOURCE_EXHAUSTED and leave no spool file', async () => {
    h = await startBatchHarness({ batch: { inflightDocuments: 2 }, limits: { spoolMemoryBytes: 1000 } });
    const cases: { name: string; steps: BatchRequestPayload[]; code: number; error: string }[] = [
      { name: 'no header', steps: [{ case: 'start', value: { documentId: 'x' } }], code: 3, error: 'HEADER_REQUIRED' },
      {
        name: 'chunk before start',
        steps: [
          { case: 'header', value: { sealId: 'org', placement } },
          { case: 'chunk', value: { documentId: 'x', data: new Uint8Array(5) } },
        ],
        code: 3,
        error: 'DOCUMENT_NOT_STARTED',
      },
      {
        name: 'same id twice',
        steps: [
          { case: 'header', value: { sealId: 'org', placement } },
          { case: 'start', value: { documentId: 'x' } },
          { case: 'chunk', value: { documentId: 'x', data: new Uint8Array(5000) } },
          { case: 'start', value: { documentId: 'x' } },
        ],
        code: 3,
        error: 'DOCUMENT_ID_IN_USE',
      },
      {
        name: 'too many open',
        steps: [
          { case: 'header', value: { sealId: 'org', placement } },
          { case: 'start', value: { documentId: 'x' } },
          { case: 'chunk', value: { documentId: 'x', data: new Uint8Array(5000) } },
          { case: 'start', value: { documentId: 'y' } },
          { case: 'start', value: { documentId: 'z' } },
        ],
        code: 8,
        error: 'TOO_MANY_OPEN_DOCUMENTS',
      },
      {
        name: 'ended with an open document',
        steps: [
          { case: 'header', value: { sealId: 'org', placement } },
          { case: 'start', value: { documentId: 'x' } },
          { case: 'chunk', value: { documentId: 'x', data: new Uint8Array(5000) } },
        ],
        code: 3,
        error: 'DOCUMENT_NOT_ENDED',
      },
    ];
    for (const { name, steps, code, error } of cases) {
      const raw = rawBatch(h.client);
      for (const step of steps) await raw.send(step).catch(() => undefined);
      raw.call.end();
      const status = await raw.status;
      expect([name, status.code, status.metadata.get('seald-error-code')[0]]).toEqual([name, code, error]);
      expect(spoolFiles(h.spoolDir)).toEqual([]);
    }
  });

  it('a cancelled call cancels the seals in flight and removes every spool file', async () => {
    const aborted: boolean[] = [];
    const inner = fakeSealDocument({ delayMs: 5_000 });
    let started!: () => void;
    const sealing = new Promise<void>((resolve) => (started = resolve));
    h = await startBatchHarness({
      limits: { spoolMemoryBytes: 1000 },
      sealDocument: (source, seal, p, o) => {
        o?.signal?.addEventListener('abort', () => aborted.push(true));
        started();
        return inner(source, seal, p, o);
      },
    });
    const raw = rawBatch(h.client);
    await raw.send({ case: 'header', value: { sealId: 'org', placement } });
    await raw.send({ case: 'start', value: { documentId: 'sealing' } });
    await raw.send({ case: 'chunk', value: { documentId: 'sealing', data: pdfLike(50_000, 's') } });
    await raw.send({ case: 'end', value: { documentId: 'sealing' } });
    await raw.send({ case: 'start', value: { documentId: 'uploading' } });
    await raw.send({ case: 'chunk', value: { documentId: 'uploading', data: pdfLike(50_000, 'u') } });
    await sealing;
    // The first seal can start before the second document's chunk is spooled: wait for it.
    for (let i = 0; i < 50 && spoolFiles(h.spoolDir).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(spoolFiles(h.spoolDir).length).toBe(2);
    raw.call.cancel();
    expect((await raw.status).code).toBe(1);
    for (let i = 0; i < 50 && (spoolFiles(h.spoolDir).length > 0 || aborted.length === 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(aborted).toEqual([true]);
    expect(spoolFiles(h.spoolDir)).toEqual([]);
  });
});

describe('SealBatch during a graceful shutdown', () => {
  it('answers the documents received, refuses the one still uploading, then ends with UNAVAILABLE', async () => {
    const inner = fakeSealDocument({ delayMs: 300 });
    let sealing = 0;
    h = await startBatchHarness({
      // Every document spooled to disk, so that the test can see when the server has the partial one (below).
      limits: { spoolMemoryBytes: 1000 },
      sealDocument: (...args) => {
        sealing++;
        return inner(...args);
      },
    });
    const raw = rawBatch(h.client);
    await raw.send({ case: 'header', value: { sealId: 'org', placement } });
    for (const id of ['done-1', 'done-2']) {
      await raw.send({ case: 'start', value: { documentId: id } });
      await raw.send({ case: 'chunk', value: { documentId: id, data: pdfLike(20_000, id) } });
      await raw.send({ case: 'end', value: { documentId: id } });
    }
    await raw.send({ case: 'start', value: { documentId: 'partial' } });
    await raw.send({ case: 'chunk', value: { documentId: 'partial', data: pdfLike(20_000, 'partial') } });
    while (sealing < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    // The second seal can start before the partial document's start and chunk are read: wait (bounded) until its
    // spool file is there beside the two being sealed (each seal takes 300 ms), so the shutdown finds it uploading.
    for (let i = 0; i < 50 && spoolFiles(h.spoolDir).length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const stopped = h.server.shutdown('test');
    const status = await raw.status;
    await stopped;
    expect([status.code, status.metadata.get('seald-error-code')[0]]).toEqual([14, 'SERVER_DRAINING']);
    expect(raw.responses.filter((r) => r.payload.case === 'sealed').map((r) => r.documentId).sort()).toEqual(['done-1', 'done-2']);
    const refused = raw.responses.find((r) => r.documentId === 'partial')!;
    expect(refused.payload.case === 'error' && refused.payload.value.errorCode).toBe('SERVER_DRAINING');
    expect(spoolFiles(h.spoolDir)).toEqual([]);
  });
});

describe('SealBatch idempotency', () => {
  it('answers a re-sent document again without sealing it twice, even after a restart; other bytes or options seal', async () => {
    let seals = 0;
    const inner = fakeSealDocument();
    const counting: typeof sealDocument = (...args) => {
      seals++;
      return inner(...args);
    };
    h = await startBatchHarness({ sealDocument: counting });
    const doc = pdfLike(400_000, 'contract');
    const first = await runBatch(h, [input('contract-7', doc)]);
    expect(first.totals).toMatchObject({ sealed: 1, replayed: 0 });
    expect(seals).toBe(1);

    const again = await runBatch(h, [input('contract-7', doc), input('contract-7b', doc)]);
    expect(again.totals).toMatchObject({ sealed: 1, replayed: 1 });
    expect(again.results.get('contract-7')).toMatchObject({ ok: true, replayed: true });
    expect(again.bytes('contract-7').equals(first.bytes('contract-7'))).toBe(true);
    const [firstResult, replay] = [first.results.get('contract-7')!, again.results.get('contract-7')!];
    expect(firstResult.ok && replay.ok && replay.summary.signingTime).toEqual(firstResult.ok && firstResult.summary.signingTime);
    expect(seals).toBe(2); // contract-7b: another id

    const changed = Buffer.from(doc);
    changed[1000] = 0x41;
    const otherBytes = await runBatch(h, [input('contract-7', changed)]);
    expect(otherBytes.totals.sealed).toBe(1);
    const otherOptions = await runBatch(h, [input('contract-7', doc, { options: { reason: 'another reason' } })]);
    expect(otherOptions.totals.sealed).toBe(1);
    expect(seals).toBe(4);

    // A new server on the same data directory still answers from disk.
    const idempotencyDir = path.join(h.root, 'idempotency');
    const keep = fs.mkdtempSync(path.join(path.dirname(h.root), 'seald-batch-keep-'));
    fs.cpSync(idempotencyDir, keep, { recursive: true });
    await h.close();
    h = await startBatchHarness({ sealDocument: counting, batch: { idempotencyDir: keep } });
    const afterRestart = await runBatch(h, [input('contract-7', doc)]);
    expect(afterRestart.totals).toMatchObject({ sealed: 0, replayed: 1 });
    expect(afterRestart.bytes('contract-7').equals(first.bytes('contract-7'))).toBe(true);
    expect(seals).toBe(4);
    fs.rmSync(keep, { recursive: true, force: true });
  });

  it('a document re-sent while its first seal still runs waits for it instead of sealing twice', async () => {
    let seals = 0;
    const inner = fakeSealDocument({ delayMs: 300 });
    h = await startBatchHarness({
      sealDocument: (...args) => {
        seals++;
        return inner(...args);
      },
    });
    const doc = pdfLike(10_000, 'twice');
    const [one, two] = await Promise.all([runBatch(h, [input('dup', doc)]), runBatch(h, [input('dup', doc)])]);
    expect(seals).toBe(1);
    expect([one.totals.replayed + two.totals.replayed, one.totals.sealed + two.totals.sealed]).toEqual([1, 1]);
    expect(one.bytes('dup').equals(two.bytes('dup'))).toBe(true);
  });

  it('with a zero window every document is sealed', async () => {
    let seals = 0;
    const inner = fakeSealDocument();
    h = await startBatchHarness({
      batch: { idempotencyWindowSeconds: 0 },
      sealDocument: (...args) => {
        seals++;
        return inner(...args);
      },
    });
    const doc = pdfLike(10_000, 'x');
    await runBatch(h, [input('same', doc)]);
    const again = await runBatch(h, [input('same', doc)]);
    expect(again.totals).toMatchObject({ sealed: 1, replayed: 0 });
    expect(seals).toBe(2);
  });
});
