/**
 * The verification report: what `seald verify --json` prints and the Verify RPC returns (as JSON). Archives parse it,
 * so its shape is stable and documented in docs/verify.md: add fields, never rename or remove one.
 */

import { describeCertificate } from '../../crypto/certificate.ts';
import type { Integrity } from '../../crypto/signed-data.ts';
import type { Trust } from '../../crypto/trust.ts';
import type { PlacementReport } from '../../pdf/placement-record.ts';
import type { ElectronicSealReport } from './gm-seal-report.ts';
import type { VisualCheckReport } from './visual-report.ts';

export type { ElectronicSealReport, Integrity, PlacementReport, Trust };

export type Verdict = 'VALID' | 'INVALID' | 'INDETERMINATE';

/** ETSI EN 319 102-1 §5.1.3 main indications and the sub-indications seald maps to (indications.ts). */
export type Indication = 'TOTAL-PASSED' | 'TOTAL-FAILED' | 'INDETERMINATE';

export type SubIndication =
  | 'FORMAT_FAILURE'
  | 'HASH_FAILURE'
  | 'SIG_CRYPTO_FAILURE'
  | 'REVOKED'
  | 'SIG_CONSTRAINTS_FAILURE'
  | 'CERTIFICATE_CHAIN_GENERAL_FAILURE'
  | 'CRYPTO_CONSTRAINTS_FAILURE'
  | 'CRYPTO_CONSTRAINTS_FAILURE_NO_POE'
  | 'NO_SIGNING_CERTIFICATE_FOUND'
  | 'NO_CERTIFICATE_CHAIN_FOUND'
  | 'OUT_OF_BOUNDS_NO_POE'
  | 'NOT_YET_VALID'
  | 'SIGNED_DATA_NOT_FOUND'
  | 'GENERIC';


export type SignatureTimestamp = 'NONE' | 'VERIFIED' | 'UNTRUSTED' | 'FAILED';

export type ChangesAfter = 'NONE' | 'ALLOWED' | 'NOT_ALLOWED';

/** One difference between a revision and the one before it. */
export interface Change {
  /** The revision that made the change (1-based); revisions + 1 for bytes no revision accounts for. */
  revision: number;
  allowed: boolean;
  /** Stable short kind, e.g. `signature-added`, `page-content-changed`, `annotation-added`. */
  kind: string;
  description: string;
}

export interface SignerReport {
  subject: string;
  organisation: string | null;
  serial: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
}

export type AlgorithmFamily = 'GM' | 'INTERNATIONAL';

/** The family of the algorithms a signature uses: any SM2 or SM3 makes it 国密 (GM). */
export function algorithmFamilyOf(s: Pick<SignatureReport, 'digestAlgorithm' | 'signatureAlgorithm'>): AlgorithmFamily | null {
  const names = [s.digestAlgorithm, s.signatureAlgorithm].filter((n): n is string => n !== null && n !== '');
  if (names.length === 0) return null;
  return names.some((n) => /SM[23]/i.test(n)) ? 'GM' : 'INTERNATIONAL';
}

