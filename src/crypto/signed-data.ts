/**
 * The CMS side of a PDF signature (RFC 5652 §5, ETSI EN 319 142-1 §6.3): parse the SignedData in /Contents, find the
 * signer's certificate, and check — in this order, each a distinct finding — the message-digest attribute against the
 * digest of the byte ranges, the signature over the signed attributes, and signing-certificate(-v2) (RFC 5035 §3,
 * RFC 2634 §5.4) against the certificate that verified the signature. Parsed with der.ts: the signed attributes are
 * hashed exactly as received.
 *
 * SM2/SM3 (国密) SignedData is read by the same code: GM/T 0010-2012 (SM2 cryptographic message syntax, republished as
 * GB/T 35275-2017) keeps RFC 5652's structures and changes only object identifiers — its own content types
 * (signedData 1.2.156.10197.6.1.4.2.2, data …4.2.1), SM3 as digestAlgorithm and SM2 as signatureAlgorithm.
 */
import { constants, createHash, verify as verifySignature, type KeyObject } from 'node:crypto';
import { Certificate } from './certificate.ts';
import { children, DerError, equalBytes, expectTag, oid, readTlv, type Tlv } from './der.ts';
import {
  ecdsa_with_SHA256, ecdsa_with_SHA384, id_dsa, id_dsa_with_sha1, id_dsa_with_sha256, ecdsa_with_SHA512, id_aa_signingCertificate, id_aa_signingCertificateV2,
  id_ce_subjectKeyIdentifier, id_contentType, id_data, id_ecPublicKey, id_messageDigest, id_sha1, id_sha256, id_sha384,
  id_sha512, id_signedData, rsaEncryption, sha1WithRSAEncryption, sha256WithRSAEncryption, sha384WithRSAEncryption,
  sha512WithRSAEncryption, id_RSASSA_PSS,
} from './oids.ts';
import { pssParameters, type PssParameters } from './rsassa-pss.ts';
import { id_gmt0010_data, id_gmt0010_signedData, id_sm2, id_sm2sign, id_sm2sign_with_sm3, id_sm3 } from './oids-gm.ts';
import type { Sm2PublicKey } from './sm2-curve.ts';
import { SM2_DEFAULT_ID, sm2Z, verifySm2 } from './sm2-signature.ts';
import { createSm3 } from './sm3.ts';
import { checkSigningCertificate } from './signing-certificate.ts';

/** Digest algorithms by OID (RFC 5754 §2, RFC 3370 §2.1) with Node's names; SHA-1 verifies, its weakness is judged by the engine. */
const DIGESTS: Record<string, { name: string; node: string }> = {
  [id_sha1]: { name: 'SHA-1', node: 'sha1' },
  [id_sha256]: { name: 'SHA-256', node: 'sha256' },
  [id_sha384]: { name: 'SHA-384', node: 'sha384' },
  [id_sha512]: { name: 'SHA-512', node: 'sha512' },
  // GM/T 0006-2012; GM/T 0010-2012: the digestAlgorithm of an SM2 SignerInfo
  [id_sm3]: { name: 'SM3', node: 'sm3' },
};

/**
 * The signatureAlgorithm values met beside an SM2 signer key: GM/T 0010-2012 names sm2sign-with-sm3 or SM2-1
 * (sm2sign); the bare SM2 OID and RFC 5480's id-ecPublicKey / ecdsa-with-SHA256 also occur, written by tooling that
 * treats an SM2 key as one more EC key. With an SM2 key every one of them means an SM2 signature (GB/T 32918.2) over
 * the digestAlgorithm, which must then be SM3.
 */
const SM2_SIGNATURES = new Set([id_sm2sign_with_sm3, id_sm2sign, id_sm2, id_ecPublicKey, ecdsa_with_SHA256]);

