/**
 * Seal a document: one signature, one revision, with the marks a placement plans (one position, many pages, a
 * cross-page seal, keyword hits; see placements.ts). Composes pdf (structure and the incremental update) with crypto
 * (the PAdES CMS) over a Signer; never sees the pool, gRPC or files.
 */
import type { Signer } from '../crypto/signer.ts';
import { createPadesCms, maxPadesCmsSize, timestampAttributeOverhead } from '../crypto/cms.ts';
import type { ByteSource } from '../pdf/source.ts';
import type { Placement } from './placements.ts';
import type { SealMaterial, SealOptions, SealOutcome, Timestamper } from './seal-types.ts';
import { SealdError } from '../errors.ts';
import { embedSeal, prepareSeal } from './seal-prepare.ts';
import { isTsaFailure, missingTimestampOf, type MissingTimestamp } from './best-effort-timestamp.ts';

export type { Placement, PositionPlacement } from './placements.ts';
export { digestByteRange, embedSeal, prepareSeal, type PreparedSeal, type PreparationMaterial } from './seal-prepare.ts';
export type { Certify, SealAppearance, SealMaterial, SealOptions, SealOutcome, Timestamper } from './seal-types.ts';
export type { MissingTimestamp, TimestampMode } from './best-effort-timestamp.ts';

export function sealDocument(
  source: ByteSource,
  seal: SealMaterial,
  placement: Placement,
  options: SealOptions = {},
): Promise<SealOutcome> {
  return sealOnce(source, seal, placement, options, false);
}

async function sealOnce(
  source: ByteSource,
  seal: SealMaterial,
  placement: Placement,
  options: SealOptions,
  retried: boolean,
): Promise<SealOutcome> {
  const signerCertificate = seal.signer.certificates[0];
  if (!signerCertificate) throw new SealdError('internal', 'NO_CERTIFICATE', `seal "${seal.id}" has no certificate`);
  const bestEffort = options.timestampMode === 'best-effort';
  let timestamper = options.timestamper;
  let timestampMissing: MissingTimestamp | undefined;
  let contentsSize: number;
  try {
    contentsSize = await contentsSizeWith(seal.signer, timestamper, options.signal);
  } catch (error) {
    if (!bestEffort || timestamper === undefined || !isTsaFailure(error, options.signal)) throw error;
    // No token measured yet and the TSAs fail: no room is known to reserve, and asking again would only fail again.
    timestampMissing = missingTimestampOf(error);
    timestamper = undefined;
    contentsSize = contentsSizeOf(seal.signer);
  }
  const prepared = await prepareSeal(source, { ...seal, signerCertificate, contentsSize }, placement, options);
  if (options.signal?.aborted) {
    throw new SealdError('cancelled', 'CANCELLED', 'the seal was cancelled before signing; nothing was written');
  }
  const signed = await signDigest(seal.signer, prepared.documentDigest, timestamper, bestEffort, options.signal);
  const { cms } = signed;
  timestampMissing ??= signed.timestampMissing;
  if (cms.length > contentsSize && timestamper !== undefined) {
    // A token larger than any measured (a failover TSA, say): remember its size and do it again once, with room for
    // it (one more token signature and TSA round trip, on a rare path).
    timestamper.noteTokenSize(cms.length - contentsSizeOf(seal.signer));
    if (retried) {
      throw new SealdError('unavailable', 'TIMESTAMP_TOO_LARGE', "the TSA's tokens keep growing past the reserved space; retry later");
    }
    return sealOnce(source, seal, placement, options, true);
  }
  const outcome = embedSeal(prepared, cms, signed.timestampTime);
  return timestampMissing === undefined ? outcome : { ...outcome, timestampMissing };
}

/**
 * The PAdES CMS over `documentDigest`, with a signature time-stamp when a timestamper is given — for a seal and for a
 * digest a client prepared alike. Best-effort: a TSA failure leaves the token out (B-B; the room reserved for it stays
 * zero padding in /Contents, ISO 32000-1 §12.8.1) and says why instead of failing.
 */
