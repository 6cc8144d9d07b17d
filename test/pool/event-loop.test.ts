/**
 * The event loop keeps turning while the token signs: 200 RSA-2048 signs (and 1,000 P-256 signs) with 4 in flight,
 * event-loop delay sampled every millisecond. Timing is reported, not asserted (shared CI machines vary); what is
 * asserted is that every signature verifies.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/pool/admin.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import type { Signer } from '../../src/crypto/signer.ts';
import { openPkcs11Path, PKCS11_PATHS, type Pkcs11Path } from './pkcs11-paths.ts';
import { capturedLogger, createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from './softhsm.ts';

const PIN = 'perf-PIN-1';
const IN_FLIGHT = 4;

async function measure(signer: Signer, publicKey: KeyObject, total: number) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let next = 0;
  let verified = 0;
  const pending: { data: Buffer; signature: Uint8Array }[] = [];
  histogram.enable();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < total) {
        const data = Buffer.from(`document ${next++}`);
        pending.push({ data, signature: await signer.signDigest(createHash('sha256').update(data).digest()) });
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  histogram.disable();
  for (const { data, signature } of pending) if (verify('sha256', data, publicKey, signature)) verified++;
  return {
    verified,
    signsPerSecond: Math.round(total / seconds),
    p50ms: histogram.percentile(50) / 1e6,
    p99ms: histogram.percentile(99) / 1e6,
    maxMs: histogram.max / 1e6,
  };
}

describe.each(PKCS11_PATHS)('event loop under 4-in-flight signing (SoftHSM through %s)', (pathName) => {
  let pool: TokenPool;
  let p11: Pkcs11Path;
  let rsaKey: KeyObject;
  let ecKey: KeyObject;
  let hsm: SoftHsm;

  beforeAll(async () => {
    hsm = await createSoftHsm();
    await hsm.initToken('perf', PIN);
    const rsa = generateKeyPair(SOFTHSM_MODULE, 'perf', PIN, { label: 'rsa', type: 'RSA-2048', env: hsm.env });
    const ec = generateKeyPair(SOFTHSM_MODULE, 'perf', PIN, { label: 'ec', type: 'EC-P256', env: hsm.env });
    rsaKey = createPublicKey({ key: Buffer.from(rsa), format: 'der', type: 'spki' });
    ecKey = createPublicKey({ key: Buffer.from(ec), format: 'der', type: 'spki' });
    p11 = await openPkcs11Path(pathName, hsm);
    pool = await TokenPool.open(
      { module: p11.module, env: p11.env, tokens: [{ label: 'perf', pin: { value: PIN }, sessions: IN_FLIGHT }] },
      capturedLogger().logger,
    );
  });

  afterAll(async () => {
    await pool?.close();
    await p11?.close();
    if (hsm) await rm(hsm.dir, { recursive: true, force: true });
  });

  it('idle baseline of the delay histogram (timer granularity)', async () => {
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    await new Promise((r) => setTimeout(r, 300));
    histogram.disable();
    console.log('idle:', { p50ms: histogram.percentile(50) / 1e6, p99ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6 });
  });

  it('200 RSA-2048 signs: all verify; event-loop delay reported', async () => {
    const result = await measure(pool.signer('rsa', []), rsaKey, 200);
    console.log(`[${pathName}] RSA-2048, ${IN_FLIGHT} in flight, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}:`, result);
    expect(result.verified).toBe(200);
  });

  it('2000 RSA-2048 signs (a longer sample for the percentiles): all verify', async () => {
    const result = await measure(pool.signer('rsa', []), rsaKey, 2000);
    console.log(`[${pathName}] RSA-2048 x2000, ${IN_FLIGHT} in flight:`, result);
    expect(result.verified).toBe(2000);
  });

  it('1000 ECDSA P-256 signs: all verify; event-loop delay reported', async () => {
    const result = await measure(pool.signer('ec', []), ecKey, 1000);
    console.log(`[${pathName}] ECDSA P-256, ${IN_FLIGHT} in flight:`, result);
    expect(result.verified).toBe(1000);
  });
});
