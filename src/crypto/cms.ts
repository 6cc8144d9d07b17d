/**
 * CMS SignedData for PAdES baseline B-B (ETSI EN 319 142-1 §6.3, RFC 5652 §5). The private key lives on a token,
 * so pkijs' SignedData.sign (which wants a WebCrypto CryptoKey) is not used: the SignerInfo is assembled here, its
 * signed attributes are hashed and handed to the Signer, and the returned signature is set in place.
 *
 * Assembly is one synchronous function over the parts, used both for the real CMS and, with a worst-case dummy
 * signature, for the size bound the PDF layer needs before it knows the signature. A later signature-time-stamp
 * (EN 319 142-1 §5.3, B-T) is one more unsigned attribute passed to the same function.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SealdError } from '../errors.ts';
import type { SignatureAlgorithm, Signer } from './signer.ts';
import { Certificate, certificatePublicKeyInfo } from './certificate.ts';
import { publicKeyParameters } from './key-parameters.ts';
import { maxEcdsaDerLength } from './ecdsa-signature.ts';
import {
  ecdsa_with_SHA256,
  id_aa_signatureTimeStampToken,
  id_data,
  id_sha256,
  id_signedData,
  sha256WithRSAEncryption,
} from './oids.ts';
import { tlv } from './der-encode.ts';
import { signedAttributesDer, sortAttributes } from './signed-attributes.ts';

export interface PadesCmsOptions {
  signer: Signer;
  /** SHA-256 of the PDF's signed byte ranges (the /ByteRange), 32 bytes. */
  documentDigest: Uint8Array;
  signal?: AbortSignal;
  /**
   * PAdES B-T (EN 319 142-1 §5.3): called with the SHA-256 of the signature value once it exists; returns the DER of
   * an RFC 3161 TimeStampToken for it, which goes in the unsigned attribute signature-time-stamp-token; undefined
   * when the caller settles for no token (a best-effort time-stamp whose TSA failed: the CMS stays B-B).
   */
  timestamp?: (imprint: Uint8Array, signal?: AbortSignal) => Promise<Uint8Array | undefined>;
}

/** The parts of one SignedData that do not depend on the signature value, as DER. */
interface SignedDataParts {
  /** The certificates as they came, signer first (the chain is never re-encoded). */
  certificates: readonly Uint8Array[];
  /** IssuerAndSerialNumber of the signer (RFC 5652 §5.3 sid, version 1). */
  sid: Uint8Array;
  /** The signed attributes as a DER SET OF (tag 0x31): what is hashed and signed (§5.4). */
  signedAttrs: Uint8Array;
  signatureAlgorithm: Uint8Array;
}

function prepareParts(signer: Signer, documentDigest: Uint8Array): SignedDataParts {
  if (documentDigest.length !== 32) {
    throw new SealdError('invalid-input', 'BAD_DIGEST_LENGTH', `documentDigest must be a 32-byte SHA-256, got ${documentDigest.length}`);
  }
  const [signerDer] = signer.certificates;
  if (signerDer === undefined) {
    throw new SealdError('invalid-input', 'NO_SIGNER_CERTIFICATE', 'the signer has no certificate to put in the CMS');
  }
  const signerParts = signerPartsOf(signerDer);
  if (signerParts.keyAlgorithm !== signer.algorithm) {
    throw new SealdError(
      'invalid-input',
      'KEY_ALGORITHM_MISMATCH',
      `the signer uses ${signer.algorithm} but its certificate holds a ${signerParts.keyAlgorithm} key`,
    );
  }
  return {
    certificates: signer.certificates,
    sid: signerParts.sid,
    signedAttrs: signedAttributesDer(signerDer, documentDigest),
    signatureAlgorithm: signer.algorithm === 'RSASSA-PKCS1-v1_5' ? SHA256_WITH_RSA : ECDSA_WITH_SHA256,
  };
}

/** What a signer's certificate contributes to every SignedData it signs, worked out once per certificate. */
function signerPartsOf(signerDer: Uint8Array): { sid: Uint8Array; keyAlgorithm: SignatureAlgorithm } {
  let parts = signerPartsCache.get(signerDer);
  if (parts === undefined) {
    const certificate = Certificate.from(signerDer);
    parts = {
      sid: tlv(0x30, certificate.issuerName.bytes, certificate.serialNumber.bytes),
      keyAlgorithm: certificate.keyAlgorithm,
    };
    signerPartsCache.set(signerDer, parts);
  }
  return parts;
}

const signerPartsCache = new WeakMap<Uint8Array, { sid: Uint8Array; keyAlgorithm: SignatureAlgorithm }>();

/**
 * DER ContentInfo { id-signedData, SignedData } with a detached id-data content (RFC 5652 §5.1–5.3), spliced from
 * DER parts: the certificates go in as the bytes they came as, so a seal's chain is never parsed or re-encoded per
 * signature (with pkijs that re-encoding was a sixth of a seal's CPU).
 */
