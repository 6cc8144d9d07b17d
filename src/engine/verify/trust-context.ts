/**
 * What every trust decision of a verification reads: the configured anchors, the document's validation data (its DSS)
 * and the time of the verification. CMS signatures (integrity.ts), adbe.x509.rsa_sha1 (x509-rsa-sha1.ts) and electronic
 * seals (gm-seal.ts) share it, with the one way a signer and a time-stamp's TSA are judged.
 */
import type { TimestampToken } from '../../crypto/timestamp-token.ts';
import { evaluateTrust, type TrustResult } from '../../crypto/trust.ts';
import type { SignatureReport } from './report.ts';

export interface TrustContext {
  anchors: Uint8Array[];
  dss: { certs: Uint8Array[]; crls: Uint8Array[]; ocsps: Uint8Array[] };
  now: Date;
}

/** The TSA of a verified token, chained at the token's own genTime (a time-stamp proves its own time). */
export function tsaTrust(token: TimestampToken, context: TrustContext): TrustResult {
  return evaluateTrust({
    signer: token.tsaCertificate,
    pool: [...token.certificates, ...context.dss.certs],
    anchors: context.anchors,
    crls: context.dss.crls,
    ocsps: context.dss.ocsps,
    at: token.genTime,
    timeProven: true,
  });
}

/**
 * The signer's trust, into `report`: a chain from `signer` through `pool` and the DSS's certificates to an anchor, valid
 * at the proven time (a verified signature time-stamp), else at the claimed /M, else now (said so in the reasons).
 * True when the signer's revocation status came from embedded validation data (part of PAdES B-LT).
 */
export function judgeSignerTrust(
  report: SignatureReport,
  signer: Uint8Array,
  pool: readonly Uint8Array[],
  context: TrustContext,
  proven: Date | undefined,
  claimed: Date | undefined,
): boolean {
  const result = evaluateTrust({
    signer,
    pool: [...pool, ...context.dss.certs],
    anchors: context.anchors,
    crls: context.dss.crls,
    ocsps: context.dss.ocsps,
    at: proven ?? claimed ?? context.now,
    timeProven: proven !== undefined,
  });
  report.trust = result.trust;
  report.reasons.push(...result.reasons);
  if (!claimed && proven === undefined) report.reasons.push('the signature claims no signing time (/M): certificates checked at the current time');
  return result.revocationSource !== undefined;
}