/** Signature algorithms (RFC 4055 §5, RFC 5758 §3.2); `digest` undefined = the SignerInfo's digestAlgorithm. */
const SIGNATURES: Record<string, { name: string; digest?: string }> = {
  [rsaEncryption]: { name: 'RSA' },
  [sha1WithRSAEncryption]: { name: 'sha1WithRSAEncryption', digest: 'sha1' },
  [sha256WithRSAEncryption]: { name: 'sha256WithRSAEncryption', digest: 'sha256' },
  [sha384WithRSAEncryption]: { name: 'sha384WithRSAEncryption', digest: 'sha384' },
  [sha512WithRSAEncryption]: { name: 'sha512WithRSAEncryption', digest: 'sha512' },
  // RFC 4056 §2: the hash is in the parameters (ParsedCms.pss)
  [id_RSASSA_PSS]: { name: 'RSASSA-PSS' },
  [id_ecPublicKey]: { name: 'ECDSA' },
  [ecdsa_with_SHA256]: { name: 'ecdsa-with-SHA256', digest: 'sha256' },
  [ecdsa_with_SHA384]: { name: 'ecdsa-with-SHA384', digest: 'sha384' },
  [ecdsa_with_SHA512]: { name: 'ecdsa-with-SHA512', digest: 'sha512' },
  // RFC 3370 §3.1, RFC 5758 §3.1: DSA, still met in old e-contracts
  [id_dsa]: { name: 'DSA' },
  [id_dsa_with_sha1]: { name: 'dsa-with-SHA1', digest: 'sha1' },
  [id_dsa_with_sha256]: { name: 'dsa-with-SHA256', digest: 'sha256' },
};

/** Integrity of one signature over its /ByteRange (ISO 32000-1 §12.8.1, RFC 5652 §5.4, RFC 5035). */
export type Integrity =
  | 'INTACT'
  | 'BAD_BYTERANGE'
  | 'DIGEST_MISMATCH'
  | 'BAD_CMS'
  | 'BAD_SIGNATURE'
  | 'SIGNER_CERT_MISMATCH'
  | 'UNSUPPORTED';

export interface Attribute {
  type: string;
  values: Tlv[];
}

export interface ParsedCms {
  /** DER of every certificate in SignedData.certificates. */
  certificates: Uint8Array[];
  /** DER of the certificate the SignerInfo's sid names, if present. */
  signerCertificate: Uint8Array | undefined;
  digestAlgorithm: string;
  /** Node's hash name for the digest algorithm, undefined when unsupported. */
  digestNode: string | undefined;
  signatureAlgorithm: string;
  signatureOid: string;
  /** The signer's SM2 public key when the SignerInfo is an SM2 signature (see SM2_SIGNATURES), else undefined. */
  sm2Signer?: Sm2PublicKey;
  /** The signed attributes as hashed (RFC 5652 §5.4: tagged SET OF, 0x31), undefined when absent. */
  signedAttrs: Uint8Array | undefined;
  attributes: Attribute[];
  signature: Uint8Array;
  /** The encapsulated content (a time-stamp token's TSTInfo), when parsing allowed one. */
  content?: { type: string; bytes: Uint8Array };
  /** RSASSA-PSS's parameters (hash, salt length), or why they cannot be verified; only for an RSASSA-PSS SignerInfo. */
  pss?: PssParameters | string;
  /** How many SignerInfos the SignedData holds; the fields above are the first one's. More than one only with `anyShape`. */
  signerInfos: number;
}

export type CmsParse = { ok: true; cms: ParsedCms } | { ok: false; integrity: Integrity; reason: string };

/**
 * Reads a CMS SignedData with one SignerInfo. A PDF signature's CMS is detached; `encapsulated` accepts the one kind
 * of CMS seald reads that carries its content: an RFC 3161 time-stamp token (its TSTInfo). `anyShape` also accepts
 * what RFC 5652 allows and PAdES forbids (ETSI EN 319 142-1 §6.3: one SignerInfo, no eContent) — an enveloping
 * SignedData, several SignerInfos — and reads the first SignerInfo, so a verifier can say what the shape is and still
 * check what can be checked, instead of calling a well-formed CMS malformed.
 */
export function parseCms(contents: Uint8Array, options: { encapsulated?: boolean; anyShape?: boolean } = {}): CmsParse {
  try {
    return { ok: true, cms: parseSignedData(contents, options.encapsulated === true || options.anyShape === true, options.anyShape === true) };
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
    if (isSesSignature(contents)) {
      return {
        ok: false,
        integrity: 'UNSUPPORTED',
        reason: '/Contents holds a GB/T 38540 / GM/T 0031 electronic seal signature (SES_Signature), not a CMS (verify reads it with src/crypto/ses)',
      };
    }
    return { ok: false, integrity: 'BAD_CMS', reason: `the CMS in /Contents is malformed: ${e.message}` };
  }
}

