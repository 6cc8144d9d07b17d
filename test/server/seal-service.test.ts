/**
 * The gRPC edge with a stand-in engine: framing, limits, status codes, cancellation, health, reflection, metrics,
 * shutdown. (test/server/e2e.test.ts runs the same server with the real engine, tokens and PDFs.)
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSeals, sealdErrorCode, sealRemote } from '../../src/cli/client.ts';
import { SealdError } from '../../src/errors.ts';
import {
  SealHeaderSchema,
  SealKind,
  SealRequestSchema,
  type SealHeader,
  type SealRequest,
  type SealResponse,
} from '../../src/gen/seald/v1/seald_pb.ts';
import {
  FAKE_REVISION,
  fakeSealDocument,
  healthCheck,
  reflect,
  spoolFiles,
  startHarness,
  watchHealth,
  type Harness,
} from './harness.ts';

const MiB = 1024 * 1024;

type HeaderInit = MessageInitShape<typeof SealHeaderSchema>;

function header(sealId = 'org', extra: Partial<Record<'placement' | 'options' | 'documentSize', unknown>> = {}): SealHeader {
  const init = {
    sealId,
    placement: { kind: { case: 'position', value: { page: 1, x: 100, y: 100 } } },
    options: { reason: 'test' },
    ...extra,
  };
  return create(SealHeaderSchema, init as HeaderInit);
}

function document(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 10)) & 0xff;
  bytes.set(new TextEncoder().encode('%PDF-1.7\n'));
  return bytes;
}

async function* pieces(bytes: Uint8Array, size = MiB): AsyncIterable<Uint8Array> {
  for (let o = 0; o < bytes.byteLength; o += size) yield bytes.subarray(o, Math.min(o + size, bytes.byteLength));
}

async function seal(h: Harness, head: SealHeader, body: Uint8Array, options: Parameters<typeof sealRemote>[4] = {}) {
  const out: Uint8Array[] = [];
  const summary = await sealRemote(h.client, head, pieces(body), (chunk) => void out.push(chunk), options);
  return { summary, chunks: out, output: Buffer.concat(out) };
}

/** A raw Seal call: send these messages (then end, unless told not to) and collect the outcome. */
function rawSeal(
  h: Harness,
  messages: SealRequest[],
  options: { end?: boolean } = {},
): Promise<{ status: grpc.StatusObject; received: SealResponse[] }> {
  const call = h.client.seal();
  const received: SealResponse[] = [];
  call.on('data', (message: SealResponse) => received.push(message));
  call.on('error', () => undefined); // the status event carries it
  for (const message of messages) call.write(message);
  if (options.end !== false) call.end();
  return new Promise((resolve) => call.on('status', (status: grpc.StatusObject) => resolve({ status, received })));
}

const chunkRequest = (bytes: Uint8Array): SealRequest =>
  create(SealRequestSchema, { payload: { case: 'chunk', value: bytes } });
const headerRequest = (head: SealHeader): SealRequest =>
  create(SealRequestSchema, { payload: { case: 'header', value: head } });

