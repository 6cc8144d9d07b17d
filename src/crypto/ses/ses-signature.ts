/**
 * Reading the electronic seal signature of GB/T 38540-2020 (信息安全技术 安全电子签章密码技术规范, seal version 4) and of
 * GM/T 0031-2014 before it (version 1/2), with der.ts: every signed part is kept as the exact bytes received, since
 * the seal maker's and the signer's signatures are over those DER encodings.
 *
 * GB/T 38540-2020 (v4):
 *   SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET STRING, signatureAlgID OBJECT IDENTIFIER,
 *                                signature BIT STRING, timeStamp [0] BIT STRING OPTIONAL }
 *   TBS_Sign      ::= SEQUENCE { version INTEGER, eseal SESeal, timeInfo GeneralizedTime, dataHash BIT STRING,
 *                                propertyInfo IA5String, extDatas ExtensionDatas OPTIONAL }
 *   SESeal        ::= SEQUENCE { eSealInfo SES_SealInfo, cert OCTET STRING, signAlgID OBJECT IDENTIFIER,
 *                                signedValue BIT STRING }
 *   SES_ESPropertyInfo ::= SEQUENCE { type INTEGER, name UTF8String, certListType INTEGER, certList SES_CertList,
 *                                createDate GeneralizedTime, validStart GeneralizedTime, validEnd GeneralizedTime }
 *   SES_CertList  ::= CHOICE { certs SEQUENCE OF OCTET STRING,                        -- certListType 1
 *                              certDigestList SEQUENCE OF CertDigestObj }             -- certListType 2
 *   CertDigestObj ::= SEQUENCE { type PrintableString, value OCTET STRING }
 * GM/T 0031-2014 (v1):
 *   SES_Signature ::= SEQUENCE { toSign TBS_Sign, signature BIT STRING }
 *   TBS_Sign      ::= SEQUENCE { version INTEGER, eseal SESeal, timeInfo BIT STRING, dataHash BIT STRING,
 *                                propertyInfo IA5String, cert OCTET STRING, signatureAlgorithm OBJECT IDENTIFIER }
 *   SESeal        ::= SEQUENCE { esealInfo SES_SealInfo, signInfo SES_SignInfo }
 *   SES_SignInfo  ::= SEQUENCE { cert OCTET STRING, signatureAlgorithm OBJECT IDENTIFIER, signData BIT STRING }
 *   SES_ESPropertyInfo ::= SEQUENCE { type INTEGER, name UTF8String, certList SEQUENCE OF OCTET STRING,
 *                                createDate UTCTime, validStart UTCTime, validEnd UTCTime }
 * Both:
 *   SES_SealInfo  ::= SEQUENCE { header SES_Header, esID IA5String, property SES_ESPropertyInfo,
 *                                picture SES_ESPictrueInfo, extDatas ExtensionDatas OPTIONAL }
 *   SES_Header    ::= SEQUENCE { ID IA5String ("ES"), version INTEGER, Vid IA5String }
 *   SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING, width INTEGER, height INTEGER }
 * The layout is told by the structure (SES_Signature of 2 elements = v1), not by the version numbers, which vendors
 * fill loosely.
 */
import { tlv } from '../der-encode.ts';
import { children, DerError, expectTag, oid, readTlv, type Tlv } from '../der.ts';

export type SesLayout = 'GB/T 38540-2020' | 'GM/T 0031-2014';

export interface SesPicture {
  /** SES_ESPictrueInfo.type as written: "PNG", "JPG", "GIF", "OFD", "SVG"… */
  type: string;
  data: Uint8Array;
  /** Display size in millimetres (GB/T 38540 §7.1). */
  width: number;
  height: number;
}

export interface SesCertDigest {
  /** The hash algorithm as named ("sm3", "sha1", "sha256"…, or an OID in text). */
  type: string;
  value: Uint8Array;
}