/**
 * Recognises (only) the electronic seal signature of GB/T 38540-2020 and of GM/T 0031-2014 before it, which Chinese
 * signing software also puts in /Contents in place of a CMS. Both begin alike:
 *   SES_Signature ::= SEQUENCE { toSign TBS_Sign, … }
 *   TBS_Sign      ::= SEQUENCE { version INTEGER, eseal SESeal, … }
 *   SESeal        ::= SEQUENCE { esealInfo SES_SealInfo, … }
 *   SES_SealInfo  ::= SEQUENCE { header SES_Header, … }
 *   SES_Header    ::= SEQUENCE { ID IA5String ("ES"), version INTEGER, Vid IA5String }
 * A ContentInfo starts with an OID instead, so nothing a CMS reader accepts is taken for a seal.
 */
export function isSesSignature(contents: Uint8Array): boolean {
  try {
    const toSign = children(expectTag(readTlv(contents), 0x30, 'SES_Signature'))[0];
    const [version, eseal] = children(expectTag(toSign, 0x30, 'TBS_Sign'));
    expectTag(version, 0x02, 'version');
    const esealInfo = children(expectTag(eseal, 0x30, 'SESeal'))[0];
    const header = children(expectTag(esealInfo, 0x30, 'SES_SealInfo'))[0];
    const id = children(expectTag(header, 0x30, 'SES_Header'))[0];
    return Buffer.from(expectTag(id, 0x16, 'ID').value).toString('latin1') === 'ES';
  } catch {
    return false;
  }
}

/*
 * ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
 * SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE { eContentType, [0] eContent? },
 *                           certificates [0] IMPLICIT SET OPTIONAL, crls [1] IMPLICIT OPTIONAL, signerInfos SET }
 * SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT SET OPTIONAL,
 *                           signatureAlgorithm, signature OCTET STRING, unsignedAttrs [1] IMPLICIT OPTIONAL }
 */
function parseSignedData(contents: Uint8Array, encapsulated: boolean, severalSigners: boolean): ParsedCms {
  const info = children(expectTag(readTlv(contents), 0x30, 'ContentInfo'));
  const contentType = oid(expectTag(info[0], 0x06, 'contentType'));
  if (contentType !== id_signedData && contentType !== id_gmt0010_signedData) throw new DerError('the content type is not signedData');
  const sd = children(expectTag(children(expectTag(info[1], 0xa0, 'content'))[0], 0x30, 'SignedData'));
  let i = 2; // version, digestAlgorithms
  const encap = children(expectTag(sd[i++], 0x30, 'encapContentInfo'));
  if (encap.length > 1 && !encapsulated) throw new DerError('the CMS encapsulates content; a PDF signature is detached (ISO 32000-1 §12.8.3.3)');
  // eContent [0] EXPLICIT OCTET STRING
  const eContent = encap.length > 1 ? expectTag(children(expectTag(encap[1], 0xa0, 'eContent'))[0], 0x04, 'eContent').value : undefined;
  const certificates: Uint8Array[] = [];
  if (sd[i]?.tag === 0xa0) for (const c of children(sd[i++]!)) if (c.tag === 0x30) certificates.push(c.bytes);
  if (sd[i]?.tag === 0xa1) i++;
  const infos = children(expectTag(sd[i], 0x31, 'signerInfos'));
  if (infos.length === 0 || (infos.length > 1 && !severalSigners)) throw new DerError(`the CMS has ${infos.length} SignerInfos; a PDF signature has exactly one`);

  const si = children(expectTag(infos[0], 0x30, 'SignerInfo'));
  const sid = si[1];
  if (!sid) throw new DerError('SignerInfo has no sid');
  const digestOid = oid(expectTag(children(expectTag(si[2], 0x30, 'digestAlgorithm'))[0], 0x06, 'digestAlgorithm'));
  let j = 3;
  let signedAttrs: Uint8Array | undefined;
  const attributes: Attribute[] = [];
  if (si[j]?.tag === 0xa0) {
    const raw = si[j++]!;
    signedAttrs = Uint8Array.from(raw.bytes);
    signedAttrs[0] = 0x31;
    for (const a of children(raw)) {
      const parts = children(expectTag(a, 0x30, 'Attribute'));
      attributes.push({ type: oid(expectTag(parts[0], 0x06, 'attrType')), values: children(expectTag(parts[1], 0x31, 'attrValues')) });
    }
  }
  const [signatureAlg, signatureParams] = children(expectTag(si[j++], 0x30, 'signatureAlgorithm'));
  const signatureOid = oid(expectTag(signatureAlg, 0x06, 'signatureAlgorithm'));
  const signature = expectTag(si[j], 0x04, 'signature').value;
  const signerCertificate = certificates.find((der) => matchesSid(der, sid));
  const sm2Signer = SM2_SIGNATURES.has(signatureOid) && signerCertificate ? sm2KeyOf(signerCertificate) : undefined;
  return {
    certificates,
    signerCertificate,
    digestAlgorithm: DIGESTS[digestOid]?.name ?? digestOid,
    digestNode: DIGESTS[digestOid]?.node,
    signatureAlgorithm: sm2Signer ? 'SM2-with-SM3' : (SIGNATURES[signatureOid]?.name ?? signatureOid),
    signatureOid,
    ...(sm2Signer ? { sm2Signer } : {}),
    signedAttrs,
    attributes,
    signature,
    signerInfos: infos.length,
    ...(signatureOid === id_RSASSA_PSS ? { pss: pssParameters(signatureParams) } : {}),
    ...(eContent === undefined ? {} : { content: { type: oid(expectTag(encap[0], 0x06, 'eContentType')), bytes: eContent } }),
  };
}

