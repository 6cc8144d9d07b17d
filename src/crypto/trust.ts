/**
 * Trust in a signer (RFC 5280 §6, simplified to what a seal verifier needs): a chain from the signer's certificate to
 * a configured trust anchor, built from the certificates of the CMS and of the document's DSS (ETSI EN 319 142-1
 * §5.4.2); every certificate on it valid at the signing time; CA certificates marked as CAs; the signer's key usage
 * allowing signatures (§4.2.1.3); and revocation from embedded CRLs (RFC 5280 §5) and OCSP responses (RFC 6960)
 * when the document carries them. Nothing is fetched from the network.
 *
 * The signing time is the claimed /M until timestamps are verified; the caller passes `timeProven` to say which.
 *
 * Certificates are read through the one model, certificate.ts: SM2-with-SM3 certificates (GM/T 0015-2012) go through
 * the same path validation, their signatures checked by sm2-signature.ts instead of Node's crypto.
 */
import { Certificate } from './certificate.ts';
import { checkCrl, checkOcspResponse, type RevocationAnswer } from './revocation.ts';

/** What path validation concluded about a signer (RFC 5280 §6). */
export type Trust = 'TRUSTED' | 'UNTRUSTED' | 'EXPIRED' | 'NOT_YET_VALID' | 'REVOKED' | 'UNKNOWN';

export interface TrustInput {
  signer: Uint8Array;
  /** Candidate intermediates: CMS certificates, then DSS /Certs. */
  pool: Uint8Array[];
  anchors: Uint8Array[];
  crls: Uint8Array[];
  ocsps: Uint8Array[];
  /** The time the certificate must be valid at. */
  at: Date;
  /** True when `at` comes from a verified timestamp; false for the signer's claimed /M (or the current time). */
  timeProven: boolean;
}

export interface TrustResult {
  trust: Trust;
  reasons: string[];
  /** Subject of the anchor the chain ends at. */
  anchor?: string;
  /** Where the signer's revocation status came from (embedded OCSP response or CRL), when it was found. */
  revocationSource?: string;
}

const MAX_CHAIN = 10;

/**
 * The path upwards from `leaf` (leaf first) through certificates of `pool`, as far as an anchor (returned apart; it
 * is the last of `chain` only when the leaf is itself an anchor) or as far as issuers can be found.
 */
export function certificationPath(
  leaf: Certificate,
  pool: readonly Uint8Array[],
  anchors: readonly Uint8Array[],
): { chain: Certificate[]; anchor?: Certificate } {
  const anchorCerts = anchors.flatMap((der) => Certificate.tryFrom(der) ?? []);
  const poolCerts = pool.flatMap((der) => Certificate.tryFrom(der) ?? []);
  const chain: Certificate[] = [leaf];
  for (let cur = leaf; chain.length <= MAX_CHAIN; ) {
    const anchor = anchorCerts.find((a) => a.equals(cur) || cur.isIssuedBy(a));
    if (anchor) return { chain, anchor };
    const issuer = poolCerts.find((c) => !c.equals(cur) && !chain.some((x) => x.equals(c)) && cur.isIssuedBy(c));
    if (!issuer) break;
    chain.push(issuer);
    cur = issuer;
  }
  return { chain };
}

