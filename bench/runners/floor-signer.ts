/**
 * The floors' signer: the seal's key on the bench token, through seald's TokenPool (asynchronous C_Sign, as seald
 * signs), warmed up by one sign so lazy set-up is not timed. `floor` and `floor over gRPC` sign through this, so
 * their difference is the transport and nothing else.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pino from 'pino';
import { pemToDer } from '../../src/crypto/certificate.ts';
import type { Signer } from '../../src/crypto/signer.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import { loadConfig } from '../../src/config/config.ts';

export async function openFloorSigner(configPath: string, sealId: string): Promise<{ pool: TokenPool; signer: Signer }> {
  const config = await loadConfig({ flags: { config: configPath }, env: {} });
  const seal = config.seals.find((s) => s.id === sealId);
  if (seal === undefined) throw new Error(`no seal ${sealId} in ${config.configPath}`);
  const pool = await TokenPool.open(config.pkcs11, pino({ level: 'warn' }));
  const chain = seal.certificates === undefined ? (pool.sealObjects(seal.key)?.chain ?? []) : pemToDer(await readFile(seal.certificates, 'utf8'));
  const signer = pool.signer(seal.key, chain);
  await signer.signDigest(createHash('sha256').update('warm-up').digest()); // first sign pays lazy set-up
  return { pool, signer };
}
