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
import { checkCertifiable, type DocMdpPermission } from '../pdf/certification.ts';
import { SealdError } from '../errors.ts';
import { checkDateStampFormat, DEFAULT_DATE_STAMP_FORMAT, formatDateStamp } from '../pdf/date-stamp.ts';
import { DATE_STAMP_BAND } from '../pdf/appearance.ts';

export type { Placement, PositionPlacement } from './placements.ts';

/** A seal ready to use: its key (through a Signer), certificate chain (in the signer) and prepared image. */
export interface SealMaterial {
  id: string;
  signer: Signer;
  image: SealImage;
  /** Default mark size in PDF points (1/72 in). */
  defaultWidth: number;
  defaultHeight: number;
  /** The seal's configured date stamp format, when it draws the signing date by default (config seals[].date_stamp). */
  dateStampFormat?: string;
  /** The seal's kind (official, contract, …): recorded in the signed signature dictionary, read back by verify. */
  kind?: string;
}

export interface SealOptions {
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Signature field name; default `Seal<n>`, unique in the document. */
  fieldName?: string;
  /** Claimed signing time written to /M; default now. */
  signingTime?: Date;
  /**
   * 24 bytes the trailer's new /ID is drawn from; default random. With the signing time, the signer's signature and
   * the time-stamp token of an earlier seal, it regenerates that seal's revision byte for byte.
   */
  idEntropy?: Uint8Array;
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
  /**
   * Make the seal a certification signature (ISO 32000-2 §12.8.2.2): `no-changes` (DocMDP P=1) or `form-filling`
   * (P=2: later form filling and signatures allowed). Refused on a document that is certified or already signed.
   */
  certify?: Certify;
  /**
   * The signing date drawn under the seal (时间章, pdf/date-stamp.ts): `enabled` unset follows the seal's default
   * (SealMaterial.dateStampFormat); `format` empty or unset uses the seal's format, else YYYY年MM月DD日.
   */
  dateStamp?: { enabled?: boolean; format?: string };
}

/** The certification levels a seal can give: DocMDP P=1 and P=2. */
export type Certify = 'no-changes' | 'form-filling';

const DOC_MDP: Record<Certify, DocMdpPermission> = { 'no-changes': 1, 'form-filling': 2 };

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

  const dateStampFormat = dateStampFormatOf(seal, options);
  if (dateStampFormat !== undefined) checkDateStampFormat(dateStampFormat);
  // The date stamp's band under the seal comes on top of the seal's own size (appearance.ts DATE_STAMP_BAND).
  const planned =
    dateStampFormat === undefined ? seal : { ...seal, defaultHeight: seal.defaultHeight / (1 - DATE_STAMP_BAND) };
  const doc = PdfDocument.open(source, { password: options.password });
  checkSealable(doc);
  if (options.certify !== undefined) checkCertifiable(doc);
  const plan = await planPlacement(doc, placement, planned, options.signal);
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
    ...(seal.kind === undefined ? {} : { sealKind: seal.kind }),
    ...(options.certify === undefined ? {} : { certification: DOC_MDP[options.certify] }),
    ...(options.idEntropy === undefined ? {} : { idEntropy: options.idEntropy }),
    ...(dateStampFormat === undefined ? {} : { dateStamp: { text: formatDateStamp(dateStampFormat, signingTime) } }),
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

/** The date stamp format this seal draws with, or undefined when it draws none. */
function dateStampFormatOf(seal: SealMaterial, options: SealOptions): string | undefined {
  const asked = options.dateStamp;
  const enabled = asked?.enabled ?? seal.dateStampFormat !== undefined;
  if (!enabled) return undefined;
  return asked?.format || seal.dateStampFormat || DEFAULT_DATE_STAMP_FORMAT;
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
