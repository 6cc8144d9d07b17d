/**
 * The outcome of a verification in the words of ETSI EN 319 102-1 §5.1.3 (Table 4, Table 5), as EU DSS reports it:
 * a main indication (TOTAL-PASSED, TOTAL-FAILED, INDETERMINATE) and, unless it passed, one sub-indication. Mapped
 * from what seald already decides (integrity, trust, changes, time-stamps), never decided anew: the main indication
 * always matches the verdict (VALID ↔ TOTAL-PASSED, INVALID ↔ TOTAL-FAILED, INDETERMINATE ↔ INDETERMINATE).
 */
import type { Indication, SignatureReport, SubIndication, Verdict } from './report.ts';

export type { Indication, SubIndication };

export function indicationOf(verdict: Verdict): Indication {
  return verdict === 'VALID' ? 'TOTAL-PASSED' : verdict === 'INVALID' ? 'TOTAL-FAILED' : 'INDETERMINATE';
}

/** The sub-indication of one signature's verdict: the first cause, in the order the verification found it. */
export function subIndicationOf(r: SignatureReport): SubIndication | null {
  if (r.verdict === 'VALID') return null;
  switch (r.integrity) {
    case 'DIGEST_MISMATCH':
      return 'HASH_FAILURE';
    case 'BAD_SIGNATURE':
      return 'SIG_CRYPTO_FAILURE';
    case 'BAD_BYTERANGE':
    case 'BAD_CMS':
      return 'FORMAT_FAILURE';
    case 'SIGNER_CERT_MISMATCH':
      return 'NO_SIGNING_CERTIFICATE_FOUND';
    case 'UNSUPPORTED':
      if (r.verdict === 'INVALID') return 'FORMAT_FAILURE'; // judged by its changes after, which are not allowed
      return r.reasons.some((x) => /algorithm/i.test(x)) ? 'CRYPTO_CONSTRAINTS_FAILURE' : 'FORMAT_FAILURE';
    default:
  }
  // DSS reports PDF modifications that no DocMDP/FieldMDP allows as a format failure of the signature.
  if (r.changesAfter === 'NOT_ALLOWED') return 'FORMAT_FAILURE';
  // A well-formed CMS in a shape PAdES forbids (report.ts formatFailure): DSS's "not an ETSI PDF signature".
  if (r.formatFailure !== undefined && r.trust !== 'REVOKED') return 'FORMAT_FAILURE';
  switch (r.trust) {
    case 'REVOKED':
      return 'REVOKED';
    case 'UNTRUSTED':
      return 'NO_CERTIFICATE_CHAIN_FOUND';
    case 'EXPIRED':
      return 'OUT_OF_BOUNDS_NO_POE';
    case 'NOT_YET_VALID':
      return 'NOT_YET_VALID';
    case 'UNKNOWN':
      return r.signer === null ? 'NO_SIGNING_CERTIFICATE_FOUND' : 'CERTIFICATE_CHAIN_GENERAL_FAILURE';
    default:
  }
  if (r.weakAlgorithm !== undefined && r.weakAlgorithm !== null) return 'CRYPTO_CONSTRAINTS_FAILURE_NO_POE';
  if (r.signatureTimestamp === 'FAILED') return 'SIG_CONSTRAINTS_FAILURE';
  return 'GENERIC';
}