export function evaluateTrust(input: TrustInput): TrustResult {
  const reasons: string[] = [];
  const signer = Certificate.tryFrom(input.signer);
  if (!signer) return { trust: 'UNKNOWN', reasons: ["the signer's certificate cannot be parsed"] };
  const { chain, anchor } = certificationPath(signer, input.pool, input.anchors);
  if (!anchor) {
    return { trust: 'UNTRUSTED', reasons: [`no chain from "${signer.subjectLine}" to a configured trust anchor`] };
  }
  const path = anchor.equals(chain[chain.length - 1]!) ? chain : [...chain, anchor];

  for (const [i, cert] of path.entries()) {
    if (i > 0 && !isCA(cert)) return { trust: 'UNTRUSTED', reasons: [`"${name(cert)}" issues certificates but is not a CA`] };
    const from = cert.notBefore;
    const to = cert.notAfter;
    const when = input.timeProven ? 'at the timestamp time' : 'at the claimed signing time';
    if (input.at.getTime() > to.getTime()) {
      return { trust: 'EXPIRED', reasons: [`certificate "${name(cert)}" expired on ${to.toISOString()}, before ${when} ${input.at.toISOString()}`] };
    }
    if (input.at.getTime() < from.getTime()) {
      return { trust: 'NOT_YET_VALID', reasons: [`certificate "${name(cert)}" is valid only from ${from.toISOString()}, after ${when} ${input.at.toISOString()}`] };
    }
  }
  const usage = keyUsageAllowsSigning(signer);
  if (usage === false) return { trust: 'UNTRUSTED', reasons: ["the signer's key usage allows neither digitalSignature nor nonRepudiation"] };

  const issuer = path[1]!;
  const revocation = revocationStatus(input, signer, issuer);
  if (revocation.revokedAt !== undefined && revocation.revokedAt.getTime() <= input.at.getTime()) {
    return { trust: 'REVOKED', reasons: [`the signer's certificate was revoked on ${revocation.revokedAt.toISOString()} (${revocation.source})`] };
  }
  if (revocation.revokedAt !== undefined) {
    reasons.push(`the signer's certificate was revoked on ${revocation.revokedAt.toISOString()}, after the signing time`);
  } else if (revocation.source) {
    reasons.push(`not revoked according to the embedded ${revocation.source}`);
  }
  if (!input.timeProven) reasons.push('validity checked at the claimed signing time (/M), which no timestamp proves');
  return { trust: 'TRUSTED', reasons, anchor: name(anchor), ...(revocation.source === undefined ? {} : { revocationSource: revocation.source }) };
}

function name(cert: Certificate): string {
  return cert.subjectLine;
}

function isCA(cert: Certificate): boolean {
  try {
    return cert.isCA;
  } catch {
    return false;
  }
}

/** RFC 5280 §4.2.1.3; undefined when the extension is absent (any use allowed). */
function keyUsageAllowsSigning(cert: Certificate): boolean | undefined {
  try {
    const usage = cert.keyUsage;
    if (usage === undefined) return undefined;
    return usage(0) || usage(1); // digitalSignature (0) or nonRepudiation (1)
  } catch {
    return false;
  }
}

/**
 * Revocation of the signer's certificate from embedded CRLs and OCSP responses, checked as src/crypto/revocation.ts
 * checks fresh ones (about this certificate, signed by its issuer or a responder it delegated to with
 * id-kp-OCSPSigning), without their freshness: embedded evidence is weighed against the signing time.
 */
function revocationStatus(input: TrustInput, signer: Certificate, issuing: Certificate): { revokedAt?: Date; source?: string } {
  if (input.crls.length === 0 && input.ocsps.length === 0) return {};
  let source: string | undefined;
  const evidence: [string, Uint8Array, typeof checkCrl][] = [
    ...input.crls.map((der): [string, Uint8Array, typeof checkCrl] => ['CRL', der, checkCrl]),
    ...input.ocsps.map((der): [string, Uint8Array, typeof checkCrl] => ['OCSP response', der, checkOcspResponse]),
  ];
  for (const [kind, der, check] of evidence) {
    let answer: RevocationAnswer;
    try {
      answer = check(der, signer, issuing, undefined);
    } catch {
      continue; // about another certificate, from another issuer, or unreadable: it says nothing here
    }
    source = kind;
    if (answer.status === 'revoked') return { ...(answer.revokedAt === undefined ? {} : { revokedAt: answer.revokedAt }), source: kind };
  }
  return source === undefined ? {} : { source };
}
