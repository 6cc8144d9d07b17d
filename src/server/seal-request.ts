/**
 * What a seal request means, for Seal and SealBatch alike: the configured seal it names (refused before any upload
 * when unknown or unable to sign), its signature options, its summary, and the chunk size answers are sent in.
 */
import type { SealOptions, SealOutcome } from '../engine/seal.ts';
import { SealdError } from '../errors.ts';
import type { SealHeader } from '../gen/seald/v1/seald_pb.ts';
import { sealOptionsOf, timestampModeOf } from '../rpc/seal-options-of.ts';
import type { ByteSource } from '../pdf/source.ts';
import { checkTimeZone } from '../pdf/pdf-date.ts';
import type { ServiceContext } from './context.ts';
import type { Logger } from './logger.ts';
import type { ConfiguredSeal } from './seals.ts';
import { Spool } from './spool.ts';

/** Response chunk size: under grpc-js's default 4 MiB message limit with room to spare. */
export const RESPONSE_CHUNK_BYTES = 1024 * 1024;

/** The configured seal named `sealId`, refused before any upload when it is unknown, disabled or cannot sign now. */
export function availableSeal(context: ServiceContext, sealId: string): ConfiguredSeal {
  const seal = context.seals.get(sealId);
  if (seal === undefined) {
    throw new SealdError('not-found', 'SEAL_NOT_FOUND', `unknown seal "${sealId}"`);
  }
  if (seal.config.disabled === true) {
    throw new SealdError(
      'precondition',
      'SEAL_DISABLED',
      `seal "${seal.config.id}" is disabled in the configuration (disabled: true): an operator must enable it and reload before it seals again`,
    );
  }
  if (!context.isAvailable(seal)) {
    // Say so before the upload: the document could not be sealed now anyway.
    throw new SealdError(
      'unavailable',
      'SEAL_UNAVAILABLE',
      `seal "${seal.config.id}" cannot sign right now: its key is on no ready token`,
    );
  }
  return seal;
}

/** Drop a spool (removing its temp file) or close a source; never throws. */
export async function release(holder: Spool | ByteSource | undefined, log: Logger): Promise<void> {
  if (holder === undefined) return;
  try {
    await (holder instanceof Spool ? holder.discard() : holder.close());
  } catch (error) {
    log.warn({ err: error }, 'cannot release the document (spool file or source)');
  }
}

/** The signature options a seal header asks for, with the server's TSA when a time-stamp is wanted. */
export function optionsOf(header: SealHeader, context: ServiceContext): Omit<SealOptions, 'signal' | 'sourceDigest'> {
  const options: Omit<SealOptions, 'signal' | 'sourceDigest'> = {};
  const given = header.options;
  const timestamps = context.timestamps;
  const askedMode = timestampModeOf(given?.timestampMode);
  // Asking for best-effort is asking for a time-stamp; `timestamp: false` still means none.
  if (given?.timestamp ?? (askedMode === 'best-effort' || (timestamps?.sealByDefault ?? false))) {
    if (timestamps === undefined) {
      throw new SealdError('precondition', 'TSA_NOT_CONFIGURED', 'a signature time-stamp was asked for, but this server has no TSA configured (tsa.urls)');
    }
    options.timestamper = timestamps.client;
    options.timestampMode = askedMode ?? timestamps.sealMode;
  }
  if (given !== undefined && given.timeZone !== '') checkTimeZone(given.timeZone); // before the upload: a zone nobody knows fails at once
  return { ...options, ...sealOptionsOf(given) };
}

/** A seal that went without its best-effort time-stamp: counted and logged (a warning: a pipeline must add one). */
export function noteMissingTimestamp(context: ServiceContext, log: Logger, outcome: SealOutcome): void {
  const missing = outcome.timestampMissing;
  if (missing === undefined) return;
  context.metrics.timestampSkipped.inc({ reason: missing.code });
  log.warn({ field: outcome.fieldName, tsaError: missing.code, reason: missing.message }, 'sealed without the signature time-stamp (best-effort: PAdES B-B)');
}

