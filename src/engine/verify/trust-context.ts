/**
 * What every trust decision of a verification reads: the configured anchors, the document's validation data (its DSS)
 * and the time of the verification. CMS signatures (integrity.ts) and electronic seals (gm-seal.ts) share it, and the
 * one way a time-stamp's TSA is judged.
 */
import type { TimestampToken } from '../../crypto/timestamp-token.ts';
import { evaluateTrust, type TrustResult } from '../../crypto/trust.ts';

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