/** Named curves of EC keys Node's crypto reads: such a key is not an SM2 key. */
const NIST_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/** The certificate's public key when it is an SM2 key (either SubjectPublicKeyInfo spelling), else undefined. */
function sm2KeyOf(certificate: Uint8Array): Sm2PublicKey | undefined {
  try {
    // Node's crypto knows RSA and the NIST curves: those keys, behind ecdsa-with-SHA256 in most CMS, skip pkijs.
    const cert = Certificate.from(certificate);
    const key = cert.publicKey;
    if (key?.asymmetricKeyType === 'rsa' || (key?.asymmetricKeyType === 'ec' && NIST_CURVES.has(key.asymmetricKeyDetails?.namedCurve ?? ''))) {
      return undefined;
    }
    return cert.sm2PublicKey;
  } catch {
    return undefined;
  }
}

/** RFC 5652 §5.3: sid is issuerAndSerialNumber (SEQUENCE) or [0] subjectKeyIdentifier. */
function matchesSid(der: Uint8Array, sid: Tlv): boolean {
  try {
    const cert = Certificate.from(der);
    if (sid.tag === 0x30) {
      const [issuer, serial] = children(sid);
      return !!issuer && !!serial && equalBytes(issuer.bytes, cert.issuerName.bytes) && equalBytes(serial.bytes, cert.serialNumber.bytes);
    }
    if (sid.tag === 0x80) {
      const ski = cert.extensions.get(id_ce_subjectKeyIdentifier);
      return ski !== undefined && equalBytes(readTlv(ski.value).value, sid.value);
    }
  } catch {
    // a certificate that cannot be read is not the signer's
  }
  return false;
}

function attribute(cms: ParsedCms, type: string): Attribute[] {
  return cms.attributes.filter((a) => a.type === type);
}

/**
 * Check the parsed CMS against the digest of what it signs (computed with `cms.digestNode`): the byte ranges of a PDF
 * signature (content-type id-data), or a time-stamp token's TSTInfo (`contentType` id-ct-TSTInfo).
 * `sm2ContentE` is sm2ContentHash's value, needed only by an SM2 SignerInfo without signed attributes; `content`, the
 * signed content itself for a SignerInfo without them (adbe.pkcs7.sha1's encapsulated digest, RFC 5652 §5.4).
 */