describe('SealService with a stand-in engine', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ metrics: true, limits: { maxDocumentBytes: 8 * MiB, spoolMemoryBytes: MiB } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('streams back the original bytes, then the new revision, then the summary', async () => {
    const input = document(3 * MiB + 12345); // over the memory threshold: spooled to a file
    const { summary, chunks, output } = await seal(h, header('org', { options: { fieldName: 'Approval' } }), input);
    expect(output.subarray(0, input.byteLength).equals(input)).toBe(true);
    expect(output.subarray(input.byteLength).equals(FAKE_REVISION)).toBe(true);
    expect(Math.max(...chunks.map((c) => c.byteLength))).toBeLessThanOrEqual(MiB);
    expect(summary.fieldName).toBe('Approval');
    expect(summary.revision).toBe(2);
    expect(summary.documentSize).toBe(BigInt(output.byteLength));
    expect(summary.byteRange).toHaveLength(4);
    expect(summary.digestAlgorithm).toBe('SHA-256');
    expect(summary.signerSubject).toBe('CN=org');
    expect(timestampDate(summary.signingTime!).toISOString()).toBe('2025-01-02T03:04:05.000Z');
    expect(summary.pages).toEqual([1]);
    expect(spoolFiles(h.spoolDir)).toEqual([]);
  });

  it('seals a small document held in memory', async () => {
    const input = document(2000);
    const { output } = await seal(h, header('personal'), input);
    expect(output.byteLength).toBe(2000 + FAKE_REVISION.byteLength);
    expect(output.subarray(0, 2000).equals(input)).toBe(true);
  });

  it('lists the configured seals', async () => {
    const { seals } = await listSeals(h.client);
    expect(seals.map((s) => s.id)).toEqual(['org', 'personal']);
    expect(seals[0]!.kind).toBe(SealKind.ORGANIZATION);
    expect(seals[1]!.kind).toBe(SealKind.PERSONAL);
    expect(seals[0]!.certificate?.subject).toBe('CN=org');
    expect(seals[0]!.certificate?.keyAlgorithm).toBe('EC prime256v1');
    expect(timestampDate(seals[0]!.certificate!.notAfter!).getUTCFullYear()).toBe(2035);
    expect(seals[0]!.available).toBe(true);
  });

  it('refuses a first message that is not a header: INVALID_ARGUMENT', async () => {
    const { status } = await rawSeal(h, [chunkRequest(document(100))]);
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/first message .* must be a header/);
    expect(status.metadata.get('seald-error-code')).toEqual(['HEADER_REQUIRED']);
  });

  it('refuses an empty stream and a second header: INVALID_ARGUMENT', async () => {
    expect((await rawSeal(h, [])).status.code).toBe(grpc.status.INVALID_ARGUMENT);
    const twice = await rawSeal(h, [headerRequest(header()), chunkRequest(document(10)), headerRequest(header())]);
    expect(twice.status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(twice.status.metadata.get('seald-error-code')).toEqual(['HEADER_REPEATED']);
  });

  it('refuses an empty document and a bad placement: INVALID_ARGUMENT', async () => {
    expect((await rawSeal(h, [headerRequest(header())])).status.metadata.get('seald-error-code')).toEqual([
      'EMPTY_DOCUMENT',
    ]);
    const noPlacement = await rawSeal(h, [headerRequest(create(SealHeaderSchema, { sealId: 'org' }))]);
    expect(noPlacement.status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noPlacement.status.details).toMatch(/placement/);
    const page0 = header('org', { placement: { kind: { case: 'position', value: { page: 0, x: 1, y: 1 } } } });
    expect((await rawSeal(h, [headerRequest(page0)])).status.details).toMatch(/page must be 1 or more/);
    const badWidth = header('org', {
      placement: { kind: { case: 'position', value: { page: 1, x: 1, y: 1, width: -3 } } },
    });
    expect((await rawSeal(h, [headerRequest(badWidth)])).status.metadata.get('seald-error-code')).toEqual([
      'SIZE_INVALID',
    ]);
  });

  it('answers NOT_FOUND for an unknown seal before the document is sent', async () => {
    // The client sends only the header and never ends the stream: the answer must not wait for the body.
    const { status } = await rawSeal(h, [headerRequest(header('nope'))], { end: false });
    expect(status.code).toBe(grpc.status.NOT_FOUND);
    expect(status.details).toBe('unknown seal "nope"');
    expect(status.metadata.get('seald-error-code')).toEqual(['SEAL_NOT_FOUND']);
  });

  it('answers UNAVAILABLE before the upload when the seal key is on no ready token', async () => {
    h.available.delete('org');
    try {
      const { status } = await rawSeal(h, [headerRequest(header('org'))], { end: false });
      expect(status.code).toBe(grpc.status.UNAVAILABLE);
      expect(status.metadata.get('seald-error-code')).toEqual(['SEAL_UNAVAILABLE']);
    } finally {
      h.available.add('org');
    }
  });

  it('answers RESOURCE_EXHAUSTED at once when the size hint is over the limit', async () => {
    const { status } = await rawSeal(h, [headerRequest(header('org', { documentSize: BigInt(9 * MiB) }))], {
      end: false,
    });
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/exceeds the limit of 8388608 bytes/);
  });

  it('answers RESOURCE_EXHAUSTED as soon as the upload crosses the limit, and leaves no spool file', async () => {
    const error = await seal(h, header(), document(12 * MiB)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    expect(sealdErrorCode(error)).toBe('DOCUMENT_TOO_LARGE');
    expect(spoolFiles(h.spoolDir)).toEqual([]);
  });

  it('refuses a message over the receive limit (chunks must be ≤ 1 MiB)', async () => {
    const { status } = await rawSeal(h, [headerRequest(header()), chunkRequest(document(2 * MiB))]);
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(spoolFiles(h.spoolDir)).toEqual([]);
  });

  it('survives a client cancelling mid-upload: no spool file left, next call served', async () => {
    const call = h.client.seal();
    call.on('error', () => undefined);
    call.on('data', () => undefined);
    const cancelled = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.write(headerRequest(header()));
    for (let i = 0; i < 3; i++) call.write(chunkRequest(document(MiB))); // 3 MiB: past the memory threshold
    await waitFor(() => spoolFiles(h.spoolDir).length === 1);
    call.cancel();
    expect((await cancelled).code).toBe(grpc.status.CANCELLED);
    await waitFor(() => spoolFiles(h.spoolDir).length === 0);
    await waitFor(async () => (await gauge(h, 'seald_inflight_documents')) === 0);
    const { output } = await seal(h, header(), document(5000));
    expect(output.byteLength).toBe(5000 + FAKE_REVISION.byteLength);
    expect(h.logs.filter((line) => JSON.parse(line).level >= 50)).toEqual([]); // no error log
  });

  it('maps engine errors to their status, and hides internal ones', async () => {
    const refused = await startHarness({
      sealDocument: fakeSealDocument({ fail: new SealdError('precondition', 'PDF_ENCRYPTED', 'the document is encrypted') }),
    });
    const broken = await startHarness({ sealDocument: fakeSealDocument({ fail: new TypeError('oops at offset 7') }) });
    try {
      const e1 = await seal(refused, header(), document(100)).catch((e: unknown) => e);
      expect(e1).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: 'the document is encrypted' });
      expect(sealdErrorCode(e1)).toBe('PDF_ENCRYPTED');
      const e2 = await seal(broken, header(), document(100), { requestId: 'req-42' }).catch((e: unknown) => e);
      expect(e2).toMatchObject({ code: grpc.status.INTERNAL, details: 'internal error (request req-42)' });
      const logged = broken.logs.map((line) => JSON.parse(line)).find((entry) => entry.level === 50);
      expect(logged.requestId).toBe('req-42');
      expect(logged.err.message).toBe('oops at offset 7');
    } finally {
      await refused.close();
      await broken.close();
    }
  });

  it('aborts the engine when the deadline passes', async () => {
    let engineSignal: AbortSignal | undefined;
    const slow = await startHarness({
      sealDocument: fakeSealDocument({ delayMs: 30_000, onCall: (signal) => (engineSignal = signal) }),
    });
    try {
      const error = await seal(slow, header(), document(100), { deadline: new Date(Date.now() + 500) }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
      await waitFor(() => engineSignal?.aborted === true);
      expect(engineSignal!.reason).toMatchObject({ category: 'deadline' });
    } finally {
      await slow.close();
    }
  });

  it('reports health: SERVING while every seal key is available', async () => {
    expect(await healthCheck(h.server.address)).toBe('SERVING');
    expect(await healthCheck(h.server.address, 'seald.v1.SealService')).toBe('SERVING');
    h.available.delete('personal');
    await waitFor(async () => (await healthCheck(h.server.address)) === 'NOT_SERVING');
    const { seals } = await listSeals(h.client);
    expect(seals.find((s) => s.id === 'personal')!.available).toBe(false);
    h.available.add('personal');
    await waitFor(async () => (await healthCheck(h.server.address)) === 'SERVING');
  });

  it('lists seald.v1.SealService through server reflection, with its descriptors', async () => {
    const { services } = await reflect(h.server.address, { listServices: '' });
    expect(services).toContain('seald.v1.SealService');
    expect(services).toContain('grpc.health.v1.Health');
    const { files } = await reflect(h.server.address, { fileContainingSymbol: 'seald.v1.SealService' });
    const names = files.map((f) => f.name);
    expect(names).toContain('seald/v1/seald.proto');
    expect(names).toContain('google/protobuf/timestamp.proto');
    const sealFile = files.find((f) => f.name === 'seald/v1/seald.proto')!;
    expect(sealFile.service[0]!.method.map((m) => m.name)).toEqual(['Seal', 'ListSeals', 'Locate']);
  });

  it('exports metrics at /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${h.server.metricsPort}/metrics`)).text();
    expect(text).toMatch(/seald_seal_requests_total\{seal="org",code="OK"\} \d+/);
    expect(text).toMatch(/seald_seal_requests_total\{seal="\(none\)",code="INVALID_ARGUMENT"\} \d+/);
    expect(text).toMatch(/seald_seal_requests_total\{seal="org",code="RESOURCE_EXHAUSTED"\} \d+/);
    expect(text).toContain('seald_seal_duration_seconds_bucket');
    expect(text).toContain('seald_document_bytes_bucket');
    expect(text).toContain('seald_inflight_documents 0');
    expect(text).toContain('process_cpu_seconds_total');
    expect((await fetch(`http://127.0.0.1:${h.server.metricsPort}/other`)).status).toBe(404);
  });
});

