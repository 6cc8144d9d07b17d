/**
 * Revocation information for long-term validation: OCSP responses (RFC 6960) and CRLs (RFC 5280 §5) fetched from
 * the URLs a certificate names (authorityInfoAccess id-ad-ocsp, cRLDistributionPoints) or from configured ones, and
 * checked before anyone embeds them: the answer is about this certificate, signed by its issuer (or, for OCSP, by a
 * responder the issuer delegated to with id-kp-OCSPSigning), and current.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SealdError } from '../errors.ts';
import { Certificate } from './certificate.ts';
import { children, oid, readTlv } from './der.ts';
import {
  id_ad_ocsp,
  id_ce_cRLDistributionPoints,
  id_ce_extKeyUsage,
  id_kp_OCSPSigning,
  id_pe_authorityInfoAccess,
  id_pkix_ocsp_basic,
  id_sha1,
} from './oids.ts';
import { signatureHash, verifyWithCertificate } from './verify-signature.ts';

export type CertStatus = 'good' | 'revoked' | 'unknown';

export interface RevocationAnswer {
  kind: 'ocsp' | 'crl';
  /** DER as received: an OCSPResponse, or a CertificateList. What a DSS embeds. */
  der: Uint8Array;
  status: CertStatus;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  revokedAt?: Date;
  /** Certificates the answer brought along (an OCSP responder's own certificate). */
  certificates: Uint8Array[];
}

export interface FetchOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** "Now" for freshness checks (tests). */
  now?: Date;
}

/** GeneralName uniformResourceIdentifier: [6] IMPLICIT IA5String (RFC 5280 §4.2.1.6). */
const URI_TAG = 0x86;
const MAX_BYTES = 8 * 1024 * 1024;

function uri(value: Uint8Array): string {
  return Buffer.from(value).toString('latin1');
}

/**
 * The OCSP responder URLs of a certificate's authorityInfoAccess (RFC 5280 §4.2.2.1):
 *   AuthorityInfoAccessSyntax ::= SEQUENCE OF AccessDescription { accessMethod OID, accessLocation GeneralName }
 */
export function ocspUrls(certificate: Certificate): string[] {
  const extension = certificate.extensions.get(id_pe_authorityInfoAccess);
  if (extension === undefined) return [];
  return children(readTlv(extension.value))
    .map((description) => children(description))
    .filter(([method, location]) => method !== undefined && oid(method) === id_ad_ocsp && location?.tag === URI_TAG)
    .map(([, location]) => uri(location!.value));
}

/**
 * The HTTP(S) URLs of a certificate's CRL distribution points (RFC 5280 §4.2.1.13):
 *   DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL, … }
 *   DistributionPointName ::= CHOICE { fullName [0] GeneralNames, nameRelativeToCRLIssuer [1] … }
 */
export function crlUrls(certificate: Certificate): string[] {
  const extension = certificate.extensions.get(id_ce_cRLDistributionPoints);
  if (extension === undefined) return [];
  const urls: string[] = [];
  for (const point of children(readTlv(extension.value))) {
    const name = children(point).find((t) => t.tag === 0xa0);
    const fullName = name === undefined ? undefined : children(name).find((t) => t.tag === 0xa0);
    for (const general of fullName === undefined ? [] : children(fullName)) {
      if (general.tag === URI_TAG && /^https?:/i.test(uri(general.value))) urls.push(uri(general.value));
    }
  }
  return urls;
}

/** RFC 6960 §4.1.1 CertID with SHA-1, the hash every responder understands. */
function certId(certificate: Certificate, issuer: Certificate): pkijs.CertID {
  const sha1 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha1').update(data).digest());
  return new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: id_sha1, algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: sha1(issuer.subjectName.bytes) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: sha1(issuer.subjectPublicKey) }),
    serialNumber: asn1js.fromBER(new Uint8Array(certificate.serialNumber.bytes)).result as asn1js.Integer,
  });
}

/** Asks one OCSP responder about `certificate` and checks the answer. */
export async function fetchOcsp(
  certificate: Certificate,
  issuer: Certificate,
  url: string,
  options: FetchOptions,
): Promise<RevocationAnswer> {
  const id = certId(certificate, issuer);
  const request = new pkijs.OCSPRequest({ tbsRequest: new pkijs.TBSRequest({ requestList: [new pkijs.Request({ reqCert: id })] }) });
  const body = await post(url, 'application/ocsp-request', new Uint8Array(request.toSchema(true).toBER()), options, 'OCSP');
  return checkOcspResponse(body, certificate, issuer, options.now ?? new Date());
}