export function checkCms(
  cms: ParsedCms,
  documentDigest: Uint8Array,
  subFilter: string | undefined,
  contentType: string = id_data,
  sm2ContentE?: Uint8Array,
  content?: Uint8Array,
): { integrity: Integrity; reason?: string } {
  if (!cms.signerCertificate) {
    return { integrity: 'SIGNER_CERT_MISMATCH', reason: "the signer's certificate named by the SignerInfo is not in the CMS" };
  }
  if (!cms.signedAttrs && cms.sm2Signer && sm2ContentE) {
    const sm2 = checkSm2Signature(cms, cms.sm2Signer, { e: sm2ContentE });
    if (sm2 !== undefined) {
      // No message-digest to compare first: changed bytes and a wrong signature cannot be told apart.
      return { ...sm2, reason: `${sm2.reason}; without signed attributes the signature covers the signed bytes themselves, so changed bytes also end here` };
    }
    return finishChecks(cms, cms.signerCertificate, subFilter);
  }
  if (!cms.signedAttrs && content && SIGNATURES[cms.signatureOid] && cms.digestNode) {
    const key = Certificate.tryFrom(cms.signerCertificate)?.publicKey;
    if (!key) return { integrity: 'BAD_CMS', reason: "the signer's certificate cannot be read" };
    const hash = SIGNATURES[cms.signatureOid]!.digest ?? cms.digestNode;
    if (typeof cms.pss === 'string') return { integrity: 'UNSUPPORTED', reason: `unsupported algorithm: ${cms.pss}` };
    if (!safeVerify(hash, content, key, cms.signature, cms.pss)) return { integrity: 'BAD_SIGNATURE', reason: "the CMS signature does not verify with the signer's certificate" };
    return finishChecks(cms, cms.signerCertificate, subFilter);
  }
  if (!cms.signedAttrs) {
    return { integrity: 'UNSUPPORTED', reason: 'the CMS has no signed attributes (not supported: PAdES requires them)' };
  }
  // RFC 5652 §5.3: content-type and message-digest are both required once signed attributes are present.
  const contentTypes = attribute(cms, id_contentType);
  const digests = attribute(cms, id_messageDigest);
  if (contentTypes.length !== 1 || digests.length !== 1) {
    return { integrity: 'BAD_CMS', reason: 'the signed attributes must hold exactly one content-type and one message-digest' };
  }
  const signedType = contentTypes[0]!.values[0];
  // GM/T 0010-2012 gives id-data its own OID; a detached SM2 signature over a PDF's bytes may carry either.
  const accepted = contentType === id_data ? [id_data, id_gmt0010_data] : [contentType];
  if (!signedType || signedType.tag !== 0x06 || !accepted.includes(oid(signedType))) {
    return { integrity: 'BAD_CMS', reason: `the signed content-type is not ${contentType === id_data ? 'id-data' : contentType}` };
  }
  const digestValue = digests[0]!.values[0];
  if (!digestValue || digestValue.tag !== 0x04) return { integrity: 'BAD_CMS', reason: 'the message-digest is not an OCTET STRING' };
  if (!equalBytes(digestValue.value, documentDigest)) {
    return { integrity: 'DIGEST_MISMATCH', reason: 'the signed bytes have changed: their digest does not match the signed message-digest' };
  }

  if (cms.sm2Signer) {
    const sm2 = checkSm2Signature(cms, cms.sm2Signer, cms.signedAttrs);
    if (sm2 !== undefined) return sm2;
    return finishChecks(cms, cms.signerCertificate, subFilter);
  }
  const sigAlg = SIGNATURES[cms.signatureOid];
  if (!sigAlg || !cms.digestNode) {
    return { integrity: 'UNSUPPORTED', reason: `unsupported algorithm ${cms.signatureAlgorithm} with ${cms.digestAlgorithm}` };
  }
  const hash = sigAlg.digest ?? cms.digestNode;
  const key: KeyObject | undefined = Certificate.tryFrom(cms.signerCertificate)?.publicKey;
  if (!key) return { integrity: 'BAD_CMS', reason: "the signer's certificate cannot be read" };
  if (typeof cms.pss === 'string') return { integrity: 'UNSUPPORTED', reason: `unsupported algorithm: ${cms.pss}` };
  if (!safeVerify(hash, cms.signedAttrs, key, cms.signature, cms.pss)) return { integrity: 'BAD_SIGNATURE', reason: "the CMS signature does not verify with the signer's certificate" };
  return finishChecks(cms, cms.signerCertificate, subFilter);
}

/**
 * The SM2 signature of a SignerInfo: GM/T 0010-2012 and GB/T 35275-2017 keep RFC 5652 §5.4 — the message signed is
 * the DER of the signed attributes as a SET OF (tag 0x31), or the content itself when there are none — and SM2
 * (GB/T 32918.2-2016 §6.1) hashes it with the signer's ZA: e = SM3(ZA ‖ message), with GM/T 0009-2012's default
 * identity 1234567812345678, the only one a CMS can assume since SignerInfo has no field for another. `signed` is
 * the signed attributes, or `{ e }` computed over the content by sm2ContentHash. undefined when it verifies.
 */
