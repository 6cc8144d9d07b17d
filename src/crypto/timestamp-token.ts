/**
 * RFC 3161 time-stamp requests and tokens: the DER of a TimeStampReq, and the checks a TimeStampResp must pass before
 * its token may go into a signature (§2.4.2: status, the token's signature by a certificate with the sole critical
 * extended key usage id-kp-timeStamping, the messageImprint and nonce we asked for, the policy when one is required).
 *
 * Pure functions over bytes: no network (src/crypto/tsa-client.ts) and no trust decisions (a verifier builds the TSA's
 * chain to its anchors; a client only refuses what is certainly wrong).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SealdError } from '../errors.ts';
import {
  id_aa_signatureTimeStampToken,
  id_ce_extKeyUsage,
  id_ct_TSTInfo,
  id_kp_timeStamping,
  id_messageDigest,
  id_sha256,
  id_signedData,
} from './oids.ts';
import { signatureHash, verifyWithCertificate } from './verify-signature.ts';

/** A checked time-stamp token. */
export interface TimestampToken {
  /** DER of the token: a ContentInfo holding a SignedData over a TSTInfo (what goes into a signature). */
  der: Uint8Array;
  genTime: Date;
  /** Accuracy in milliseconds, when the TSA states one. */
  accuracyMs: number | undefined;
  policy: string;
  /** Hex of the TSA's serial number for this token. */
  serial: string;
  /** DER of the certificate that signed the token. */
  tsaCertificate: Uint8Array;
  /** DER of every certificate the token carries (the TSA's and any chain). */
  certificates: Uint8Array[];
}

export interface TimestampRequest {
  der: Uint8Array;
  /** The nonce sent, as unsigned big-endian bytes. */
  nonce: Uint8Array;
  imprint: Uint8Array;
}

/** RFC 3161 §2.4.1 TimeStampReq for a SHA-256 imprint, with a 64-bit nonce and certReq so the TSA certificate comes along. */
export function timestampRequest(imprint: Uint8Array, policy?: string): TimestampRequest {
  if (imprint.length !== 32) {
    throw new SealdError('invalid-input', 'BAD_DIGEST_LENGTH', `a time-stamp imprint must be a 32-byte SHA-256, got ${imprint.length}`);
  }
  const nonce = new Uint8Array(randomBytes(8));
  nonce[0] = (nonce[0]! & 0x7f) | 0x01; // positive, and never shortened by DER's minimal encoding
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: id_sha256 }),
      hashedMessage: new asn1js.OctetString({ valueHex: imprint }),
    }),
    nonce: new asn1js.Integer({ valueHex: nonce }),
    certReq: true,
    ...(policy === undefined ? {} : { reqPolicy: policy }),
  });
  return { der: new Uint8Array(request.toSchema().toBER()), nonce, imprint };
}

export interface ResponseExpectations {
  request: TimestampRequest;
  /** Policy OID the token must carry, when the deployment requires one. */
  policy?: string;
}

const STATUS_TEXT = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];

/**
 * Parses a TimeStampResp and checks it answers `request`. Every failure is a SealdError('unavailable', …): for the
 * caller a TSA that answers wrongly is as useless as one that is down, and the next TSA may do better.
 */
export async function checkTimestampResponse(der: Uint8Array, expect: ResponseExpectations): Promise<TimestampToken> {
  let response: pkijs.TimeStampResp;
  try {
    response = pkijs.TimeStampResp.fromBER(new Uint8Array(der));
  } catch {
    throw bad('TSA_BAD_RESPONSE', 'the TSA answered with something that is not a time-stamp response');
  }
  const status = response.status.status;
  if (status !== 0 && status !== 1) {
    const text = response.status.statusStrings?.map((s) => s.valueBlock.value).join('; ');
    throw bad('TSA_REFUSED', `the TSA refused the request (${STATUS_TEXT[status] ?? `status ${status}`}${text ? `: ${text}` : ''})`);
  }
  if (response.timeStampToken === undefined) throw bad('TSA_BAD_RESPONSE', 'the TSA granted the request but sent no token');
  const tokenDer = new Uint8Array(response.timeStampToken.toSchema().toBER());
  const token = await checkTimestampToken(tokenDer, expect.request.imprint);
  const info = tstInfoOf(response.timeStampToken);
  if (!sameBytes(unsignedInteger(info.nonce), expect.request.nonce)) {
    throw bad('TSA_BAD_RESPONSE', 'the TSA answered with a token for another request (nonce differs)');
  }
  if (expect.policy !== undefined && info.policy !== expect.policy) {
    throw bad('TSA_BAD_RESPONSE', `the TSA used policy ${info.policy}, not the required ${expect.policy}`);
  }
  return token;
}

