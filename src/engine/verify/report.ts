/**
 * The verification report: what `seald verify --json` prints and the Verify RPC returns (as JSON). Archives parse it,
 * so its shape is stable and documented in docs/verify.md: add fields, never rename or remove one.
 */

import type { Integrity } from '../../crypto/signed-data.ts';
import type { Trust } from '../../crypto/trust.ts';
import type { PlacementReport } from '../../pdf/placement-record.ts';

export type { Integrity, PlacementReport, Trust };

export type Verdict = 'VALID' | 'INVALID' | 'INDETERMINATE';


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

export interface SignatureReport {
  field: string;
  /** The revision this signature's /ByteRange ends with (1-based), or null when it ends at no revision end. */
  revision: number | null;
  placement: PlacementReport | null;
  signer: SignerReport | null;
  /** /M of the signature dictionary, ISO 8601; a claim of the signer, not proven. */
  claimedSigningTime: string | null;
  /**
   * genTime of the signature's verified time-stamp (a CAdES signature-time-stamp-token, or for a document time-stamp
   * its own token), ISO 8601; null when there is none or it does not verify.
   */
  timestampTime: string | null;
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
}

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
}

/** The worse of two verdicts: INVALID > INDETERMINATE > VALID. */
export function worse(a: Verdict, b: Verdict): Verdict {
  if (a === 'INVALID' || b === 'INVALID') return 'INVALID';
  if (a === 'INDETERMINATE' || b === 'INDETERMINATE') return 'INDETERMINATE';
  return 'VALID';
}
