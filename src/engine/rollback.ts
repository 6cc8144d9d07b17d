/**
 * 撤销签章: undo the last seal of a document. The result is the document exactly as it was before that seal — its
 * first bytes, up to where the previous revision ended — so every earlier signature stays as valid as it was.
 * This module finds and checks the last revision and says whose certificate signed it; the caller decides whether
 * the principal may remove a seal of that certificate, then sends the first `outputLength` bytes.
 */
import { createHash } from 'node:crypto';
import { cmsSignerCertificate } from '../crypto/cms-signer.ts';
import { describeCertificate, type CertificateDescription } from '../crypto/certificate.ts';
import { SealdError } from '../errors.ts';
import { PdfDocument } from '../pdf/document.ts';
import { lastRevision } from '../pdf/last-revision.ts';
import type { ByteSource } from '../pdf/source.ts';

export interface RollbackOptions {
  /** When set, the last seal must be this field (a guard against removing another seal than the one meant). */
  fieldName?: string;
  /**
   * SHA-256 (hex) of documents this server returned from a seal, mapped to the document it was given: settles the
   * one case the file alone cannot (see src/pdf/last-revision.ts) when the seal is known.
   */
  sealedInputOf?: (outputSha256: string) => Promise<string | undefined>;
  /** SHA-256 (hex) of the whole source, when the receiver computed it. */
  sourceSha256?: string;
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
    outputLength: await settleLength(source, last.previousEndCandidates, options),
  };
}

/** One candidate: it. Two (the file alone cannot tell): the one whose SHA-256 is the input of the recorded seal. */
async function settleLength(source: ByteSource, candidates: number[], options: RollbackOptions): Promise<number> {
  if (candidates.length === 1) return candidates[0]!;
  const [longer, shorter] = [Math.max(...candidates), Math.min(...candidates)];
  const wholeSha256 = options.sourceSha256 ?? (await sha256(source, source.size)).digest('hex');
  const sealedInput = await options.sealedInputOf?.(wholeSha256);
  if (sealedInput !== undefined) {
    const hash = await sha256(source, shorter);
    if (hash.copy().digest('hex') === sealedInput) return shorter;
    if (hash.update(source.read(shorter, longer - shorter)).digest('hex') === sealedInput) return longer;
  }
  // Unknown seal: PDF writers end the file with an EOL after %%EOF (§7.5.5), so the EOL is taken as the original's.
  return longer;
}

async function sha256(source: ByteSource, length: number) {
  const hash = createHash('sha256');
  for await (const chunk of source.chunks(0, length)) hash.update(chunk);
  return hash;
}