/**
 * Checks a token on its own: a SignedData over a TSTInfo for a SHA-256 of `imprint`, signed by the certificate it
 * carries, which is a time-stamping certificate. Used on fresh tokens and, by a verifier, on embedded ones.
 */
export async function checkTimestampToken(tokenDer: Uint8Array, imprint: Uint8Array): Promise<TimestampToken> {
  let contentInfo: pkijs.ContentInfo;
  let info: pkijs.TSTInfo;
  let signedData: pkijs.SignedData;
  try {
    contentInfo = pkijs.ContentInfo.fromBER(new Uint8Array(tokenDer));
    if (contentInfo.contentType !== id_signedData) throw new Error('not SignedData');
    signedData = new pkijs.SignedData({ schema: contentInfo.content });
    info = tstInfoOf(contentInfo);
  } catch {
    throw bad('TSA_BAD_TOKEN', 'the time-stamp token is not a SignedData over a TSTInfo');
  }
  if (info.messageImprint.hashAlgorithm.algorithmId !== id_sha256) {
    throw bad('TSA_BAD_TOKEN', `the time-stamp token uses imprint algorithm ${info.messageImprint.hashAlgorithm.algorithmId}, not SHA-256`);
  }
  if (!sameBytes(info.messageImprint.hashedMessage.valueBlock.valueHexView, imprint)) {
    throw bad('TSA_WRONG_IMPRINT', 'the time-stamp token is for other data (messageImprint differs)');
  }
  const tsaCertificate = verifySignerInfo(signedData);
  checkTimestampingUsage(tsaCertificate);
  return {
    der: tokenDer,
    genTime: info.genTime,
    accuracyMs: accuracyMs(info.accuracy),
    policy: info.policy,
    serial: Buffer.from(unsignedInteger(info.serialNumber)).toString('hex'),
    tsaCertificate: new Uint8Array(tsaCertificate.toSchema().toBER()),
    certificates: (signedData.certificates ?? [])
      .filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
      .map((c) => new Uint8Array(c.toSchema().toBER())),
  };
}

/**
 * RFC 5652 §5.4–5.6 for the token's one SignerInfo: the message-digest attribute is the hash of the TSTInfo, and the
 * signature over the signed attributes (as a DER SET, in the bytes the TSA sent) verifies with the certificate the
 * SignerInfo names. Returns that certificate. (pkijs' SignedData.verify insists on the time-stamped data itself,
 * which a time-stamp client never has: it only has the imprint, checked separately.)
 */
function verifySignerInfo(signedData: pkijs.SignedData): pkijs.Certificate {
  const signerInfo = signedData.signerInfos[0];
  const content = signedData.encapContentInfo.eContent?.getValue();
  if (signedData.signerInfos.length !== 1 || signerInfo === undefined || content === undefined) {
    throw bad('TSA_BAD_TOKEN', 'the time-stamp token must have exactly one signer and an encapsulated TSTInfo');
  }
  const hash = signatureHash(signerInfo.signatureAlgorithm.algorithmId, signerInfo.digestAlgorithm.algorithmId);
  const attrs = signerInfo.signedAttrs;
  if (hash === undefined || attrs === undefined) {
    throw bad('TSA_BAD_TOKEN', 'the time-stamp token uses an unsupported algorithm or has no signed attributes');
  }
  const digestAttr = attrs.attributes.find((a) => a.type === id_messageDigest);
  const claimed = (digestAttr?.values[0] as asn1js.OctetString | undefined)?.valueBlock.valueHexView;
  const actual = createHash(hash).update(new Uint8Array(content)).digest();
  if (claimed === undefined || !sameBytes(claimed, actual)) {
    throw bad('TSA_BAD_TOKEN', "the time-stamp token's message digest does not match its TSTInfo");
  }
  const certificate = signerCertificate(signedData, signerInfo);
  const toBeSigned = new Uint8Array(attrs.encodedValue.slice(0));
  toBeSigned[0] = 0x31; // RFC 5652 §5.4: hashed as an explicit SET OF, not as the [0] IMPLICIT in the SignerInfo
  if (!verifyWithCertificate(certificate, hash, toBeSigned, signerInfo.signature.valueBlock.valueHexView)) {
    throw bad('TSA_BAD_TOKEN', "the time-stamp token's signature does not verify");
  }
  return certificate;
}

