/**
 * Seal a document: one signature, one revision, with the marks a placement plans (one position, many pages, a
 * cross-page seal, keyword hits; see placements.ts). Composes pdf (structure and the incremental update) with crypto
 * (the PAdES CMS) over a Signer; never sees the pool, gRPC or files.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Signer } from '../crypto/signer.ts';
import { createPadesCms, maxPadesCmsSize, timestampAttributeOverhead } from '../crypto/cms.ts';
import { checkCertificateValidAt, describeCertificate } from '../crypto/certificate.ts';
import type { ByteSource } from '../pdf/source.ts';
import type { SealImage } from '../pdf/image.ts';
import { PdfDocument } from '../pdf/document.ts';
import { planPlacement, type Placement } from './placements.ts';
import { checkSealable, embedCms, prepareSignature, uniqueFieldName } from '../pdf/signature.ts';
import { SealdError } from '../errors.ts';

export type { Placement, PositionPlacement } from './placements.ts';

/** A seal ready to use: its key (through a Signer), certificate chain (in the signer) and prepared image. */
export interface SealMaterial {
  id: string;
  signer: Signer;
  image: SealImage;
  /** Default mark size in PDF points (1/72 in). */
  defaultWidth: number;
  defaultHeight: number;
}

export interface SealOptions {
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Signature field name; default `Seal<n>`, unique in the document. */
  fieldName?: string;
  /** Claimed signing time written to /M; default now. */
  signingTime?: Date;
  signal?: AbortSignal;
  /**
   * SHA-256 state over all of the source's bytes, when whoever received the document hashed it on the way in (the
   * server does, while spooling). It saves the second read of the document; it is copied, never consumed.
   */
  sourceDigest?: Hash;
  /**
   * Called with the pages the planned marks land on, before anything is signed: the caller's last word (the server
   * checks the policy's page limits here, since keyword and cross-page placements only know their pages now).
   */
  approvePages?: (pages: readonly number[]) => void;
  /** PAdES B-T: a signature time-stamp from these TSAs goes into the CMS (src/crypto/tsa-client.ts). */
  timestamper?: Timestamper;
  /** The user or owner password of an encrypted document; without one, the empty user password is tried. */
  password?: string | Uint8Array;
}

/** What the engine needs of a TSA client. */
export interface Timestamper {
  timestamp(imprint: Uint8Array, signal?: AbortSignal): Promise<{ der: Uint8Array; genTime: Date }>;
  /** Upper bound of a token's DER size, measured on real tokens. */
  tokenSizeBound(signal?: AbortSignal): Promise<number>;
  noteTokenSize(bytes: number): void;
}

export interface SealOutcome {
  /** The incremental update to append after the original bytes (the original is never copied or changed). */
  appended: Uint8Array;
  fieldName: string;
  /** 1-based revision number of the new revision. */
  revision: number;
  byteRange: [number, number, number, number];
  /** SHA-256 of the signed byte ranges (the CMS message-digest). */
  documentDigest: Uint8Array;
  signerSubject: string;
  signingTime: Date;
  pages: number[];
  /** genTime of the signature time-stamp, when one was asked for. */
  timestampTime?: Date;
  /** What was wrong with an input that had to be repaired to be sealed (pdf/recovery.ts). */
  repaired?: string;
  /** How it was repaired (the table rebuilt by scanning: objects found, trailer used), for the log and audit. */
  repairedHow?: string;
}

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
  const signingTime = options.signingTime ?? new Date();
  const signerCert = seal.signer.certificates[0];
  if (!signerCert) throw new SealdError('internal', 'NO_CERTIFICATE', `seal "${seal.id}" has no certificate`);
  checkCertificateValidAt(signerCert, signingTime);

  const doc = PdfDocument.open(source, { password: options.password });
  checkSealable(doc);
  const plan = await planPlacement(doc, placement, seal, options.signal);
  const [first, ...others] = plan.marks;
  if (first === undefined) throw new SealdError('internal', 'NO_MARKS', 'the placement planned no mark');
  checkSealable(doc, plan.marks.length);
  options.approvePages?.([...new Set(plan.marks.map((m) => m.page.number))].sort((a, b) => a - b));
  const fieldName = uniqueFieldName(doc, options.fieldName);
  const timestamper = options.timestamper;
  let reserved = contentsSize(seal.signer);
  if (timestamper !== undefined) {
    const tokenBound = await timestamper.tokenSizeBound(options.signal);
    reserved += tokenBound + timestampAttributeOverhead(tokenBound);
  }
  const prepared = prepareSignature(doc, {
    fieldName,
    signingTime,
    reason: options.reason,
    location: options.location,
    contactInfo: options.contactInfo,
    contentsSize: reserved,
    image: seal.image,
    mark: first,
    otherMarks: others,
    placementKind: plan.kind,
  });

  const documentDigest = await digestByteRange(source, prepared.bytes, prepared.byteRange, options.sourceDigest);
  if (options.signal?.aborted) {
    throw new SealdError('cancelled', 'CANCELLED', 'the seal was cancelled before signing; nothing was written');
  }
  let timestampTime: Date | undefined;
  const cms = await createPadesCms({
    signer: seal.signer,
    documentDigest,
    signal: options.signal,
    timestamp:
      timestamper &&
      (async (imprint, signal) => {
        const token = await timestamper.timestamp(imprint, signal);
        timestampTime = token.genTime;
        return token.der;
      }),
  });
  if (cms.length > reserved && timestamper !== undefined) {
    // A token larger than any measured (a failover TSA, say): remember its size and do it again once, with room for
    // it (one more token signature and TSA round trip, on a rare path).
    timestamper.noteTokenSize(cms.length - contentsSize(seal.signer));
    if (retried) {
      throw new SealdError('unavailable', 'TIMESTAMP_TOO_LARGE', "the TSA's tokens keep growing past the reserved space; retry later");
    }
    return sealOnce(source, seal, placement, options, true);
  }
  embedCms(prepared, cms);

  return {
    appended: prepared.bytes,
    fieldName,
    revision: prepared.revision,
    byteRange: prepared.byteRange,
    documentDigest,
    signerSubject: describeCertificate(signerCert).subject,
    signingTime,
    pages: [...new Set(plan.marks.map((m) => m.page.number))].sort((a, b) => a - b),
    ...(timestampTime === undefined ? {} : { timestampTime }),
    ...(doc.repaired === undefined ? {} : { repaired: doc.repaired.reason, repairedHow: doc.repaired.how }),
  };
}

const contentsSizes = new WeakMap<Signer, number>();

/** Bytes to reserve for the CMS: exact for the signer's chain and key, computed once per signer. */
function contentsSize(signer: Signer): number {
  let size = contentsSizes.get(signer);
  if (size === undefined) {
    size = maxPadesCmsSize(signer);
    contentsSizes.set(signer, size);
  }
  return size;
}

/**
 * SHA-256 over the two signed ranges: all of the original bytes, then the update up to /Contents and after it.
 * The original is read once (or not at all when the receiver already hashed it).
 */
export async function digestByteRange(
  source: ByteSource,
  appended: Uint8Array,
  [, gapStart, gapEnd]: [number, number, number, number],
  sourceDigest: Hash | undefined,
): Promise<Uint8Array> {
  let hash: Hash;
  if (sourceDigest) hash = sourceDigest.copy();
  else {
    hash = createHash('sha256');
    for await (const chunk of source.chunks(0, source.size)) hash.update(chunk);
  }
  const base = source.size;
  hash.update(appended.subarray(0, gapStart - base));
  hash.update(appended.subarray(gapEnd - base));
  return hash.digest();
}
