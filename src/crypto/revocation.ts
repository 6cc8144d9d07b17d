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
import {
  id_ad_ocsp,
  id_ce_cRLDistributionPoints,
  id_ce_extKeyUsage,
  id_kp_OCSPSigning,
  id_pe_authorityInfoAccess,
  id_pkix_ocsp_basic,
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

const SHA1 = '1.3.14.3.2.26';
const URI = 6;
const MAX_BYTES = 8 * 1024 * 1024;

/** The OCSP responder URLs of a certificate's authorityInfoAccess. */
export function ocspUrls(certificate: pkijs.Certificate): string[] {
  const extension = certificate.extensions?.find((e) => e.extnID === id_pe_authorityInfoAccess);
  const info = extension?.parsedValue as pkijs.InfoAccess | undefined;
  return (info?.accessDescriptions ?? [])
    .filter((d) => d.accessMethod === id_ad_ocsp && d.accessLocation.type === URI)
    .map((d) => String(d.accessLocation.value));
}

/** The HTTP(S) URLs of a certificate's CRL distribution points. */
export function crlUrls(certificate: pkijs.Certificate): string[] {
  const extension = certificate.extensions?.find((e) => e.extnID === id_ce_cRLDistributionPoints);
  const points = (extension?.parsedValue as pkijs.CRLDistributionPoints | undefined)?.distributionPoints ?? [];
  const urls: string[] = [];
  for (const point of points) {
    const names = Array.isArray(point.distributionPoint) ? point.distributionPoint : [];
    for (const name of names) {
      if (name.type === URI && /^https?:/i.test(String(name.value))) urls.push(String(name.value));
    }
  }
  return urls;
}

/** RFC 6960 §4.1.1 CertID with SHA-1, the hash every responder understands. */
function certId(certificate: pkijs.Certificate, issuer: pkijs.Certificate): pkijs.CertID {
  const sha1 = (data: ArrayBuffer | Uint8Array): Uint8Array => new Uint8Array(createHash('sha1').update(new Uint8Array(data)).digest());
  return new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA1, algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: sha1(issuer.subject.toSchema().toBER()) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: sha1(issuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView) }),
    serialNumber: certificate.serialNumber,
  });
}

/** Asks one OCSP responder about `certificate` and checks the answer. */
export async function fetchOcsp(
  certificate: pkijs.Certificate,
  issuer: pkijs.Certificate,
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
export function checkOcspResponse(der: Uint8Array, certificate: pkijs.Certificate, issuer: pkijs.Certificate, now: Date | undefined): RevocationAnswer {
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

  const certificates = (basic.certs ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
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
    certificates: certificates.map((c) => new Uint8Array(c.toSchema().toBER())),
  };
  if (tag === 1) {
    const revoked = single.certStatus as asn1js.Constructed;
    const time = revoked.valueBlock.value[0] as asn1js.GeneralizedTime | undefined;
    if (time !== undefined) answer.revokedAt = time.toDate();
  }
  return answer;
}

/** RFC 6960 §4.2.2.2: a delegated responder's certificate is issued by the CA and has id-kp-OCSPSigning. */
function isDelegatedResponder(candidate: pkijs.Certificate, issuer: pkijs.Certificate): boolean {
  if (!candidate.issuer.isEqual(issuer.subject)) return false;
  const eku = candidate.extensions?.find((e) => e.extnID === id_ce_extKeyUsage)?.parsedValue as pkijs.ExtKeyUsage | undefined;
  if (!eku?.keyPurposes.includes(id_kp_OCSPSigning)) return false;
  const hash = signatureHash(candidate.signatureAlgorithm.algorithmId);
  return hash !== undefined && verifyWithCertificate(issuer, hash, candidate.tbsView, candidate.signatureValue.valueBlock.valueHexView);
}

function sameCertId(a: pkijs.CertID, b: pkijs.CertID): boolean {
  return (
    a.hashAlgorithm.algorithmId === b.hashAlgorithm.algorithmId &&
    a.serialNumber.isEqual(b.serialNumber) &&
    Buffer.compare(a.issuerNameHash.valueBlock.valueHexView, b.issuerNameHash.valueBlock.valueHexView) === 0 &&
    Buffer.compare(a.issuerKeyHash.valueBlock.valueHexView, b.issuerKeyHash.valueBlock.valueHexView) === 0
  );
}

/** Downloads a CRL (DER or PEM) and checks it is the issuer's, current, and what it says of `certificate`. */
export async function fetchCrl(
  certificate: pkijs.Certificate,
  issuer: pkijs.Certificate,
  url: string,
  options: FetchOptions,
): Promise<RevocationAnswer> {
  const body = await get(url, options);
  return checkCrl(body, certificate, issuer, options.now ?? new Date());
}

/** Checks a CRL (DER or PEM) for `certificate`; `now` as for checkOcspResponse. */
export function checkCrl(body: Uint8Array, certificate: pkijs.Certificate, issuer: pkijs.Certificate, now: Date | undefined): RevocationAnswer {
  const der = pemOrDer(body, 'X509 CRL');
  let crl: pkijs.CertificateRevocationList;
  try {
    crl = pkijs.CertificateRevocationList.fromBER(new Uint8Array(der));
  } catch {
    throw unavailable('CRL_BAD', 'the CRL distribution point served something that is not a CRL');
  }
  if (!crl.issuer.isEqual(issuer.subject)) throw unavailable('CRL_BAD', 'the CRL is not from the certificate’s issuer');
  const hash = signatureHash(crl.signature.algorithmId);
  if (hash === undefined || !verifyWithCertificate(issuer, hash, crl.tbsView, crl.signatureValue.valueBlock.valueHexView)) {
    throw unavailable('CRL_BAD_SIGNATURE', 'the CRL is not signed by the certificate’s issuer');
  }
  const thisUpdate = crl.thisUpdate.value;
  const nextUpdate = crl.nextUpdate?.value;
  if (now !== undefined) checkFresh(thisUpdate, nextUpdate, now, 'CRL');
  const entry = crl.revokedCertificates?.find((r) => r.userCertificate.isEqual(certificate.serialNumber));
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