function signerCertificate(signedData: pkijs.SignedData, signerInfo: pkijs.SignerInfo): pkijs.Certificate {
  const certificates = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const sid = signerInfo.sid as unknown;
  const found =
    sid instanceof pkijs.IssuerAndSerialNumber
      ? certificates.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber))
      : certificates.find((c) => {
          const ski = createHash('sha1').update(c.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
          return sameBytes(ski, (sid as asn1js.Primitive).valueBlock.valueHexView);
        });
  if (found === undefined) throw bad('TSA_BAD_TOKEN', 'the time-stamp token does not carry the certificate of its signer');
  return found;
}

/** RFC 3161 §2.3: the TSA certificate has one extended key usage, id-kp-timeStamping, and it is critical. */
function checkTimestampingUsage(cert: pkijs.Certificate): void {
  const extension = cert.extensions?.find((e) => e.extnID === id_ce_extKeyUsage);
  const usages = (extension?.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [];
  if (extension === undefined || !extension.critical || usages.length !== 1 || usages[0] !== id_kp_timeStamping) {
    throw bad('TSA_BAD_CERTIFICATE', 'the certificate that signed the time-stamp token is not a time-stamping certificate (RFC 3161 §2.3)');
  }
}

function tstInfoOf(contentInfo: pkijs.ContentInfo): pkijs.TSTInfo {
  const signedData = new pkijs.SignedData({ schema: contentInfo.content });
  const encap = signedData.encapContentInfo;
  if (encap.eContentType !== id_ct_TSTInfo || encap.eContent === undefined) throw new Error('not a TSTInfo');
  const bytes = encap.eContent.getValue();
  return pkijs.TSTInfo.fromBER(bytes);
}

function accuracyMs(accuracy: pkijs.Accuracy | undefined): number | undefined {
  if (accuracy === undefined) return undefined;
  return (accuracy.seconds ?? 0) * 1000 + (accuracy.millis ?? 0) + (accuracy.micros ?? 0) / 1000;
}

function unsignedInteger(value: asn1js.Integer | undefined): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  const bytes = value.valueBlock.valueHexView;
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function bad(code: string, message: string): SealdError {
  return new SealdError('unavailable', code, message);
}

/**
 * The signature time-stamps of a CAdES signature (RFC 3161 Appendix A: unsigned attribute
 * id-aa-signatureTimeStampToken), each with the signature value it must cover (its imprint is SHA-256 of that value).
 */
export function signatureTimestampTokens(cmsDer: Uint8Array): { token: Uint8Array; signatureValue: Uint8Array }[] {
  try {
    const signedData = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(cmsDer)).content });
    const signerInfo = signedData.signerInfos[0];
    if (signerInfo === undefined) return [];
    const signatureValue = new Uint8Array(signerInfo.signature.valueBlock.valueHexView);
    return (signerInfo.unsignedAttrs?.attributes ?? [])
      .filter((a) => a.type === id_aa_signatureTimeStampToken)
      .flatMap((a) => a.values.map((v: asn1js.BaseBlock) => ({ token: new Uint8Array(v.toBER()), signatureValue })));
  } catch {
    return [];
  }
}