async function signDigest(
  signer: Signer,
  documentDigest: Uint8Array,
  timestamper: Timestamper | undefined,
  bestEffort: boolean,
  signal: AbortSignal | undefined,
): Promise<{ cms: Uint8Array; timestampTime?: Date; timestampMissing?: MissingTimestamp }> {
  let timestampTime: Date | undefined;
  let timestampMissing: MissingTimestamp | undefined;
  const cms = await createPadesCms({
    signer,
    documentDigest,
    signal,
    timestamp:
      timestamper &&
      (async (imprint, callSignal) => {
        try {
          const token = await timestamper.timestamp(imprint, callSignal);
          timestampTime = token.genTime;
          return token.der;
        } catch (error) {
          if (!bestEffort || !isTsaFailure(error, callSignal)) throw error;
          timestampMissing = missingTimestampOf(error);
          return undefined;
        }
      }),
  });
  return { cms, ...(timestampTime === undefined ? {} : { timestampTime }), ...(timestampMissing === undefined ? {} : { timestampMissing }) };
}

/**
 * Keyed by the chain, not the Signer: the server hands the engine a new Signer per seal (the idempotency recorder's
 * and activation's wrappers) over the same certificates array, and a cache per Signer object missed every time
 * (maxPadesCmsSize builds a public key object from the certificate: 0.32 ms per seal, bench/README.md session 9).
 */
const contentsSizes = new WeakMap<readonly Uint8Array[], number>();

/** Bytes to reserve for the CMS: exact for the signer's chain and key, computed once per chain. */
export function contentsSizeOf(signer: Signer): number {
  let size = contentsSizes.get(signer.certificates);
  if (size === undefined) {
    size = maxPadesCmsSize(signer);
    contentsSizes.set(signer.certificates, size);
  }
  return size;
}

/**
 * Sign a digest a client prepared (PreparedService): the CMS over `documentDigest` with this server's own signed
 * attributes (content-type, message-digest, signing-certificate-v2: crypto/signed-attributes.ts), a signature
 * time-stamp when a timestamper is given, refused when it would not fit the `contentsSize` the client reserved
 * (CONTENTS_TOO_SMALL; TIMESTAMP_TOO_LARGE, retryable, when a time-stamp token outgrew the bound the kit announced).
 */
export async function signPreparedDigest(
  signer: Signer,
  documentDigest: Uint8Array,
  options: { contentsSize: number; timestamper?: Timestamper; signal?: AbortSignal },
): Promise<{ cms: Uint8Array; timestampTime?: Date }> {
  const { timestamper } = options;
  const { cms, timestampTime } = await signDigest(signer, documentDigest, timestamper, false, options.signal);
  if (cms.length > options.contentsSize) {
    if (timestamper !== undefined) {
      timestamper.noteTokenSize(cms.length - contentsSizeOf(signer));
      throw new SealdError('unavailable', 'TIMESTAMP_TOO_LARGE', `the CMS (${cms.length} bytes) outgrew the ${options.contentsSize} bytes reserved: prepare the document again with a new kit`);
    }
    throw new SealdError('invalid-input', 'CONTENTS_TOO_SMALL', `the CMS (${cms.length} bytes) does not fit the ${options.contentsSize} bytes reserved`);
  }
  return { cms, ...(timestampTime === undefined ? {} : { timestampTime }) };
}

/** Bytes to reserve for a CMS with a signature time-stamp from this timestamper (its token bound included). */
export async function contentsSizeWith(signer: Signer, timestamper: Timestamper | undefined, signal?: AbortSignal): Promise<number> {
  const size = contentsSizeOf(signer);
  if (timestamper === undefined) return size;
  const tokenBound = await timestamper.tokenSizeBound(signal);
  return size + tokenBound + timestampAttributeOverhead(tokenBound);
}