/**
 * Checks an OCSP response about `certificate`. `now` is when it must be current (a freshly fetched answer); undefined
 * for evidence embedded in a document, which a verifier weighs against the signing time instead.
 */
export function checkOcspResponse(der: Uint8Array, certificate: Certificate, issuer: Certificate, now: Date | undefined): RevocationAnswer {
  let response: pkijs.OCSPResponse;
  try {
    response = pkijs.OCSPResponse.fromBER(new Uint8Array(der));
  } catch {
    throw unavailable('OCSP_BAD_RESPONSE', 'the OCSP responder answered with something that is not an OCSP response');
  }
  const status = response.responseStatus.valueBlock.valueDec;
  if (status !== 0) throw unavailable('OCSP_REFUSED', `the OCSP responder refused the request (status ${status})`);
  if (response.responseBytes?.responseType !== id_pkix_ocsp_basic) {
    throw unavailable('OCSP_BAD_RESPONSE', 'the OCSP response is not a basic OCSP response');
  }
  const basic = pkijs.BasicOCSPResponse.fromBER(new Uint8Array(response.responseBytes.response.valueBlock.valueHexView));
  const wanted = certId(certificate, issuer);
  const single = basic.tbsResponseData.responses.find((r) => sameCertId(r.certID, wanted));
  if (single === undefined) throw unavailable('OCSP_BAD_RESPONSE', 'the OCSP response is not about this certificate');

  const certificates = (basic.certs ?? [])
    .filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
    .flatMap((c) => Certificate.tryFrom(new Uint8Array(c.toSchema().toBER())) ?? []);
  const hash = signatureHash(basic.signatureAlgorithm.algorithmId);
  const signers = [issuer, ...certificates.filter((c) => isDelegatedResponder(c, issuer))];
  const tbs = basic.tbsResponseData.tbsView;
  const signature = basic.signature.valueBlock.valueHexView;
  if (hash === undefined || !signers.some((s) => verifyWithCertificate(s, hash, tbs, signature))) {
    throw unavailable('OCSP_BAD_SIGNATURE', 'the OCSP response is not signed by the issuer or a responder it authorised');
  }
  if (now !== undefined) checkFresh(single.thisUpdate, single.nextUpdate, now, 'OCSP response');
  const tag = (single.certStatus as asn1js.BaseBlock).idBlock.tagNumber;
  const answer: RevocationAnswer = {
    kind: 'ocsp',
    der,
    status: tag === 0 ? 'good' : tag === 1 ? 'revoked' : 'unknown',
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate,
    certificates: certificates.map((c) => c.der),
  };
  if (tag === 1) {
    const revoked = single.certStatus as asn1js.Constructed;
    const time = revoked.valueBlock.value[0] as asn1js.GeneralizedTime | undefined;
    if (time !== undefined) answer.revokedAt = time.toDate();
  }
  return answer;
}

/** RFC 6960 §4.2.2.2: a delegated responder's certificate is issued by the CA and has id-kp-OCSPSigning. */
function isDelegatedResponder(candidate: Certificate, issuer: Certificate): boolean {
  if (!sameName(nameOf(candidate.issuerName.bytes), issuer)) return false;
  try {
    if (!candidate.extendedKeyUsage?.purposes.includes(id_kp_OCSPSigning)) return false;
  } catch {
    return false;
  }
  const hash = signatureHash(candidate.signatureAlgorithm);
  const signature = candidate.signatureValue;
  return hash !== undefined && signature !== undefined && verifyWithCertificate(issuer, hash, candidate.tbsCertificate, signature);
}

function nameOf(der: Uint8Array): pkijs.RelativeDistinguishedNames | undefined {
  try {
    return pkijs.RelativeDistinguishedNames.fromBER(new Uint8Array(der));
  } catch {
    return undefined;
  }
}

/** `name` is `issuer`'s subject, compared as X.501 Names (attribute by attribute, strings case- and space-folded). */
function sameName(name: pkijs.RelativeDistinguishedNames | undefined, issuer: Certificate): boolean {
  const subject = nameOf(issuer.subjectName.bytes);
  return name !== undefined && subject !== undefined && name.isEqual(subject);
}

/** A CertificateSerialNumber INTEGER's contents. */
function serialOf(certificate: Certificate): Uint8Array {
  return certificate.serialNumber.value;
}

function sameCertId(a: pkijs.CertID, b: pkijs.CertID): boolean {
  return (
    a.hashAlgorithm.algorithmId === b.hashAlgorithm.algorithmId &&
    Buffer.compare(a.serialNumber.valueBlock.valueHexView, b.serialNumber.valueBlock.valueHexView) === 0 &&
    Buffer.compare(a.issuerNameHash.valueBlock.valueHexView, b.issuerNameHash.valueBlock.valueHexView) === 0 &&
    Buffer.compare(a.issuerKeyHash.valueBlock.valueHexView, b.issuerKeyHash.valueBlock.valueHexView) === 0
  );
}

