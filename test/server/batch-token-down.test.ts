/**
 * SealBatch with the seal's tokens removed mid-batch: a real seald server over two SoftHSM tokens holding the seal's
 * key (test/pool/service-setup.ts), the fault injector around the real module making every sign and every session
 * open fail as a pulled device does, then the device coming back. Every document gets exactly one answer — sealed,
 * or failed with UNAVAILABLE and its reason — none is silently not run, the call itself ends OK; sent again, the
 * failed ones are sealed and the sealed ones are answered from the idempotency store, never signed twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { connectBatch, sealBatch, type BatchClient, type BatchInput, type BatchResult } from '../../src/cli/batch-client.ts';
import { paddedPdf, startService, type ServiceSetup } from '../pool/service-setup.ts';
import { isPrefix, pdfsig, qpdfCheck } from '../support/tools.ts';
import { healthCheck, spoolFiles } from './harness.ts';

const placement = { kind: { case: 'position' as const, value: { page: 1, x: 200, y: 300 } } };

let svc: ServiceSetup;
let client: BatchClient;
let dir: string;

beforeAll(async () => {
  svc = await startService();
  client = connectBatch(svc.server.address);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-batch-token-down-'));
}, 120_000);

afterAll(async () => {
  client?.close();
  if (svc !== undefined) {
    const { injector, spoolDir } = svc;
    await svc.close();
    expect(injector.violations).toEqual([]);
    expect(spoolFiles(spoolDir)).toEqual([]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SealBatch with the seal\'s tokens removed mid-batch (SoftHSM, injected faults)', () => {
  it('every document ends sealed exactly once or failed with its reason; none is left not run', async () => {
    // 36 documents, half of them large enough that their refusal arrives while they still upload.
    const bytes = await Promise.all(
      Array.from({ length: 36 }, (_, i) => paddedPdf(i % 2 === 1 ? 1024 * 1024 : 20_000 + i * 1000)),
    );
    const files = bytes.map((b, i) => {
      const file = path.join(dir, `doc-${String(i).padStart(2, '0')}.pdf`);
      fs.writeFileSync(file, b);
      return file;
    });
    const inputs: BatchInput[] = files.map((file, i) => ({ id: path.basename(file), file, size: bytes[i]!.byteLength }));
    const { injector } = svc;

    const batchPass = async (pass: string, onResult?: (r: BatchResult) => void) => {
      const results = new Map<string, BatchResult[]>();
      const chunks = new Map<string, Buffer[]>();
      const totals = await sealBatch(client, { sealId: 'org', placement }, inputs, {
        concurrency: 8,
        onChunk: (id, chunk) => void chunks.set(id, [...(chunks.get(id) ?? []), Buffer.from(chunk)]),
        onResult(result) {
          results.set(result.id, [...(results.get(result.id) ?? []), result]);
          if (result.ok) fs.writeFileSync(path.join(dir, `${pass}-${result.id}`), Buffer.concat(chunks.get(result.id)!));
          chunks.delete(result.id);
          onResult?.(result);
        },
      });
      return { totals, results };
    };

    // Pass 1: after 4 documents are sealed, the device goes away (every sign and session open fails on both
    // tokens); after 16 refusals it comes back, and the health probes bring the tokens up again.
    let sealedCount = 0;
    let failedCount = 0;
    let faults: ReturnType<typeof injector.add>[] = [];
    const first = await batchPass('first', (result) => {
      if (result.ok) sealedCount++;
      else failedCount++;
      if (sealedCount === 4 && faults.length === 0 && failedCount === 0) {
        faults = [
          injector.add({ call: 'C_Sign', ckr: 'CKR_DEVICE_REMOVED' }),
          injector.add({ call: 'C_SignInit', ckr: 'CKR_DEVICE_REMOVED' }),
          injector.add({ call: 'C_OpenSession', ckr: 'CKR_TOKEN_NOT_PRESENT' }),
        ];
      }
      if (failedCount >= 16) for (const fault of faults.splice(0)) injector.remove(fault);
    });
    for (const fault of faults) injector.remove(fault);
    expect(first.totals.documents).toBe(36);
    expect(first.results.size).toBe(36); // every document answered…
    for (const [id, answers] of first.results) expect([id, answers.length]).toEqual([id, 1]); // …exactly once
    const failed = [...first.results.values()].map((a) => a[0]!).filter((r) => !r.ok);
    expect(failed.length).toBeGreaterThanOrEqual(16);
    for (const r of failed) {
      // The reason, as a retryable status: the client knows to send it again.
      expect(r.ok === false && [r.code, r.errorCode !== '', r.message !== '']).toEqual([Status.UNAVAILABLE, true, true]);
    }
    expect(first.totals.sealed + first.totals.failed).toBe(36);

    // Pass 2, once the pool serves again: the same 36 documents. The failed ones are sealed now; the ones sealed in
    // pass 1 are replays (same bytes as pass 1), so no document was signed twice.
    for (const until = Date.now() + 30_000; (await healthCheck(svc.server.address)) !== 'SERVING'; ) {
      if (Date.now() > until) throw new Error('the pool did not serve again');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const signsBefore = injector.count('C_Sign');
    const second = await batchPass('second');
    expect(second.totals).toMatchObject({ documents: 36, failed: 0, sealed: failed.length, replayed: 36 - failed.length });
    expect(injector.count('C_Sign') - signsBefore).toBe(failed.length);
    for (const input of inputs) {
      const firstAnswer = first.results.get(input.id)![0]!;
      const secondAnswer = second.results.get(input.id)![0]!;
      expect(secondAnswer.ok).toBe(true);
      if (firstAnswer.ok) {
        expect(secondAnswer.ok && secondAnswer.replayed).toBe(true);
        expect(fs.readFileSync(path.join(dir, `second-${input.id}`)).equals(fs.readFileSync(path.join(dir, `first-${input.id}`)))).toBe(true);
      }
    }
    // A sample checked by independent tools: one sealed before the fault, one sealed only on the second pass.
    const sample = [inputs.find((i) => first.results.get(i.id)![0]!.ok)!, inputs.find((i) => !first.results.get(i.id)![0]!.ok)!];
    for (const input of sample) {
      const output = path.join(dir, `second-${input.id}`);
      expect(await isPrefix(input.file!, output)).toBe(true);
      const report = await pdfsig(output, { trustCaPems: [svc.caPem] });
      expect(report.signatures.at(-1)!.validationText).toBe('Signature is Valid.');
      expect((await qpdfCheck(output)).status).not.toBe('errors');
    }
  }, 240_000);
});