function encodeContentInfo(parts: SignedDataParts, signature: Uint8Array, unsignedAttributes: pkijs.Attribute[] = []): Uint8Array {
  const signedAttrs = new Uint8Array(parts.signedAttrs);
  signedAttrs[0] = 0xa0; // [0] IMPLICIT in the SignerInfo, SET OF when hashed
  const unsigned =
    unsignedAttributes.length === 0
      ? []
      : [new Uint8Array(new pkijs.SignedAndUnsignedAttributes({ type: 1, attributes: sortAttributes(unsignedAttributes) }).toSchema().toBER())];
  const signerInfo = tlv(
    0x30,
    VERSION_1, // RFC 5652 §5.3: sid is issuerAndSerialNumber
    parts.sid,
    SHA256,
    signedAttrs,
    parts.signatureAlgorithm,
    tlv(0x04, signature),
    ...unsigned,
  );
  const signedData = tlv(
    0x30,
    VERSION_1, // RFC 5652 §5.1: no attribute certificates, no other formats, id-data, all SignerInfos v1
    tlv(0x31, SHA256),
    tlv(0x30, ID_DATA), // encapContentInfo, detached: eContent absent
    tlv(0xa0, ...parts.certificates), // certificates [0] IMPLICIT
    tlv(0x31, signerInfo),
  );
  return tlv(0x30, ID_SIGNED_DATA, tlv(0xa0, signedData));
}

// Constant DER pieces, encoded once. RFC 5754 §2: SHA-2 AlgorithmIdentifiers are sent with parameters absent;
// RFC 4055 §5: sha256WithRSAEncryption has NULL parameters; RFC 5758 §3.2: ecdsa-with-SHA256 has none.
const der = (value: asn1js.BaseBlock | pkijs.AlgorithmIdentifier): Uint8Array =>
  new Uint8Array((value instanceof pkijs.AlgorithmIdentifier ? value.toSchema() : value).toBER());
const VERSION_1 = der(new asn1js.Integer({ value: 1 }));
const SHA256 = der(new pkijs.AlgorithmIdentifier({ algorithmId: id_sha256 }));
const SHA256_WITH_RSA = der(new pkijs.AlgorithmIdentifier({ algorithmId: sha256WithRSAEncryption, algorithmParams: new asn1js.Null() }));
const ECDSA_WITH_SHA256 = der(new pkijs.AlgorithmIdentifier({ algorithmId: ecdsa_with_SHA256 }));
const ID_DATA = der(new asn1js.ObjectIdentifier({ value: id_data }));
const ID_SIGNED_DATA = der(new asn1js.ObjectIdentifier({ value: id_signedData }));

export async function createPadesCms(opts: PadesCmsOptions): Promise<Uint8Array> {
  const { signer, documentDigest, signal } = opts;
  const parts = prepareParts(signer, documentDigest);
  const hash = new Uint8Array(createHash('sha256').update(parts.signedAttrs).digest());
  if (signal?.aborted) throw new SealdError('cancelled', 'CANCELLED', 'the seal was cancelled before signing');
  const signature = await signer.signDigest(hash, signal);
  if (opts.timestamp === undefined) return encodeContentInfo(parts, signature);
  const imprint = new Uint8Array(createHash('sha256').update(signature).digest());
  const token = await opts.timestamp(imprint, signal);
  if (token === undefined) return encodeContentInfo(parts, signature);
  return encodeContentInfo(parts, signature, [signatureTimestampAttribute(token)]);
}

/** RFC 3161 Appendix A: id-aa-signatureTimeStampToken, whose value is the TimeStampToken (a ContentInfo). */
function signatureTimestampAttribute(tokenDer: Uint8Array): pkijs.Attribute {
  const parsed = asn1js.fromBER(new Uint8Array(tokenDer));
  if (parsed.offset === -1) {
    throw new SealdError('internal', 'BAD_TIMESTAMP_TOKEN', 'the time-stamp token to embed is not DER');
  }
  return new pkijs.Attribute({ type: id_aa_signatureTimeStampToken, values: [parsed.result] });
}

/**
 * Most bytes a signature-time-stamp-token attribute adds to the CMS around a token of `tokenBytes`: the attribute's
 * SEQUENCE, OID and SET, the unsignedAttrs [1] wrapper, and one more length octet on each of the enclosing
 * constructions (ContentInfo, [0], SignedData, SET OF SignerInfo, SignerInfo) whose length may cross a boundary.
 */
export function timestampAttributeOverhead(tokenBytes: number): number {
  const header = (length: number): number => 1 + (length < 0x80 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 4);
  const oid = 2 + 11; // id-aa-signatureTimeStampToken
  const set = header(tokenBytes) + tokenBytes;
  const attribute = header(oid + set) + oid + set;
  const unsignedAttrs = header(attribute) + attribute;
  return unsignedAttrs - tokenBytes + 5;
}

/** Longest signature value the signer's key can produce, as it appears in SignerInfo.signature. */
function maxSignatureLength(signer: Signer): number {
  const [signerDer] = signer.certificates;
  if (signerDer === undefined) {
    throw new SealdError('invalid-input', 'NO_SIGNER_CERTIFICATE', 'the signer has no certificate to put in the CMS');
  }
  const key = publicKeyParameters(certificatePublicKeyInfo(signerDer));
  // RSA (RFC 8017 §8.2.1): exactly k octets, k = modulus length. ECDSA: DER with both INTEGERs at full width + 0x00.
  return key.algorithm === 'RSASSA-PKCS1-v1_5' ? key.modulusBytes : maxEcdsaDerLength(key.orderBits);
}

/**
 * An exact upper bound of the DER length createPadesCms returns for this signer: the same structure, encoded with a
 * worst-case signature. Only the signature's length varies between calls (ECDSA's DER INTEGERs shrink when r or s
 * has leading zero bits); every other field has a fixed size for a given signer.
 */
export function maxPadesCmsSize(signer: Signer): number {
  const parts = prepareParts(signer, new Uint8Array(32));
  return encodeContentInfo(parts, new Uint8Array(maxSignatureLength(signer)).fill(0xff)).length;
}