function checkSm2Signature(cms: ParsedCms, key: Sm2PublicKey, signed: Uint8Array | { e: Uint8Array }): { integrity: Integrity; reason: string } | undefined {
  if (cms.digestNode !== 'sm3') {
    return { integrity: 'UNSUPPORTED', reason: `an SM2 signature with digest algorithm ${cms.digestAlgorithm} (SM2 signatures use SM3)` };
  }
  let ok: boolean;
  try {
    ok = verifySm2(key, signed, cms.signature, SM2_DEFAULT_ID);
  } catch {
    ok = false;
  }
  if (!ok) return { integrity: 'BAD_SIGNATURE', reason: "the SM2 signature does not verify with the signer's certificate (identity 1234567812345678)" };
  return undefined;
}

function safeVerify(hash: string, data: Uint8Array, key: KeyObject, signature: Uint8Array, pss?: PssParameters): boolean {
  try {
    if (pss !== undefined) {
      // RFC 4056 §2: the message hash (and MGF1's, checked equal by rsassa-pss.ts) and salt length from the parameters.
      const pssHash = DIGESTS[pss.hash]?.node;
      if (pssHash === undefined) return false;
      return verifySignature(pssHash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss.saltLength }, signature);
    }
    return verifySignature(hash, data, key, signature);
  } catch {
    return false;
  }
}

/** What follows a verified signature: signing-certificate(-v2) and the CAdES requirement on it. */
function finishChecks(cms: ParsedCms, signerCertificate: Uint8Array, subFilter: string | undefined): { integrity: Integrity; reason?: string } {
  const certCheck = checkSigningCertificate(cms.attributes, signerCertificate, (algorithm) => DIGESTS[algorithm]?.node, (node, data) => createDigest(node).update(data).digest());
  if (certCheck !== undefined) return { integrity: 'SIGNER_CERT_MISMATCH', reason: certCheck };
  if (subFilter === 'ETSI.CAdES.detached' && attribute(cms, id_aa_signingCertificateV2).length === 0 && attribute(cms, id_aa_signingCertificate).length === 0) {
    return { integrity: 'SIGNER_CERT_MISMATCH', reason: 'a CAdES signature must sign its certificate (signing-certificate-v2 is missing)' };
  }
  return { integrity: 'INTACT' };
}

/** Digest the byte ranges with the CMS's digest algorithm. */
export async function digestRanges(
  chunks: (start: number, end: number) => AsyncIterable<Uint8Array>,
  ranges: [number, number][],
  hashName: string,
): Promise<Uint8Array> {
  const hash = createDigest(hashName);
  for (const [start, length] of ranges) for await (const chunk of chunks(start, start + length)) hash.update(chunk);
  return new Uint8Array(hash.digest());
}

/**
 * e = SM3(ZA ‖ content) over the byte ranges, for an SM2 SignerInfo without signed attributes (GM/T 0010-2012:
 * the signature is then over the content itself, RFC 5652 §5.4's first case); undefined for any other CMS, which
 * needs only digestRanges. A second pass over the ranges, taken only by such signatures.
 */
export async function sm2ContentHash(
  cms: ParsedCms,
  chunks: (start: number, end: number) => AsyncIterable<Uint8Array>,
  ranges: [number, number][],
): Promise<Uint8Array | undefined> {
  if (!cms.sm2Signer || cms.signedAttrs || cms.digestNode !== 'sm3') return undefined;
  const hash = createSm3().update(sm2Z(cms.sm2Signer, SM2_DEFAULT_ID));
  for (const [start, length] of ranges) for await (const chunk of chunks(start, start + length)) hash.update(chunk);
  return hash.digest();
}

/** A hash by `ParsedCms.digestNode` name; SM3 through sm3.ts, which falls back when Node's OpenSSL lacks it. */
interface Digest {
  update(data: Uint8Array): Digest;
  digest(): Uint8Array;
}

function createDigest(name: string): Digest {
  return name === 'sm3' ? createSm3() : createHash(name);
}
