/**
 * A seal in two halves, so that either side of the wire can do the PDF work (issue 21, local preparation):
 *
 * - prepareSeal: open the document, plan the placement, write the one incremental section with its signature
 *   dictionary, /ByteRange filled in and /Contents reserved as zeros (ISO 32000-1 §12.8.1), and hash the two byte
 *   ranges (the CMS message-digest, RFC 5652 §11.2). It needs the seal's appearance, its signer certificate and how
 *   many bytes to reserve, never its key.
 * - embedSeal: write a CMS into the reserved /Contents and describe the result.
 *
 * sealDocument (seal.ts) runs both around one signature; `seald batch --prepare-locally` runs them in the client and
 * has the server sign only the digest. Both produce the same bytes for the same inputs (signing time, /ID entropy,
 * reserved size): the structure of a locally prepared seal is the server's.
 */
import { createHash, type Hash } from 'node:crypto';
import { checkCertificateValidAt, describeCertificate } from '../crypto/certificate.ts';
import { SealdError } from '../errors.ts';
import { DATE_STAMP_BAND } from '../pdf/appearance.ts';
import { checkCertifiable, type DocMdpPermission } from '../pdf/certification.ts';
import { checkDateStampFormat, DEFAULT_DATE_STAMP_FORMAT, formatDateStamp } from '../pdf/date-stamp.ts';
import { PdfDocument } from '../pdf/document.ts';
import { DEFAULT_TIME_ZONE, utcOffsetMinutes as utcOffsetAt } from '../pdf/pdf-date.ts';
import { checkSealable, embedCms, prepareSignature, uniqueFieldName, type PreparedSignature } from '../pdf/signature.ts';
import type { ByteSource } from '../pdf/source.ts';
import { planPlacement, type Placement } from './placements.ts';
import type { Certify, SealAppearance, SealOptions, SealOutcome } from './seal-types.ts';

const DOC_MDP: Record<Certify, DocMdpPermission> = { 'no-changes': 1, 'form-filling': 2 };

/** What preparing needs of a seal: its appearance, the certificate that will sign, and the bytes to reserve. */
export interface PreparationMaterial extends SealAppearance {
  /** DER of the signer's certificate (checked valid at the signing time; its subject goes in the outcome). */
  signerCertificate: Uint8Array;
  /** Bytes reserved for the CMS in /Contents (maxPadesCmsSize, plus a time-stamp token's bound for B-T). */
  contentsSize: number;
}

/** A revision written with its /Contents still zeros, and the digest its signature must cover. */
export interface PreparedSeal {
  signature: PreparedSignature;
  /** SHA-256 of the two byte ranges: the CMS message-digest. */
  documentDigest: Uint8Array;
  fieldName: string;
  /** Pages the marks land on, ascending. */
  pages: number[];
  signingTime: Date;
  signerSubject: string;
  contentsSize: number;
  repaired?: { reason: string; how?: string };
}

export async function prepareSeal(
  source: ByteSource,
  seal: PreparationMaterial,
  placement: Placement,
  options: Omit<SealOptions, 'timestamper'> = {},
): Promise<PreparedSeal> {
  const signingTime = options.signingTime ?? new Date();
  checkCertificateValidAt(seal.signerCertificate, signingTime);
  const utcOffsetMinutes = utcOffsetAt(options.timeZone ?? seal.timeZone ?? DEFAULT_TIME_ZONE, signingTime);

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
  const pages = [...new Set(plan.marks.map((m) => m.page.number))].sort((a, b) => a - b);
  options.approvePages?.(pages);
  const fieldName = uniqueFieldName(doc, options.fieldName);
  const signature = prepareSignature(doc, {
    fieldName,
    signingTime,
    utcOffsetMinutes,
    reason: options.reason,
    location: options.location,
    contactInfo: options.contactInfo,
    contentsSize: seal.contentsSize,
    image: seal.image,
    mark: first,
    otherMarks: others,
    placementKind: plan.kind,
    ...(seal.kind === undefined ? {} : { sealKind: seal.kind }),
    ...(options.certify === undefined ? {} : { certification: DOC_MDP[options.certify] }),
    ...(options.idEntropy === undefined ? {} : { idEntropy: options.idEntropy }),
    ...(dateStampFormat === undefined ? {} : { dateStamp: { text: formatDateStamp(dateStampFormat, signingTime, utcOffsetMinutes) } }),
  });
  const documentDigest = await digestByteRange(source, signature.bytes, signature.byteRange, options.sourceDigest);
  return {
    signature,
    documentDigest,
    fieldName,
    pages,
    signingTime,
    signerSubject: describeCertificate(seal.signerCertificate).subject,
    contentsSize: seal.contentsSize,
    ...(doc.repaired === undefined ? {} : { repaired: { reason: doc.repaired.reason, how: doc.repaired.how } }),
  };
}

/** Write the CMS into the reserved /Contents (CONTENTS_TOO_SMALL when it does not fit) and describe the seal. */
export function embedSeal(prepared: PreparedSeal, cms: Uint8Array, timestampTime?: Date): SealOutcome {
  embedCms(prepared.signature, cms);
  return {
    appended: prepared.signature.bytes,
    fieldName: prepared.fieldName,
    revision: prepared.signature.revision,
    byteRange: prepared.signature.byteRange,
    documentDigest: prepared.documentDigest,
    signerSubject: prepared.signerSubject,
    signingTime: prepared.signingTime,
    pages: prepared.pages,
    ...(timestampTime === undefined ? {} : { timestampTime }),
    ...(prepared.repaired === undefined
      ? {}
      : { repaired: prepared.repaired.reason, ...(prepared.repaired.how === undefined ? {} : { repairedHow: prepared.repaired.how }) }),
  };
}

/** The date stamp format this seal draws with, or undefined when it draws none. */
function dateStampFormatOf(seal: SealAppearance, options: SealOptions): string | undefined {
  const asked = options.dateStamp;
  const enabled = asked?.enabled ?? seal.dateStampFormat !== undefined;
  if (!enabled) return undefined;
  return asked?.format || seal.dateStampFormat || DEFAULT_DATE_STAMP_FORMAT;
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
