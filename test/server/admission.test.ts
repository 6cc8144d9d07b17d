/**
 * Admission control through the real gRPC server (harness with a stand-in engine that holds each document for a
 * while): a bounded number of documents at once, a bounded queue that waits within the caller's deadline, refusal
 * in milliseconds when full, and a spool budget enforced before and during the upload. Every refusal leaves no
 * spool file and gives its place back.
 */
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealdErrorCode, sealRemote } from '../../src/cli/client.ts';
import { SealHeaderSchema, type SealHeader } from '../../src/gen/seald/v1/seald_pb.ts';
import { Admission } from '../../src/server/admission.ts';
import { fakeSealDocument, spoolFiles, startHarness, type Harness } from './harness.ts';

function header(documentSize?: number): SealHeader {
  return create(SealHeaderSchema, {
    sealId: 'org',
    placement: { kind: { case: 'position', value: { page: 1, x: 100, y: 100 } } },
    ...(documentSize === undefined ? {} : { documentSize: BigInt(documentSize) }),
  });
}

const pdf = (size: number) => {
  const bytes = new Uint8Array(size).fill(0x20);
  bytes.set(new TextEncoder().encode('%PDF-1.7\n'));
  return bytes;
};

async function seal(h: Harness, head: SealHeader, body: Uint8Array, deadlineMs = 20_000): Promise<{ ok: boolean; code?: number; sealdCode?: string; ms: number }> {
  const started = Date.now();
  try {
    await sealRemote(h.client, head, (async function* () {
      yield body;
    })(), () => undefined, { deadline: new Date(Date.now() + deadlineMs) });
    return { ok: true, ms: Date.now() - started };
  } catch (error) {
    return { ok: false, code: (error as grpc.ServiceError).code, sealdCode: sealdErrorCode(error), ms: Date.now() - started };
  }
}

describe('admission control', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      sealDocument: fakeSealDocument({ delayMs: 600 }),
      limits: { maxConcurrentDocuments: 1, maxQueuedDocuments: 1, maxSpooledBytes: 1024 * 1024, spoolMemoryBytes: 64 * 1024 },
    });
  });

  afterAll(async () => {
    const spoolDir = h?.spoolDir;
    await h?.close();
    if (spoolDir) expect(spoolFiles(spoolDir)).toEqual([]);
  });

  it('one in progress, one queued, the next refused at once with RESOURCE_EXHAUSTED; the queued one then runs', async () => {
    const first = seal(h, header(), pdf(1000));
    await new Promise((r) => setTimeout(r, 150));
    const second = seal(h, header(), pdf(1000));
    await new Promise((r) => setTimeout(r, 150));
    const third = await seal(h, header(), pdf(1000));
    expect(third).toMatchObject({ ok: false, code: grpc.status.RESOURCE_EXHAUSTED, sealdCode: 'SERVER_BUSY' });
    expect(third.ms).toBeLessThan(500); // refused while the others still run: not after them
    expect((await first).ok).toBe(true);
    expect((await second).ok).toBe(true);
  });

  it('a queued call whose deadline passes gets DEADLINE_EXCEEDED and leaves the queue', async () => {
    const first = seal(h, header(), pdf(1000));
    await new Promise((r) => setTimeout(r, 150));
    const hurried = await seal(h, header(), pdf(1000), 200);
    expect(hurried).toMatchObject({ ok: false, code: grpc.status.DEADLINE_EXCEEDED });
    expect((await first).ok).toBe(true);
    // Its place in the queue is free again: a call now waits and succeeds.
    expect((await seal(h, header(), pdf(1000))).ok).toBe(true);
  });

  it('the spool budget: an announced size over it is refused before the upload, an unannounced one during it', async () => {
    expect(await seal(h, header(2 * 1024 * 1024), pdf(2 * 1024 * 1024))).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, sealdCode: 'SPOOL_FULL' });
    expect(await seal(h, header(), pdf(1536 * 1024))).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, sealdCode: 'SPOOL_FULL' });
    expect(spoolFiles(h.spoolDir)).toEqual([]);
    const metrics = await h.server.metrics.registry.metrics();
    expect(metrics).toMatch(/^seald_spooled_bytes 0$/m);
    expect(metrics).toMatch(/^seald_admission_queued_documents 0$/m);
    expect((await seal(h, header(900 * 1024), pdf(900 * 1024))).ok).toBe(true);
  });
});

describe('Admission on its own', () => {
  it('refuses new calls after close() with UNAVAILABLE, lets queued ones through', async () => {
    const admission = new Admission({ maxConcurrentDocuments: 1, maxQueuedDocuments: 4, maxSpooledBytes: 100 });
    const held = await admission.admit(new AbortController().signal);
    const queued = admission.admit(new AbortController().signal, 10);
    admission.close();
    await expect(admission.admit(new AbortController().signal)).rejects.toMatchObject({ category: 'unavailable', code: 'SHUTTING_DOWN' });
    held.release();
    const ticket = await queued;
    expect(admission.spooledBytes).toBe(10);
    ticket.reserve(30); // 10 announced + 20 more
    expect(admission.spooledBytes).toBe(30);
    expect(() => ticket.reserve(80)).toThrow(expect.objectContaining({ code: 'SPOOL_FULL' }));
    ticket.release();
    ticket.release();
    expect([admission.active, admission.spooledBytes, admission.queued]).toEqual([0, 0, 0]);
  });
});
