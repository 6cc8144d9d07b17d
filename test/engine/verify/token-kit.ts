/**
 * Re-issue an RFC 3161 time-stamp token with other ESS signing-certificate attributes (RFC 2634 §5.4 v1, RFC 5035 §3
 * v2), signed again by the TSA's own key: what a TSA that writes both attributes produces (EU DSS's
 * TestToSignPDFSHA256_TST_SIG_NOT_FOUND.pdf). Spliced from the DER OpenSSL's TSA wrote, with asn1js for the new
 * attribute values and Node's crypto for the RSA signature; every other byte of the token stays as OpenSSL made it.
 */
import { createHash, sign } from 'node:crypto';
import * as asn1js from 'asn1js';
import { children, oid, readTlv } from '../../../src/crypto/der.ts';
import { tlv } from '../../../src/crypto/der-encode.ts';
import { id_aa_signingCertificate, id_aa_signingCertificateV2 } from '../../../src/crypto/oids.ts';

/** One signing-certificate attribute: its version, and the certificate it names (the TSA's unless `names` says). */
export interface EssAttribute {
  kind: 'v1' | 'v2';
  names?: Uint8Array;
}

/** The token with its signing-certificate attributes replaced by `attributes` (in order), re-signed with SHA-256/RSA. */
export function withSigningCertificates(tokenDer: Uint8Array, tsaCertDer: Uint8Array, tsaKeyPem: string, attributes: EssAttribute[]): Uint8Array {
  const info = children(readTlv(tokenDer));
  const sd = children(children(info[1]!)[0]!);
  const infosAt = sd.length - 1;
  const si = children(children(sd[infosAt]!)[0]!);
  const attrsAt = si.findIndex((t) => t.tag === 0xa0);
  const kept = children(si[attrsAt]!).filter((a) => ![id_aa_signingCertificate, id_aa_signingCertificateV2].includes(oid(children(a)[0]!)));
  const added = attributes.map((a) => essAttribute(a.kind, a.names ?? tsaCertDer));
  const attrs = [...kept.map((a) => a.bytes), ...added];
  const signed = tlv(0x31, ...attrs); // RFC 5652 §5.4: the signature is over the SET OF, not the [0] IMPLICIT tag
  const signature = sign('sha256', signed, tsaKeyPem);
  const newSi = si.map((t, i): Uint8Array => (i === attrsAt ? tlv(0xa0, ...attrs) : t.tag === 0x04 ? tlv(0x04, signature) : t.bytes));
  const newSd = sd.map((t, i): Uint8Array => (i === infosAt ? tlv(0x31, tlv(0x30, ...newSi)) : t.bytes));
  return tlv(0x30, info[0]!.bytes, tlv(0xa0, tlv(0x30, ...newSd)));
}

/** SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2) }; ESSCertIDv2's SHA-256 is its DEFAULT, left out. */
function essAttribute(kind: EssAttribute['kind'], certDer: Uint8Array): Uint8Array {
  const hash = createHash(kind === 'v1' ? 'sha1' : 'sha256').update(certDer).digest();
  const value = tlv(0x30, tlv(0x30, tlv(0x30, tlv(0x04, hash))));
  const type = new Uint8Array(new asn1js.ObjectIdentifier({ value: kind === 'v1' ? id_aa_signingCertificate : id_aa_signingCertificateV2 }).toBER());
  return tlv(0x30, type, tlv(0x31, value));
}

