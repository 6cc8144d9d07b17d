/**
 * Trust in a signer (RFC 5280 §6, simplified to what a seal verifier needs): a chain from the signer's certificate to
 * a configured trust anchor, built from the certificates of the CMS and of the document's DSS (ETSI EN 319 142-1
 * §5.4.2); every certificate on it valid at the signing time; CA certificates marked as CAs; the signer's key usage
 * allowing signatures (§4.2.1.3); and revocation from embedded CRLs (RFC 5280 §5) and OCSP responses (RFC 6960)
 * when the document carries them. Nothing is fetched from the network.
 *
 * The signing time is the claimed /M until timestamps are verified; the caller passes `timeProven` to say which.
 */
import { verify as verifySignature, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { certificateFields, readTlv } from './der.ts';
import type { Trust } from './report.ts';

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

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

export function evaluateTrust(input: TrustInput): TrustResult {
  const reasons: string[] = [];
  const signer = x509(input.signer);
  if (!signer) return { trust: 'UNKNOWN', reasons: ["the signer's certificate cannot be parsed"] };
  const anchors = input.anchors.map(x509).filter((c): c is X509Certificate => c !== undefined);
  const pool = input.pool.map(x509).filter((c): c is X509Certificate => c !== undefined);

  // Build the path upwards: signer → … → anchor.
  const chain: X509Certificate[] = [signer];
  let anchor: X509Certificate | undefined;
  for (let cur = signer; chain.length <= MAX_CHAIN; ) {
    anchor = anchors.find((a) => a.raw.equals(cur.raw) || issuedBy(cur, a));
    if (anchor) break;
    const issuer = pool.find((c) => !c.raw.equals(cur.raw) && !chain.some((x) => x.raw.equals(c.raw)) && issuedBy(cur, c));
    if (!issuer) break;
    chain.push(issuer);
    cur = issuer;
  }
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

/** Revocation of the signer's certificate from embedded CRLs and OCSP responses signed by its issuer. */
function revocationStatus(input: TrustInput, issuer: X509Certificate): { revokedAt?: Date; source?: string } {
  if (input.crls.length === 0 && input.ocsps.length === 0) return {};
  let signer: pkijs.Certificate;
  try {
    signer = pkijs.Certificate.fromBER(new Uint8Array(input.signer));
  } catch {
    return {};
  }
  let source: string | undefined;
  for (const der of input.crls) {
    try {
      const crl = pkijs.CertificateRevocationList.fromBER(new Uint8Array(der));
      if (!crl.issuer.isEqual(signer.issuer)) continue;
      if (!signedBy(crl.tbsView, crl.signatureAlgorithm, crl.signatureValue, issuer)) continue;
      source = 'CRL';
      const entry = crl.revokedCertificates?.find((r) => r.userCertificate.isEqual(signer.serialNumber));
      if (entry) return { revokedAt: entry.revocationDate.value, source: 'CRL' };
    } catch {
      // An unreadable CRL says nothing.
    }
  }
  for (const der of input.ocsps) {
    try {
      const response = pkijs.OCSPResponse.fromBER(new Uint8Array(der));
      const bytes = response.responseBytes?.response.valueBlock.valueHexView;
      if (!bytes) continue;
      const basic = pkijs.BasicOCSPResponse.fromBER(new Uint8Array(bytes));
      const responder = [issuer, ...(basic.certs ?? []).map((c) => x509(new Uint8Array(c.toSchema().toBER())))].find(
        (c): c is X509Certificate => c !== undefined && (c.raw.equals(issuer.raw) || issuedBy(c, issuer)),
      );
      if (!responder || !signedBy(basic.tbsResponseData.tbsView, basic.signatureAlgorithm, basic.signature, responder)) continue;
      for (const single of basic.tbsResponseData.responses) {
        if (!single.certID.serialNumber.isEqual(signer.serialNumber)) continue;
        source = 'OCSP response';
        const status = single.certStatus as asn1js.BaseBlock;
        if (status.idBlock.tagNumber === 1) {
          const revoked = (status as asn1js.Constructed).valueBlock.value[0] as asn1js.GeneralizedTime;
          return { revokedAt: revoked.toDate(), source: 'OCSP response' };
        }
      }
    } catch {
      // An unreadable response says nothing.
    }
  }
  return source === undefined ? {} : { source };
}

const HASH_OF_SIGNATURE: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

function signedBy(tbs: Uint8Array, alg: pkijs.AlgorithmIdentifier, sig: asn1js.BitString, by: X509Certificate): boolean {
  const hash = HASH_OF_SIGNATURE[alg.algorithmId];
  if (!hash) return false;
  try {
    return verifySignature(hash, tbs, by.publicKey, Buffer.from(sig.valueBlock.valueHexView));
  } catch {
    return false;
  }
}
