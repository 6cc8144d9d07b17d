/**
 * Trust in a signer (RFC 5280 §6, simplified to what a seal verifier needs): a chain from the signer's certificate to
 * a configured trust anchor, built from the certificates of the CMS and of the document's DSS (ETSI EN 319 142-1
 * §5.4.2); every certificate on it valid at the signing time; CA certificates marked as CAs; the signer's key usage
 * allowing signatures (§4.2.1.3); and revocation from embedded CRLs (RFC 5280 §5) and OCSP responses (RFC 6960)
 * when the document carries them. Nothing is fetched from the network.
 *
 * The signing time is the claimed /M until timestamps are verified; the caller passes `timeProven` to say which.
 *
 * Certificates signed with SM2-with-SM3 (GM/T 0015-2012) go through the same path validation: Node's X509Certificate
 * parses them (names, validity, basic constraints, issuer match) but cannot verify their signature — their key type
 * is unknown to it — so that one step is done by sm2-certificate.ts.
 */
import { X509Certificate } from 'node:crypto';
import type * as pkijs from 'pkijs';
import { parseCertificate } from './certificate.ts';
import { checkCrl, checkOcspResponse, type RevocationAnswer } from './revocation.ts';
import { certificateFields, children, expectTag, oid, readTlv } from './der.ts';
import { id_sm2sign_with_sm3 } from './oids-gm.ts';
import { verifySm2CertificateSignature } from './sm2-certificate.ts';

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
const KEY_USAGE = '2.5.29.15';

/** Parsed certificates by DER: a document's signatures share a handful of certificates and anchors. */
const parsed = new Map<string, X509Certificate | undefined>();
const MAX_PARSED = 512;

export function x509(der: Uint8Array): X509Certificate | undefined {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
  if (parsed.has(key)) return parsed.get(key);
  let cert: X509Certificate | undefined;
  try {
    cert = new X509Certificate(Buffer.from(der));
  } catch {
    cert = undefined;
  }
  if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!);
  parsed.set(key, cert);
  return cert;
}

/** Certificate.signatureAlgorithm (RFC 5280 §4.1.1.2), the algorithm its issuer signed it with. */
function signatureAlgorithmOf(der: Uint8Array): string | undefined {
  try {
    return oid(expectTag(children(expectTag(children(readTlv(der))[1], 0x30, 'signatureAlgorithm'))[0], 0x06, 'algorithm'));
  } catch {
    return undefined;
  }
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    if (!cert.checkIssued(issuer)) return false;
    const der = new Uint8Array(cert.raw.buffer, cert.raw.byteOffset, cert.raw.byteLength);
    if (signatureAlgorithmOf(der) === id_sm2sign_with_sm3) {
      // throws (→ false) when the issuer's key is not an SM2 key
      return verifySm2CertificateSignature(der, new Uint8Array(issuer.raw.buffer, issuer.raw.byteOffset, issuer.raw.byteLength));
    }
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * The path upwards from `leaf` (leaf first) through certificates of `pool`, as far as an anchor (returned apart; it
 * is the last of `chain` only when the leaf is itself an anchor) or as far as issuers can be found.
 */
export function certificationPath(
  leaf: X509Certificate,
  pool: readonly Uint8Array[],
  anchors: readonly Uint8Array[],
): { chain: X509Certificate[]; anchor?: X509Certificate } {
  const anchorCerts = anchors.map(x509).filter((c): c is X509Certificate => c !== undefined);
  const poolCerts = pool.map(x509).filter((c): c is X509Certificate => c !== undefined);
  const chain: X509Certificate[] = [leaf];
  for (let cur = leaf; chain.length <= MAX_CHAIN; ) {
    const anchor = anchorCerts.find((a) => a.raw.equals(cur.raw) || issuedBy(cur, a));
    if (anchor) return { chain, anchor };
    const issuer = poolCerts.find((c) => !c.raw.equals(cur.raw) && !chain.some((x) => x.raw.equals(c.raw)) && issuedBy(cur, c));
    if (!issuer) break;
    chain.push(issuer);
    cur = issuer;
  }
  return { chain };
}

export function evaluateTrust(input: TrustInput): TrustResult {
  const reasons: string[] = [];
  const signer = x509(input.signer);
  if (!signer) return { trust: 'UNKNOWN', reasons: ["the signer's certificate cannot be parsed"] };
  const { chain, anchor } = certificationPath(signer, input.pool, input.anchors);
  if (!anchor) {
    return { trust: 'UNTRUSTED', reasons: [`no chain from "${signer.subject.replace(/\n/g, ', ')}" to a configured trust anchor`] };
  }
  const path = anchor.raw.equals(chain[chain.length - 1]!.raw) ? chain : [...chain, anchor];

  for (const [i, cert] of path.entries()) {
    if (i > 0 && !cert.ca) return { trust: 'UNTRUSTED', reasons: [`"${name(cert)}" issues certificates but is not a CA`] };
    const from = new Date(cert.validFrom);
    const to = new Date(cert.validTo);
    const when = input.timeProven ? 'at the timestamp time' : 'at the claimed signing time';
    if (input.at.getTime() > to.getTime()) {
      return { trust: 'EXPIRED', reasons: [`certificate "${name(cert)}" expired on ${to.toISOString()}, before ${when} ${input.at.toISOString()}`] };
    }
    if (input.at.getTime() < from.getTime()) {
      return { trust: 'NOT_YET_VALID', reasons: [`certificate "${name(cert)}" is valid only from ${from.toISOString()}, after ${when} ${input.at.toISOString()}`] };
    }
  }
  const usage = keyUsageAllowsSigning(input.signer);
  if (usage === false) return { trust: 'UNTRUSTED', reasons: ["the signer's key usage allows neither digitalSignature nor nonRepudiation"] };

  const issuer = path[1]!;
  const revocation = revocationStatus(input, issuer);
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

function name(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ', ');
}

/** RFC 5280 §4.2.1.3; undefined when the extension is absent (any use allowed). */
function keyUsageAllowsSigning(der: Uint8Array): boolean | undefined {
  try {
    const ext = certificateFields(der).extensions.get(KEY_USAGE);
    if (!ext) return undefined;
    const bits = readTlv(ext); // BIT STRING: unused-bits octet, then the bits
    if (bits.tag !== 0x03) return false;
    const first = bits.value[1] ?? 0;
    return (first & 0x80) !== 0 || (first & 0x40) !== 0; // digitalSignature (0) or nonRepudiation (1)
  } catch {
    return false;
  }
}

/**
 * Revocation of the signer's certificate from embedded CRLs and OCSP responses, checked as src/crypto/revocation.ts
 * checks fresh ones (about this certificate, signed by its issuer or a responder it delegated to with
 * id-kp-OCSPSigning), without their freshness: embedded evidence is weighed against the signing time.
 */
function revocationStatus(input: TrustInput, issuer: X509Certificate): { revokedAt?: Date; source?: string } {
  if (input.crls.length === 0 && input.ocsps.length === 0) return {};
  let signer: pkijs.Certificate;
  let issuing: pkijs.Certificate;
  try {
    signer = parseCertificate(input.signer);
    issuing = parseCertificate(new Uint8Array(issuer.raw));
  } catch {
    return {};
  }
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