/** What SES_SealInfo says of the seal. */
export interface SesSealInfo {
  /** SES_Header.version and Vid (the vendor). */
  version: number;
  vid: string;
  /** esID: the seal's code. */
  esID: string;
  /** property.type: 1 法人章 (organisation), 2 个人章 (personal), others as the issuer defines. */
  type: number;
  name: string;
  /** 1: certList holds certificates; 2: their digests (v4 only; null in v1). */
  certListType: number | null;
  /** DER certificates the seal lists (the signers entitled to use it). */
  certList: Uint8Array[];
  certDigests: SesCertDigest[];
  createDate: Date | null;
  validStart: Date | null;
  validEnd: Date | null;
  picture: SesPicture;
}

export interface SesSeal extends SesSealInfo {
  /** The seal maker's (制章人) certificate. */
  makerCertificate: Uint8Array;
  signAlgorithm: string;
  /** The maker's signature value (BIT STRING contents without the unused-bits octet). */
  signedValue: Uint8Array;
  /** What the maker may have signed: the DER of SES_SealInfo, and SEQUENCE { sealInfo, cert, algorithm }. */
  signedContents: Uint8Array[];
}

export interface SesSignature {
  layout: SesLayout;
  /** TBS_Sign.version. */
  version: number;
  seal: SesSeal;
  /** timeInfo: the signing time the signer claims (null when it is not a time seald reads). */
  timeInfo: Date | null;
  /** dataHash: the hash of the signed data (for a PDF, the byte ranges). */
  dataHash: Uint8Array;
  propertyInfo: string;
  signerCertificate: Uint8Array;
  signatureAlgorithm: string;
  signature: Uint8Array;
  /** TBS_Sign's DER as received: what the signer signed. */
  tbsSign: Uint8Array;
  /** v4 timeStamp: an RFC 3161 TimeStampToken over the signature value, when present. */
  timeStamp: Uint8Array | undefined;
}

const text = (t: Tlv): string => Buffer.from(t.value).toString(t.tag === 0x0c ? 'utf8' : 'latin1');

function stringOf(t: Tlv | undefined, what: string): string {
  // IA5String 0x16, UTF8String 0x0c, PrintableString 0x13; vendors mix them
  if (!t || ![0x16, 0x0c, 0x13, 0x1e].includes(t.tag)) throw new DerError(`${what} is missing or malformed`);
  if (t.tag === 0x1e) return Buffer.from(t.value).swap16().toString('utf16le'); // BMPString, big-endian UCS-2
  return text(t);
}

function integerOf(t: Tlv | undefined, what: string): number {
  const v = expectTag(t, 0x02, what).value;
  if (v.length === 0 || v.length > 6) throw new DerError(`${what} is out of range`);
  let n = v[0]! & 0x80 ? -1 : 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

/** BIT STRING contents without the unused-bits octet (the values here are whole octets). */
function bitsOf(t: Tlv | undefined, what: string): Uint8Array {
  const v = expectTag(t, 0x03, what).value;
  if (v.length === 0) throw new DerError(`${what} is empty`);
  // X.690 §8.6.2.2: the first octet counts unused bits; a signature or hash has none, and a non-zero count outside the
  // signed bytes would let the same seal be encoded twice.
  if (v[0] !== 0) throw new DerError(`${what} has ${v[0]} unused bits`);
  return v.subarray(1);
}

/** X.680 §46 GeneralizedTime / §47 UTCTime, or undefined for another element. */
export function timeOf(t: Tlv | undefined): Date | null {
  if (!t) return null;
  const s = Buffer.from(t.value).toString('latin1');
  if (t.tag === 0x18) return parseTime(s, false);
  if (t.tag === 0x17) return parseTime(s, true);
  return null;
}

function parseTime(s: string, utc: boolean): Date | null {
  const m = (utc ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.(\d+))?(Z|[+-]\d{4})?$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:\.(\d+))?(Z|[+-]\d{4})?$/).exec(s.trim());
  if (!m) return null;
  let year = Number(m[1]);
  if (utc) year += year < 50 ? 2000 : 1900; // RFC 5280 §4.1.2.5.1
  const fraction = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  let t = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5] ?? 0), Number(m[6] ?? 0), fraction);
  const zone = m[8];
  // No zone: local time, which for these seals is China Standard Time (UTC+8, GB/T 38540 makers are in China).
  if (zone === undefined) t -= 8 * 3600_000;
  else if (zone !== 'Z') t -= (zone[0] === '+' ? 1 : -1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3))) * 60_000;
  return Number.isNaN(t) ? null : new Date(t);
}