describe('graceful shutdown', () => {
  it('lets an in-flight call finish, refuses new ones, then stops', async () => {
    const h = await startHarness({ sealDocument: fakeSealDocument({ delayMs: 700 }) });
    const inflight = seal(h, header(), document(1000));
    await waitFor(async () => (await gauge(h, 'seald_inflight_documents')) === 1);
    const stopping = h.server.shutdown('test');
    expect(h.server.health.status).toBe('NOT_SERVING');
    const { output } = await inflight;
    expect(output.byteLength).toBe(1000 + FAKE_REVISION.byteLength);
    await stopping;
    const late = await seal(h, header(), document(10), { deadline: new Date(Date.now() + 2000) }).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: expect.any(Number) });
    await h.close();
  });

  it('does not wait the drain time for a health Watch stream that never ends', async () => {
    const h = await startHarness({ limits: { drainSeconds: 30 } });
    const watch = watchHealth(h.server.address);
    expect(await watch.next()).toBe('SERVING');
    const started = Date.now();
    await h.server.shutdown('test');
    expect(Date.now() - started).toBeLessThan(3000);
    watch.close();
    await h.close();
  });

  it('cancels calls still running after the drain time', async () => {
    let engineSignal: AbortSignal | undefined;
    const h = await startHarness({
      sealDocument: fakeSealDocument({ delayMs: 60_000, onCall: (signal) => (engineSignal = signal) }),
      limits: { drainSeconds: 0.3 },
    });
    const inflight = seal(h, header(), document(1000)).catch((e: unknown) => e);
    await waitFor(() => engineSignal !== undefined);
    const started = Date.now();
    await h.server.shutdown('test');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(engineSignal!.aborted).toBe(true);
    expect(await inflight).toMatchObject({ code: expect.any(Number) });
    expect(spoolFiles(h.spoolDir)).toEqual([]);
    await h.close();
  });
});

async function gauge(h: Harness, name: string): Promise<number> {
  const metric = await h.server.metrics.registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value ?? NaN;
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
