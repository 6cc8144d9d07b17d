/**
 * SIGTERM during a load run, on a real `seald serve` child process (embedded defaults on a temp data dir: SoftHSM
 * token, dev CA): the documents in flight are all returned whole and valid, calls made after the signal are refused
 * with UNAVAILABLE, the process exits 0 after closing the pool, and no spool file is left.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { connect, isServiceError, sealRemote } from '../../src/cli/client.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { fixture } from '../fixtures/index.ts';
import { startServe } from '../deploy/serve-process.ts';
import { extractSignatures, opensslCmsVerify } from '../support/tools.ts';

const header = create(SealHeaderSchema, { sealId: 'org', placement: { kind: { case: 'position', value: { page: 1, x: 200, y: 300 } } } });

describe('seald serve under load, then SIGTERM', () => {
  it('finishes the documents in flight, refuses new calls, exits 0, leaves no spool file', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-sigterm-'));
    // A small memory threshold: the 170 kB documents are spooled to temp files, which must all be gone at exit.
    const { child, address, lines, exited, stderr } = await startServe(['--data-dir', dataDir, '--metrics', 'off'], { SEALD_SPOOL_MEMORY_BYTES: '65536' });
    try {
      const documents = [await fs.promises.readFile(await fixture('pages-300')), await fs.promises.readFile(await fixture('cjk-contract'))];
      const client = connect(address);
      let done = 0;
      let firstDone!: () => void;
      const first = new Promise<void>((resolve) => (firstDone = resolve));
      const inflight = Array.from({ length: 24 }, async (_, i) => {
        const input = documents[i % 2]!;
        const chunks: Uint8Array[] = [];
        // A slow reader: the documents stay in flight long enough for the signal to land among them.
        await sealRemote(
          client,
          header,
          (async function* () {
            yield input;
          })(),
          async (chunk) => {
            chunks.push(chunk);
            await new Promise((r) => setTimeout(r, 20));
          },
        );
        if (++done === 3) firstDone();
        return { input, output: Buffer.concat(chunks) };
      });
      await first;
      child.kill('SIGTERM');
      // Let the server take the signal, then knock: a new call is refused.
      await new Promise((r) => setTimeout(r, 500));
      const late = connect(address);
      const refused = await sealRemote(late, header, (async function* () {
        yield documents[1]!;
      })(), () => undefined, { deadline: new Date(Date.now() + 10_000) }).catch((e: unknown) => e);
      late.close();
      expect(isServiceError(refused) && refused.code).toBe(grpc.status.UNAVAILABLE);

      const results = await Promise.allSettled(inflight);
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      client.close();
      expect(await exited).toBe(0);
      expect(done).toBe(24);
      const shuttingDown = lines.map((l) => JSON.parse(l) as { msg: string; inflight?: number }).find((e) => e.msg === 'shutting down');
      expect(shuttingDown?.inflight).toBeGreaterThan(0);
      expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(expect.arrayContaining(['PKCS#11 pool closed', 'stopped']));
      const spool = path.join(dataDir, 'spool');
      expect(fs.readdirSync(spool)).toEqual([]);
      const ca = fs.readdirSync(dataDir, { recursive: true }).map(String).find((f) => /ca\.(pem|crt)$/.test(f));
      for (const r of results) {
        const { input, output } = (r as PromiseFulfilledResult<{ input: Buffer; output: Buffer }>).value;
        expect(output.subarray(0, input.length).equals(input)).toBe(true);
        const signature = (await extractSignatures(output)).at(-1)!;
        expect(signature.coversWholeFile && signature.gapIsContents).toBe(true);
        if (ca !== undefined) expect((await opensslCmsVerify(signature.cms, signature.signedBytes, path.join(dataDir, ca))).ok).toBe(true);
      }
      expect(ca).toBeDefined();
      expect(stderr()).toBe('');
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