/** v1 timeInfo is a BIT STRING; writers put a UTCTime or GeneralizedTime's text in it (or a whole DER time). */
function bitStringTime(t: Tlv | undefined): Date | null {
  if (!t || t.tag !== 0x03 || t.value.length < 2) return null;
  const bytes = t.value.subarray(1);
  try {
    const inner = readTlv(bytes);
    if (inner.bytes.length === bytes.length) return timeOf(inner);
  } catch {
    // not a DER time: text
  }
  const s = Buffer.from(bytes).toString('latin1').trim();
  return parseTime(s, /^\d{12}(\d{2})?Z$/.test(s) && s.length <= 13) ?? parseTime(s, false);
}

function picture(t: Tlv | undefined): SesPicture {
  const p = children(expectTag(t, 0x30, 'SES_ESPictrueInfo'));
  return {
    type: stringOf(p[0], 'picture type'),
    data: expectTag(p[1], 0x04, 'picture data').value,
    width: integerOf(p[2], 'picture width'),
    height: integerOf(p[3], 'picture height'),
  };
}

function octetStrings(t: Tlv): Uint8Array[] {
  return children(t).map((c) => expectTag(c, 0x04, 'certificate').value);
}


function sealInfo(t: Tlv | undefined): SesSealInfo {
  const info = children(expectTag(t, 0x30, 'SES_SealInfo'));
  const header = children(expectTag(info[0], 0x30, 'SES_Header'));
  if (stringOf(header[0], 'SES_Header.ID') !== 'ES') throw new DerError('SES_Header.ID is not "ES"');
  const property = children(expectTag(info[2], 0x30, 'SES_ESPropertyInfo'));
  const base = {
    version: integerOf(header[1], 'SES_Header.version'),
    vid: stringOf(header[2], 'SES_Header.Vid'),
    esID: stringOf(info[1], 'esID'),
    type: integerOf(property[0], 'property.type'),
    name: stringOf(property[1], 'property.name'),
    picture: picture(info[3]),
  };
  if (property[2]?.tag === 0x02) {
    // v4: certListType, certList (a CHOICE of two SEQUENCE OFs, told apart by certListType)
    const certListType = integerOf(property[2], 'certListType');
    const list = expectTag(property[3], 0x30, 'certList');
    const certDigests: SesCertDigest[] = [];
    let certList: Uint8Array[] = [];
    if (certListType === 2) {
      for (const d of children(list)) {
        const [type, value] = children(expectTag(d, 0x30, 'CertDigestObj'));
        certDigests.push({ type: stringOf(type, 'CertDigestObj.type'), value: expectTag(value, 0x04, 'CertDigestObj.value').value });
      }
    } else certList = octetStrings(list);
    return { ...base, certListType, certList, certDigests, createDate: timeOf(property[4]), validStart: timeOf(property[5]), validEnd: timeOf(property[6]) };
  }
  // v1: certList SEQUENCE OF OCTET STRING, then UTCTimes (some writers use GeneralizedTime)
  const certList = octetStrings(expectTag(property[2], 0x30, 'certList'));
  return { ...base, certListType: null, certList, certDigests: [], createDate: timeOf(property[3]), validStart: timeOf(property[4]), validEnd: timeOf(property[5]) };
}

