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
  id_sha1,
  id_sha256,
  id_sha384,
  id_sha512,
} from './oids.ts';
import { Certificate } from './certificate.ts';
import { checkCms, parseCms } from './signed-data.ts';
import { children, oid, readTlv } from './der.ts';
import { id_sm3 } from './oids-gm.ts';
import { sm3 } from './sm3.ts';

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
  // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }: the token's bytes as
  // the TSA sent them (re-encoding could change what its signature covers).
  const tokenDer = children(readTlv(der))[1]!.bytes;
  const { token, info } = readToken(tokenDer, expect.request.imprint);
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
  return readToken(tokenDer, imprint).token;
}

/** RFC 3161 §2.4.1 messageImprint hash algorithms a verifier accepts in tokens others made, by OID. */
const IMPRINT_HASHES: Record<string, string> = {
  [id_sha1]: 'sha1',
  [id_sha256]: 'sha256',
  [id_sha384]: 'sha384',
  [id_sha512]: 'sha512',
  // GM/T 0006-2012: SM3, the imprint of Chinese TSAs (GM/T 0033-2014) and of GB/T 38540 seals' time-stamps
  [id_sm3]: 'sm3',
};

/**
 * Checks a token made by anyone over `data`: its messageImprint must be the hash of `data` with the algorithm the
 * token names (RFC 3161 §2.4.2 — a TSA may use SHA-384 or, in old files, SHA-1), then as checkTimestampToken.
 * `alreadyHashed`: `data` is the digest, made with timestampImprintHash(tokenDer) (a PDF's byte ranges, streamed).
 */
export async function checkTimestampTokenOver(tokenDer: Uint8Array, data: Uint8Array, alreadyHashed = false): Promise<TimestampToken> {
  return readToken(tokenDer, (algorithm) => {
    const node = IMPRINT_HASHES[algorithm];
    if (node === undefined) return undefined;
    if (alreadyHashed) return data;
    return node === 'sm3' ? sm3(data) : new Uint8Array(createHash(node).update(data).digest());
  }).token;
}

/** The Node hash name of a token's messageImprint algorithm, or undefined when unreadable or unsupported. */
export function timestampImprintHash(tokenDer: Uint8Array): string | undefined {
  try {
    const parsed = parseCms(tokenDer, { encapsulated: true });
    const content = parsed.ok ? parsed.cms.content : undefined;
    if (content === undefined) return undefined;
    return IMPRINT_HASHES[pkijs.TSTInfo.fromBER(new Uint8Array(content.bytes)).messageImprint.hashAlgorithm.algorithmId];
  } catch {
    return undefined;
  }
}

/**
 * The token's SignedData is read and checked by the verifier's CMS code (src/crypto/signed-data.ts: one SignerInfo, its
 * message-digest over the encapsulated TSTInfo, the signature over the signed attributes as received, the
 * signing-certificate attribute), so seald has one CMS checker for signatures and time-stamps alike.
 */
