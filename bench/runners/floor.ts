/**
 * The floor: what sealing a batch cannot go below. Per document: read every byte, SHA-256 every byte once, one RSA-2048
 * sign on the SoftHSM token through seald's pool (asynchronous C_Sign, like seald), write the bytes and the signature.
 * No PDF work at all. Documents run `--concurrency` at a time (default 4, as many signs in flight as seald's default).
 */
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { forEachConcurrent, type RunResult } from '../measure.ts';
import { openFloorSigner } from './floor-signer.ts';
import { runnerArgs } from './list.ts';

const { items, concurrency, values } = await runnerArgs(['config', 'seal']);
const { pool, signer } = await openFloorSigner(String(values.config), String(values.seal));

let bytes = 0;
let failures = 0;
const started = process.hrtime.bigint();
await forEachConcurrent(items, concurrency, async (item) => {
  try {
    const data = await readFile(item.input);
    const digest = createHash('sha256').update(data).digest();
    const signature = await signer.signDigest(digest);
    const out = await open(item.output, 'w');
    await out.writev([data, signature]).finally(() => out.close());
    bytes += data.length;
  } catch {
    failures++;
  }
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await pool.close();
const result: RunResult = { docs: items.length, bytes, seconds, failures, peakRss: process.resourceUsage().maxRSS * 1024 };
console.log(JSON.stringify(result));