function seal(t: Tlv | undefined): SesSeal {
  const parts = children(expectTag(t, 0x30, 'SESeal'));
  const info = sealInfo(parts[0]);
  let cert: Tlv, alg: Tlv, value: Tlv | undefined;
  if (parts.length >= 4) [, cert, alg, value] = parts as [Tlv, Tlv, Tlv, Tlv];
  else {
    const signInfo = children(expectTag(parts[1], 0x30, 'SES_SignInfo'));
    [cert, alg, value] = signInfo as [Tlv, Tlv, Tlv];
  }
  expectTag(cert, 0x04, 'seal maker certificate');
  expectTag(alg, 0x06, 'seal signature algorithm');
  return {
    ...info,
    makerCertificate: cert.value,
    signAlgorithm: oid(alg),
    signedValue: bitsOf(value, 'seal signature value'),
    // v4 makers sign eSealInfo alone; GM/T 0031 v1 makers sign SEQUENCE { esealInfo, cert, signatureAlgorithm }.
    // Published verifiers disagree on which form each layout uses, so both are offered, the layout's own first.
    signedContents: parts.length >= 4 ? [parts[0]!.bytes, tlv(0x30, parts[0]!.bytes, cert.bytes, alg.bytes)] : [tlv(0x30, parts[0]!.bytes, cert.bytes, alg.bytes), parts[0]!.bytes],
  };
}

/** Parses an SESeal (a seal file, `.esl`) of either layout; throws DerError saying what is missing. */
export function parseSeSeal(der: Uint8Array): SesSeal {
  return seal(readTlv(der));
}

/** Parses an SES_Signature of either layout; throws DerError saying what is missing. */
export function parseSesSignature(der: Uint8Array): SesSignature {
  const top = readTlv(der);
  const parts = children(expectTag(top, 0x30, 'SES_Signature'));
  const toSign = expectTag(parts[0], 0x30, 'TBS_Sign');
  const tbs = children(toSign);
  const version = integerOf(tbs[0], 'TBS_Sign.version');
  const eseal = seal(tbs[1]);
  if (parts.length === 2) {
    // GM/T 0031-2014
    return {
      layout: 'GM/T 0031-2014',
      version,
      seal: eseal,
      timeInfo: bitStringTime(tbs[2]) ?? timeOf(tbs[2]), // BIT STRING per GM/T 0031; some writers put a time type
      dataHash: bitsOf(tbs[3], 'dataHash'),
      propertyInfo: stringOf(tbs[4], 'propertyInfo'),
      signerCertificate: expectTag(tbs[5], 0x04, 'signer certificate').value,
      signatureAlgorithm: oid(expectTag(tbs[6], 0x06, 'signatureAlgorithm')),
      signature: bitsOf(parts[1], 'signature'),
      tbsSign: toSign.bytes,
      timeStamp: undefined,
    };
  }
  let timeStamp: Uint8Array | undefined;
  const ts = parts[4];
  if (ts) {
    // [0] BIT STRING: EXPLICIT (a0 holding a BIT STRING), IMPLICIT (80) or, from some writers, untagged
    const bits = ts.tag === 0xa0 ? children(ts)[0] : ts.tag === 0x80 || ts.tag === 0x03 ? { ...ts, tag: 0x03 } : undefined;
    if (bits) timeStamp = bitsOf(bits as Tlv, 'timeStamp');
  }
  return {
    layout: 'GB/T 38540-2020',
    version,
    seal: eseal,
    timeInfo: timeOf(tbs[2]) ?? bitStringTime(tbs[2]),
    dataHash: bitsOf(tbs[3], 'dataHash'),
    propertyInfo: stringOf(tbs[4], 'propertyInfo'),
    signerCertificate: expectTag(parts[1], 0x04, 'signer certificate').value,
    signatureAlgorithm: oid(expectTag(parts[2], 0x06, 'signatureAlgID')),
    signature: bitsOf(parts[3], 'signature'),
    tbsSign: toSign.bytes,
    timeStamp,
  };
}