export interface SignatureReport {
  field: string;
  /** Other fields whose value is this same signature dictionary (judged once); present only when there are some. */
  otherFields?: string[];
  /** The DocMDP P of a certification signature (1 no changes, 2 form filling and signing, 3 also annotations); only then. */
  certificationLevel?: 1 | 2 | 3;
  /** The catalog /Perms entry that names this signature (`DocMDP`, `UR3`, `UR`); only then. */
  perms?: string;
  /** The revision this signature's /ByteRange ends with (1-based), or null when it ends at no revision end. */
  revision: number | null;
  placement: PlacementReport | null;
  /**
   * The kind of seal (official, contract, finance, invoice, legal_representative, personal): from seald's signed
   * /Seald_SealKind (pdf/seal-kind-record.ts), or for a GB/T 38540 / GM/T 0031 seal its property type (1 official,
   * 2 personal); null when the signature names none.
   */
  sealKind?: string | null;
  signer: SignerReport | null;
  /** /M of the signature dictionary, ISO 8601; a claim of the signer, not proven. */
  claimedSigningTime: string | null;
  /**
   * genTime of the signature's verified time-stamp (a CAdES signature-time-stamp-token, or for a document time-stamp
   * its own token), ISO 8601; null when there is none or it does not verify.
   */
  timestampTime: string | null;
  /**
   * The signature time-stamp (CAdES signature-time-stamp, ETSI EN 319 122-1 §5.3) of a CMS signature: NONE when it
   * carries none; VERIFIED when one proves the time (timestampTime); UNTRUSTED when tokens verify but no TSA chains to
   * an anchor (the time is not proven, the signature is judged without it); FAILED when a token is not for this
   * signature (its messageImprint is not the hash of this SignerInfo's signature value, RFC 3161 §2.4.2) or its own
   * signature does not verify — a forged time claim: the signature is then at best INDETERMINATE. Document
   * time-stamps (ETSI.RFC3161) report NONE here; their own token is judged as their integrity.
   */
  signatureTimestamp: SignatureTimestamp;
  /**
   * PAdES baseline level the signature reaches (ETSI EN 319 142-1): B-B; B-T with a verified signature time-stamp or
   * a later verified document time-stamp; B-LT with revocation data for its certificate embedded (DSS); B-LTA with a
   * verified document time-stamp after the DSS. null for document time-stamps and signatures that are not INTACT.
   */
  level: 'B-B' | 'B-T' | 'B-LT' | 'B-LTA' | null;
  subFilter: string | null;
  digestAlgorithm: string | null;
  signatureAlgorithm: string | null;
  byteRange: number[] | null;
  integrity: Integrity;
  coversWholeDocument: boolean;
  changesAfter: ChangesAfter;
  changes: Change[];
  trust: Trust;
  verdict: Verdict;
  reasons: string[];
  /**
   * Why the signature is not a PAdES one although its CMS is well-formed (an enveloping SignedData, several
   * SignerInfos: ISO 32000-1 §12.8.3.3.1, ETSI EN 319 142-1 §6.3); present only then. The signature is then at best
   * INDETERMINATE with FORMAT_FAILURE, as EU DSS reports it; its integrity is still checked.
   */
  formatFailure?: string;
  /** Present only for a GB/T 38540 / GM/T 0031 electronic seal (国密): the seal's name, code, image and validity. */
  seal?: ElectronicSealReport;
  /**
   * The algorithm family (issue 19): GM for 国密 (SM2 signatures, SM3 digests: GM/T 0003, GM/T 0004), INTERNATIONAL
   * for RSA, ECDSA, DSA with SHA-1/SHA-2; null when no algorithm could be read.
   */
  algorithmFamily?: AlgorithmFamily | null;
  /** ETSI EN 319 102-1 §5.1.3 main indication, matching `verdict` (indications.ts). Added by issue 17. */
  indication?: Indication;
  /** Its sub-indication (HASH_FAILURE, NO_CERTIFICATE_CHAIN_FOUND, …); null when TOTAL-PASSED. */
  subIndication?: SubIndication | null;
  /**
   * A weak algorithm the signature relies on (SHA-1 digests, ETSI TS 119 312 / DSS's default policy): acceptable
   * only with a proof of existence (a verified time-stamp) before its sunset; null when none.
   */
  weakAlgorithm?: string | null;
  /**
   * The visual shadow check (visual-check.ts, docs/verify.md): NOT_NEEDED, SAME, DIFFERENT (pages and rectangles; the
   * signature is then INVALID), SKIPPED or BUDGET_EXCEEDED, with its reason and cost. Absent when the signature ends
   * at no revision. Added by issue 17.
   */
  visualCheck?: VisualCheckReport;
}

import type { UsageRights } from './perms.ts';

export interface VerificationReport {
  /** Version of this report's shape. */
  reportVersion: 1;
  verdict: Verdict;
  reasons: string[];
  /** Revisions in the document (incremental updates + 1). */
  revisions: number;
  /** True when the last revision is covered by a signature with intact integrity. */
  lastRevisionCovered: boolean;
  signatures: SignatureReport[];
  /**
   * Present when the original revisions (before any signature) were damaged and are read by repairing them, as seald
   * repairs a file before sealing it (pdf/repaired-base.ts): how many, where they end, what was wrong.
   */
  repairedOriginal?: { revisions: number; end: number; reason: string };
  /** ETSI EN 319 102-1 main indication for the document: the worst of its signatures' (indications.ts). */
  indication?: Indication;
  subIndication?: SubIndication | null;
  /**
   * True when verified in strict mode: no annotation change is allowed after any signature (as after a DocMDP P=2
   * certification), for callers who want "no annotation after a seal". Default false (docs/verify.md).
   */
  strict?: boolean;
  /** Usage rights signatures (/Perms /UR3 or /UR, ISO 32000-1 §12.8.2.3) that are no field's value: found, not judged. */
  usageRights?: UsageRights[];
}

/** The worse of two verdicts: INVALID > INDETERMINATE > VALID. */
export function worse(a: Verdict, b: Verdict): Verdict {
  if (a === 'INVALID' || b === 'INVALID') return 'INVALID';
  if (a === 'INDETERMINATE' || b === 'INDETERMINATE') return 'INDETERMINATE';
  return 'VALID';
}

/** The signer's certificate as the report shows it; null when it cannot be read. */
export function describeSigner(der: Uint8Array): SignerReport | null {
  try {
    const d = describeCertificate(der);
    return {
      subject: d.subject,
      organisation: d.organization ?? null,
      serial: d.serialNumber,
      issuer: d.issuer,
      notBefore: d.notBefore.toISOString(),
      notAfter: d.notAfter.toISOString(),
    };
  } catch {
    return null;
  }
}
