/**
 * SealBatch when documents fail before the client has finished sending them (a seal whose token is down, a document
 * over the size limit): such a failure must free the document's place at once on both sides, whatever order the
 * answer and the client's end cross in, and must never end the call. Real gRPC, spool and handlers, a stand-in
 * engine; test/server/batch-token-down.test.ts does the same on the real SoftHSM token with injected faults.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sealBatch, type BatchInput, type BatchResult } from '../../src/cli/batch-client.ts';
import { rawBatch, startBatchHarness, type BatchHarness } from './batch-harness.ts';
import { spoolFiles } from './harness.ts';

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

describe('SealBatch: a document that fails before its end', () => {
  it('does not count against the in-flight limit: N failed-before-end documents, then more starts, the call ends OK', async () => {
    // The case found on the remote HSM: the seal's only token down, every start is refused at once (SEAL_UNAVAILABLE)
    // while its bytes are still on the way; the client, told the document is finished, starts the next one before
    // it has sent the failed one's end. Before the fix the server counted those as open and failed the whole call
    // with RESOURCE_EXHAUSTED "more than 4 documents started and not ended".
    h = await startBatchHarness({ batch: { inflightDocuments: 4 } });
    h.available.delete('org');
    const raw = rawBatch(h.client);
    // An answer, or the call's end as an error (it must not end before every document is answered).
    const errorFor = (id: string) =>
      Promise.race([
        raw.waitFor((r) => r.documentId === id && r.payload.case === 'error'),
        raw.status.then((s) => Promise.reject(new Error(`the call ended before ${id} was answered: ${s.code} ${s.details}`))),
      ]);
    await raw.send({ case: 'header', value: { sealId: 'org', placement } });
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (const id of ids.slice(0, 4)) {
      await raw.send({ case: 'start', value: { documentId: id } });
      await raw.send({ case: 'chunk', value: { documentId: id, data: new Uint8Array(2000) } });
    }
    for (const id of ids.slice(0, 4)) await errorFor(id);
    // Four more started while the first four are still not ended: each is answered, the call goes on.
    for (const id of ids.slice(4)) {
      await raw.send({ case: 'start', value: { documentId: id } });
      await raw.send({ case: 'chunk', value: { documentId: id, data: new Uint8Array(2000) } });
      await errorFor(id);
    }
    // The ends cross the answers: late chunks and ends of failed documents are accepted and dropped.
    for (const id of ids) {
      await raw.send({ case: 'chunk', value: { documentId: id, data: new Uint8Array(10) } });
      await raw.send({ case: 'end', value: { documentId: id } });
    }
    raw.call.end();
    const status = await raw.status;
    expect([status.code, status.details]).toEqual([0, 'OK']);
    const errors = raw.responses.filter((r) => r.payload.case === 'error');
    expect(errors.map((r) => r.documentId).sort()).toEqual(ids);
    for (const r of errors) expect(r.payload.case === 'error' && r.payload.value.errorCode).toBe('SEAL_UNAVAILABLE');
    expect(spoolFiles(h.spoolDir)).toEqual([]);
  });

  it('still refuses more than N documents open that were not answered (the deadlock the limit exists for)', async () => {
    h = await startBatchHarness({ batch: { inflightDocuments: 2 } });
    const raw = rawBatch(h.client);
    await raw.send({ case: 'header', value: { sealId: 'org', placement } });
    for (const id of ['x', 'y', 'z']) {
      await raw.send({ case: 'start', value: { documentId: id } }).catch(() => undefined);
      await raw.send({ case: 'chunk', value: { documentId: id, data: new Uint8Array(5000) } }).catch(() => undefined);
    }
    raw.call.end();
    const status = await raw.status;
    expect([status.code, status.metadata.get('seald-error-code')[0]]).toEqual([8, 'TOO_MANY_OPEN_DOCUMENTS']);
  });

  it('the batch client: a seal down for a whole run of large documents gives every document its own answer', async () => {
    h = await startBatchHarness({ batch: { inflightDocuments: 3 } });
    h.available.delete('org');
    // Large enough that each refusal arrives while the document is still uploading.
    const inputs: BatchInput[] = Array.from({ length: 12 }, (_, i) => {
      const bytes = pdfLike(3 * 1024 * 1024, `doc-${i}`);
      return {
        id: `doc-${i}`,
        size: bytes.length,
        async *read() {
          for (let offset = 0; offset < bytes.length; offset += 256 * 1024) yield bytes.subarray(offset, offset + 256 * 1024);
        },
      };
    });
    const results: BatchResult[] = [];
    const totals = await sealBatch(h.client, { sealId: 'org', placement }, inputs, {
      concurrency: 8,
      answer: 'full',
      onResult: (result) => void results.push(result),
    });
    expect(totals).toMatchObject({ documents: 12, sealed: 0, failed: 12 });
    expect(results.map((r) => r.id).sort()).toEqual(inputs.map((i) => i.id).sort());
    for (const r of results) expect(r.ok === false && r.errorCode).toBe('SEAL_UNAVAILABLE');
    expect(spoolFiles(h.spoolDir)).toEqual([]);
  });
});
