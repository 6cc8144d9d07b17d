/**
 * The signed attributes of a PAdES baseline B-B signature (ETSI EN 319 142-1 §5.2.1 / §6.3): content-type,
 * message-digest and signing-certificate-v2 — and deliberately no signing-time, because PAdES carries the claimed
 * signing time in the signature dictionary's /M (EN 319 142-1 §5.2.1, ISO 32000-2 §12.8.1).
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { Certificate } from './certificate.ts';
import { tlv } from './der-encode.ts';
import { id_aa_signingCertificateV2, id_contentType, id_data, id_messageDigest } from './oids.ts';

/** RFC 5652 §11.1 content-type = id-data: PAdES signs the document's byte ranges as plain data. */
export function contentTypeAttribute(): pkijs.Attribute {
  return new pkijs.Attribute({ type: id_contentType, values: [new asn1js.ObjectIdentifier({ value: id_data })] });
}

/**
 * RFC 5035 §3 signing-certificate-v2, one ESSCertIDv2 for the signer's certificate:
 *   SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL }
 *   ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
 *                              certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }
 * hashAlgorithm is SHA-256, its DEFAULT, so DER (X.690 §11.5) requires leaving it out.
 * IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber } (RFC 5035 §4).
 */
export function signingCertificateV2Attribute(certificateDer: Uint8Array): pkijs.Attribute {
  let attribute = signingCertificates.get(certificateDer);
  if (attribute === undefined) {
    attribute = signingCertificateV2(certificateDer);
    signingCertificates.set(certificateDer, attribute);
  }
  return attribute;
}

/** The attribute is the same for every signature by one certificate (it is never modified once made). */
const signingCertificates = new WeakMap<Uint8Array, pkijs.Attribute>();

function signingCertificateV2(certificateDer: Uint8Array): pkijs.Attribute {
  const cert = Certificate.from(certificateDer);
  const certHash = new Uint8Array(createHash('sha256').update(certificateDer).digest());
  // GeneralNames with one directoryName ([4] EXPLICIT Name, RFC 5280 §4.2.1.6), the issuer Name as encoded.
  const issuerSerial = tlv(0x30, tlv(0x30, tlv(0xa4, cert.issuerName.bytes)), cert.serialNumber.bytes);
  const essCertIdV2 = tlv(0x30, tlv(0x04, certHash), issuerSerial);
  const signingCertificateV2 = asn1js.fromBER(tlv(0x30, tlv(0x30, essCertIdV2))).result;
  return new pkijs.Attribute({ type: id_aa_signingCertificateV2, values: [signingCertificateV2] });
}

/** X.690 §11.6: SET OF components in ascending order of their encodings, the shorter padded with 0-octets. */
function compareDer(a: Uint8Array, b: Uint8Array): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * The signed attributes of one signature as the DER SET OF (tag 0x31) that is hashed and signed (RFC 5652 §5.4).
 * Built from DER pieces: content-type is a constant and signing-certificate-v2 is encoded once per certificate, so
 * per signature only the 32-byte message-digest is new and nothing goes through asn1js.
 */
export function signedAttributesDer(signerCertificateDer: Uint8Array, documentDigest: Uint8Array): Uint8Array {
  let fixed = fixedAttributes.get(signerCertificateDer);
  if (fixed === undefined) {
    fixed = [CONTENT_TYPE_DATA, attributeDer(signingCertificateV2Attribute(signerCertificateDer))];
    fixedAttributes.set(signerCertificateDer, fixed);
  }
  // RFC 5652 §11.2 message-digest; Attribute ::= SEQUENCE { attrType OID, attrValues SET OF AttributeValue } (§5.3)
  const messageDigest = tlv(0x30, MESSAGE_DIGEST_OID, tlv(0x31, tlv(0x04, documentDigest)));
  return tlv(0x31, ...[...fixed, messageDigest].sort(compareDer));
}

const fixedAttributes = new WeakMap<Uint8Array, Uint8Array[]>();
const attributeDer = (attribute: pkijs.Attribute): Uint8Array => new Uint8Array(attribute.toSchema().toBER());
const CONTENT_TYPE_DATA = attributeDer(contentTypeAttribute());
const MESSAGE_DIGEST_OID = new Uint8Array(new asn1js.ObjectIdentifier({ value: id_messageDigest }).toBER());

/** Attributes in DER SET OF order, so the encoding that is hashed is the one that is sent. */
export function sortAttributes(attributes: pkijs.Attribute[]): pkijs.Attribute[] {
  return attributes
    .map((attribute) => ({ attribute, der: new Uint8Array(attribute.toSchema().toBER()) }))
    .sort((x, y) => compareDer(x.der, y.der))
    .map((x) => x.attribute);
}