function readToken(
  tokenDer: Uint8Array,
  expected: Uint8Array | ((algorithm: string) => Uint8Array | undefined),
): { token: TimestampToken; info: pkijs.TSTInfo } {
  const parsed = parseCms(tokenDer, { encapsulated: true });
  const content = parsed.ok ? parsed.cms.content : undefined;
  if (!parsed.ok || content === undefined || content.type !== id_ct_TSTInfo) {
    throw bad('TSA_BAD_TOKEN', 'the time-stamp token is not a SignedData over a TSTInfo');
  }
  const cms = parsed.cms;
  let info: pkijs.TSTInfo;
  try {
    info = pkijs.TSTInfo.fromBER(new Uint8Array(content.bytes));
  } catch {
    throw bad('TSA_BAD_TOKEN', 'the time-stamp token is not a SignedData over a TSTInfo');
  }
  const algorithm = info.messageImprint.hashAlgorithm.algorithmId;
  const imprint = typeof expected === 'function' ? expected(algorithm) : algorithm === id_sha256 ? expected : undefined;
  if (imprint === undefined) {
    throw bad('TSA_UNSUPPORTED_IMPRINT', `the time-stamp token uses imprint algorithm ${algorithm}, which seald does not support here`);
  }
  if (!sameBytes(info.messageImprint.hashedMessage.valueBlock.valueHexView, imprint)) {
    throw bad('TSA_WRONG_IMPRINT', 'the time-stamp token is for other data (messageImprint differs)');
  }
  if (cms.digestNode === undefined || cms.signerCertificate === undefined) {
    throw bad('TSA_BAD_TOKEN', "the time-stamp token uses an unsupported digest or lacks its signer's certificate");
  }
  const tstDigest = cms.digestNode === 'sm3' ? sm3(content.bytes) : new Uint8Array(createHash(cms.digestNode).update(content.bytes).digest());
  const checked = checkCms(cms, tstDigest, undefined, id_ct_TSTInfo);
  if (checked.integrity !== 'INTACT') {
    const what = checked.integrity === 'SIGNER_CERT_MISMATCH' ? "the time-stamp token's signing certificate is not identified" : "the time-stamp token's signature does not verify";
    throw bad('TSA_BAD_TOKEN', `${what} (${checked.reason ?? checked.integrity})`);
  }
  checkTimestampingUsage(Certificate.from(cms.signerCertificate));
  const token: TimestampToken = {
    der: tokenDer,
    genTime: info.genTime,
    accuracyMs: accuracyMs(info.accuracy),
    policy: info.policy,
    serial: Buffer.from(unsignedInteger(info.serialNumber)).toString('hex'),
    tsaCertificate: cms.signerCertificate,
    certificates: cms.certificates,
  };
  return { token, info };
}

/** RFC 3161 §2.3: the TSA certificate has one extended key usage, id-kp-timeStamping, and it is critical. */
function checkTimestampingUsage(cert: Certificate): void {
  let usage: { purposes: string[]; critical: boolean } | undefined;
  try {
    usage = cert.extendedKeyUsage;
  } catch {
    usage = undefined; // unreadable: not a time-stamping certificate
  }
  if (usage === undefined || !usage.critical || usage.purposes.length !== 1 || usage.purposes[0] !== id_kp_timeStamping) {
    throw bad('TSA_BAD_CERTIFICATE', 'the certificate that signed the time-stamp token is not a time-stamping certificate (RFC 3161 §2.3)');
  }
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
  // Walked with der.ts, not pkijs: a full pkijs SignedData per signature was 85 % of verify's CPU on a 25-signature
  // document (bench/verify-bench.ts, node --cpu-prof), for two fields. RFC 5652 §5.1/§5.3: signerInfos ends the
  // SignedData; in a SignerInfo the signature OCTET STRING comes last but for unsignedAttrs [1] IMPLICIT.
  try {
    const sd = children(children(readTlv(cmsDer))[1]!)[0]!;
    const signerInfo = children(children(sd).at(-1)!)[0];
    if (signerInfo === undefined) return [];
    const si = children(signerInfo);
    const unsigned = si.at(-1)?.tag === 0xa1 ? si.at(-1)! : undefined;
    const signature = si.at(unsigned === undefined ? -1 : -2);
    if (signature?.tag !== 0x04) return [];
    const signatureValue = Uint8Array.from(signature.value);
    const out: { token: Uint8Array; signatureValue: Uint8Array }[] = [];
    for (const attribute of unsigned === undefined ? [] : children(unsigned)) {
      const [type, values] = children(attribute);
      if (type?.tag !== 0x06 || oid(type) !== id_aa_signatureTimeStampToken || values === undefined) continue;
      for (const v of children(values)) out.push({ token: Uint8Array.from(v.bytes), signatureValue });
    }
    return out;
  } catch {
    return [];
  }
}