/** Downloads a CRL (DER or PEM) and checks it is the issuer's, current, and what it says of `certificate`. */
export async function fetchCrl(
  certificate: Certificate,
  issuer: Certificate,
  url: string,
  options: FetchOptions,
): Promise<RevocationAnswer> {
  const body = await get(url, options);
  return checkCrl(body, certificate, issuer, options.now ?? new Date());
}

/** Checks a CRL (DER or PEM) for `certificate`; `now` as for checkOcspResponse. */
export function checkCrl(body: Uint8Array, certificate: Certificate, issuer: Certificate, now: Date | undefined): RevocationAnswer {
  const der = pemOrDer(body, 'X509 CRL');
  let crl: pkijs.CertificateRevocationList;
  try {
    crl = pkijs.CertificateRevocationList.fromBER(new Uint8Array(der));
  } catch {
    throw unavailable('CRL_BAD', 'the CRL distribution point served something that is not a CRL');
  }
  if (!sameName(crl.issuer, issuer)) throw unavailable('CRL_BAD', 'the CRL is not from the certificate’s issuer');
  const hash = signatureHash(crl.signature.algorithmId);
  if (hash === undefined || !verifyWithCertificate(issuer, hash, crl.tbsView, crl.signatureValue.valueBlock.valueHexView)) {
    throw unavailable('CRL_BAD_SIGNATURE', 'the CRL is not signed by the certificate’s issuer');
  }
  const thisUpdate = crl.thisUpdate.value;
  const nextUpdate = crl.nextUpdate?.value;
  if (now !== undefined) checkFresh(thisUpdate, nextUpdate, now, 'CRL');
  const serial = serialOf(certificate);
  const entry = crl.revokedCertificates?.find((r) => Buffer.compare(r.userCertificate.valueBlock.valueHexView, serial) === 0);
  return {
    kind: 'crl',
    der,
    status: entry === undefined ? 'good' : 'revoked',
    thisUpdate,
    nextUpdate,
    ...(entry === undefined ? {} : { revokedAt: entry.revocationDate.value }),
    certificates: [],
  };
}

function checkFresh(thisUpdate: Date, nextUpdate: Date | undefined, now: Date, what: string): void {
  const skew = 5 * 60_000;
  if (thisUpdate.getTime() > now.getTime() + skew) throw unavailable('REVOCATION_NOT_YET_VALID', `the ${what} is from the future`);
  if (nextUpdate !== undefined && nextUpdate.getTime() < now.getTime() - skew) {
    throw unavailable('REVOCATION_STALE', `the ${what} expired at ${nextUpdate.toISOString()}`);
  }
}

function pemOrDer(body: Uint8Array, label: string): Uint8Array {
  const text = Buffer.from(body.subarray(0, 64)).toString('latin1');
  if (!text.includes('-----BEGIN')) return body;
  const pem = Buffer.from(body).toString('latin1');
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  return match === null ? body : new Uint8Array(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
}

async function post(url: string, type: string, body: Uint8Array, options: FetchOptions, what: string): Promise<Uint8Array> {
  return request(url, { method: 'POST', headers: { 'content-type': type }, body: Buffer.from(body) }, options, what);
}

async function get(url: string, options: FetchOptions): Promise<Uint8Array> {
  return request(url, { method: 'GET' }, options, 'CRL');
}

async function request(url: string, init: RequestInit, options: FetchOptions, what: string): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  try {
    const response = await fetch(url, { ...init, signal, redirect: 'follow' });
    if (!response.ok) throw unavailable(`${what}_HTTP_ERROR`, `${url} answered HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > MAX_BYTES) throw unavailable(`${what}_BAD_RESPONSE`, `${url} sent more than ${MAX_BYTES} bytes`);
    return bytes;
  } catch (error) {
    if (error instanceof SealdError) throw error;
    if (options.signal?.aborted) throw new SealdError('cancelled', 'CANCELLED', `the ${what} request was cancelled`);
    if (timeout.aborted) throw new SealdError('deadline', `${what}_TIMEOUT`, `${url} did not answer within ${options.timeoutMs} ms`);
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw unavailable(`${what}_UNREACHABLE`, `cannot reach ${url} (${cause})`);
  }
}

function unavailable(code: string, message: string): SealdError {
  return new SealdError('unavailable', code, message);
}
