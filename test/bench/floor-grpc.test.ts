/**
 * The bench's "floor over gRPC" runner does the floor's work across a gRPC hop: every output must be the input's bytes
 * followed by an RSA signature, made on the SoftHSM token, that verifies over the SHA-256 of exactly those bytes —
 * whatever the document's size relative to the 1 MiB chunk. Checked with the key's public half, outside the runner.
 */
import { execFile } from 'node:child_process';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../bench/measure.ts';
import type { WorkItem } from '../../bench/runners/list.ts';
import { ensureBenchKey, BENCH_SEAL_ID } from '../../bench/token.ts';
import { UPLOAD_CHUNK_BYTES } from '../../src/cli/client.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..');
let dir: string | undefined;
afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('bench runner: floor over gRPC', () => {
  it('writes each input followed by a token signature over its SHA-256, for one-chunk, chunk-sized and multi-chunk inputs', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'seald-floor-grpc-'));
    const key = await ensureBenchKey(dir);
    const sizes = [1, 51_234, UPLOAD_CHUNK_BYTES, 2 * UPLOAD_CHUNK_BYTES + 777];
    const items: WorkItem[] = [];
    for (const [i, size] of sizes.entries()) {
      const input = path.join(dir, `in-${i}.bin`);
      await writeFile(input, randomBytes(size));
      items.push({ file: `in-${i}.bin`, kind: 'small', bytes: size, input, output: path.join(dir, `out-${i}.bin`) });
    }
    const list = path.join(dir, 'list.json');
    await writeFile(list, JSON.stringify(items));
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'bench', 'runners', 'floor-grpc.ts'), '--list', list, '--config', key.configPath, '--seal', BENCH_SEAL_ID, '--concurrency', '3'],
      { cwd: root, maxBuffer: 1 << 20 },
    );
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as RunResult;
    expect(result).toMatchObject({ docs: sizes.length, failures: 0, bytes: sizes.reduce((a, b) => a + b, 0) });
    expect(result.serverPeakRss).toBeGreaterThan(0);

    const publicKey = createPublicKey(await readFile(key.keyPem, 'utf8'));
    for (const item of items) {
      const [input, output] = [await readFile(item.input), await readFile(item.output)];
      expect(output.length, item.file).toBe(input.length + 256);
      expect(output.subarray(0, input.length).equals(input), item.file).toBe(true);
      const signature = output.subarray(input.length);
      expect(verify('sha256', input, publicKey, signature), item.file).toBe(true);
      // The same signature over other bytes does not verify: the check above can fail.
      expect(verify('sha256', Buffer.concat([input, Buffer.of(0)]), publicKey, signature)).toBe(false);
    }
  }, 120_000);
});
