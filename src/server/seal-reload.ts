/**
 * Seal management without restarts (issue 22): on SIGHUP seald re-reads the configuration file's seals and loads
 * each one afresh (certificate chain and image from files or the token, a Signer from the pool). Then, in one
 * synchronous step, the live map of seals becomes the new set: added seals appear, removed ones go, changed ones
 * (new certificate, new image) replace the old. A call looks its seal up once, when it starts, and keeps that object:
 * a reload never changes the seal of a call in flight.
 *
 * A seal that fails to load (its new certificate does not match its key, a file is missing…) is refused with a log
 * line naming it and why, and the seal it would replace stays in service.
 */
import type { SealConfig } from '../config/config.ts';
import type { Signer } from '../crypto/signer.ts';
import type { Logger } from './logger.ts';
import { loadSeal, type ConfiguredSeal, type KeyProvider } from './seals.ts';

export interface SealReloadResult {
  added: string[];
  changed: string[];
  removed: string[];
  /** Seals whose new configuration was refused (the previous one, if any, stays). */
  refused: string[];
}

export async function reloadSeals(
  live: Map<string, ConfiguredSeal>,
  configs: readonly SealConfig[],
  keys: KeyProvider,
  logger: Logger,
  wrapSigner: (signer: Signer, seal: SealConfig) => Signer = (signer) => signer,
): Promise<SealReloadResult> {
  const next = new Map<string, ConfiguredSeal>();
  const result: SealReloadResult = { added: [], changed: [], removed: [], refused: [] };
  for (const config of configs) {
    const old = live.get(config.id);
    try {
      const seal = await loadSeal(config, keys, wrapSigner);
      next.set(config.id, seal);
      if (old === undefined) result.added.push(config.id);
      else if (!sameSeal(old, seal)) result.changed.push(config.id);
      else next.set(config.id, old); // unchanged: keep the object (and its signer) in service
    } catch (error) {
      result.refused.push(config.id);
      const detail = error instanceof Error ? error.message : String(error);
      if (old !== undefined) {
        next.set(config.id, old);
        logger.error({ sealId: config.id, error: detail }, `seal "${config.id}" not reloaded: ${detail}; the previous one stays in service`);
      } else {
        logger.error({ sealId: config.id, error: detail }, `seal "${config.id}" not added: ${detail}`);
      }
    }
  }
  for (const id of live.keys()) if (!next.has(id)) result.removed.push(id);
  // One synchronous swap: no call can see half of it.
  live.clear();
  for (const [id, seal] of next) live.set(id, seal);
  logger.info({ ...result, seals: [...live.keys()] }, 'seals reloaded');
  return result;
}

function sameSeal(a: ConfiguredSeal, b: ConfiguredSeal): boolean {
  const { config: ca } = a;
  const { config: cb } = b;
  return (
    JSON.stringify(ca) === JSON.stringify(cb) &&
    equalLists(a.chain ?? [], b.chain ?? []) &&
    Buffer.from(a.imagePng ?? new Uint8Array()).equals(Buffer.from(b.imagePng ?? new Uint8Array()))
  );
}

function equalLists(a: Uint8Array[], b: Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => Buffer.from(x).equals(Buffer.from(b[i]!)));
}
