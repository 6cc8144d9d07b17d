/**
 * 撤销签章: undo the last seal of a document. The result is the document exactly as it was before that seal — its
 * first bytes, up to where the previous revision ended — so every earlier signature stays as valid as it was.
 * This module finds and checks the last revision and says whose certificate signed it; the caller decides whether
 * the principal may remove a seal of that certificate, then sends the first `outputLength` bytes.
 */
import { cmsSignerCertificate } from '../crypto/cms-signer.ts';
import { describeCertificate, type CertificateDescription } from '../crypto/certificate.ts';
import { SealdError } from '../errors.ts';
import { PdfDocument } from '../pdf/document.ts';
import { lastRevision } from '../pdf/last-revision.ts';
import type { ByteSource } from '../pdf/source.ts';

export interface RollbackOptions {
  /** When set, the last seal must be this field (a guard against removing another seal than the one meant). */
  fieldName?: string;
}

export interface RollbackPlan {
  fieldName: string;
  /** 1-based number of the revision removed. */
  revision: number;
  /** DER of the certificate that signed the removed revision. */
  signerCertificate: Uint8Array;
  signer: CertificateDescription;
  /** The output is the source's first `outputLength` bytes. */
  outputLength: number;
}

export async function planRollback(source: ByteSource, options: RollbackOptions = {}): Promise<RollbackPlan> {
  const doc = PdfDocument.open(source);
  const last = lastRevision(doc);
  const [signature, ...others] = last.signatures;
  if (signature === undefined) {
    throw new SealdError(
      'precondition',
      'LAST_REVISION_NOT_A_SEAL',
      last.addsDss
        ? 'the last revision adds validation data (a DSS), not a seal: only a seal can be rolled back'
        : 'the last revision adds no signature (it is a later edit of the document): only a seal can be rolled back',
    );
  }
  if (others.length > 0) {
    throw new SealdError('precondition', 'LAST_REVISION_NOT_A_SEAL', 'the last revision adds more than one signature: it was not made by one seal');
  }
  if (signature.type === 'DocTimeStamp' || signature.subFilter === 'ETSI.RFC3161') {
    throw new SealdError('precondition', 'LAST_REVISION_NOT_A_SEAL', 'the last revision is a document timestamp, not a seal: only a seal can be rolled back');
  }
  const [from, firstLength, secondStart, secondLength] = signature.byteRange;
  const end = (secondStart ?? NaN) + (secondLength ?? NaN);
  if (signature.byteRange.length !== 4 || from !== 0 || !Number.isSafeInteger(end) || !Number.isSafeInteger(firstLength)) {
    throw new SealdError('precondition', 'SIGNATURE_UNUSABLE', 'the last signature has a malformed /ByteRange');
  }
  if (end !== source.size) {
    throw new SealdError(
      'precondition',
      'REVISION_BEYOND_SIGNATURE',
      `the last revision does not end where its signature's byte range ends (${end} of ${source.size} bytes are signed): it cannot be removed cleanly`,
    );
  }
  if (options.fieldName !== undefined && options.fieldName !== signature.fieldName) {
    throw new SealdError(
      'precondition',
      'NOT_THE_LAST_SEAL',
      `"${options.fieldName}" is not the last seal (the last is "${signature.fieldName ?? '(unnamed)'}"): roll back the later seals first, newest first`,
    );
  }
  const signerCertificate = cmsSignerCertificate(signature.contents);
  return {
    fieldName: signature.fieldName ?? '',
    revision: last.revision,
    signerCertificate,
    signer: describeCertificate(signerCertificate),
    outputLength: last.previousEnd,
  };
}
