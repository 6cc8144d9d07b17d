/**
 * The ESS signing-certificate attributes of a SignerInfo, as a verifier reads them (RFC 2634 §5.4 signing-certificate,
 * RFC 5035 §3 signing-certificate-v2): they bind the signature to one certificate, so a verifier can tell which
 * certificate signed even when the sid (issuer and serial) is ambiguous or substituted.
 *
 * The rule, explicit: each of the two attributes appears at most once, with one value (RFC 5652 §5.3's attribute
 * syntax; RFC 2634 §5.4 and RFC 5035 §3 define one SigningCertificate(V2) per signer), and each one present names
 * the certificate whose key verified the signature in its first ESSCertID(v2) (ETSI EN 319 122-1 §5.2.2.3). A
 * SignerInfo with both a v1 and a v2 that agree is sound: TSAs write both, and EU DSS accepts such tokens (its
 * PAdES-LT.pdf, DSS2471Test). One attribute type twice, or a v1 and a v2 naming different certificates, leaves the
 * signer's certificate unidentified: refused.
 */
import { createHash } from 'node:crypto';
import { children, equalBytes, expectTag, oid, type Tlv } from './der.ts';
import { id_aa_signingCertificate, id_aa_signingCertificateV2 } from './oids.ts';

/** A signed attribute as signed-data.ts reads it (RFC 5652 §5.3: attrType and the SET OF attrValues). */
interface Attribute {
  type: string;
  values: Tlv[];
}

/** Hash algorithms an ESSCertIDv2 may name (RFC 5035 §4), with Node's names; `sm3` is hashed by the caller's `digest`. */
export type HashBy = (node: string, data: Uint8Array) => Uint8Array;

/**
 * undefined when the signing-certificate attributes (if any) are sound and name `signerDer`; else why not.
 *   SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, … }
 *   ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT sha256, certHash OCTET STRING, … }
 *   SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, … }; ESSCertID ::= SEQUENCE { certHash (SHA-1), … }
 */
export function checkSigningCertificate(
  attributes: readonly Attribute[],
  signerDer: Uint8Array,
  hashNodeOf: (algorithmOid: string) => string | undefined,
  hash: HashBy = (node, data) => new Uint8Array(createHash(node).update(data).digest()),
): string | undefined {
  for (const type of [id_aa_signingCertificateV2, id_aa_signingCertificate]) {
    const found = attributes.filter((a) => a.type === type);
    const label = type === id_aa_signingCertificateV2 ? 'signing-certificate-v2' : 'signing-certificate';
    if (found.length > 1 || (found.length === 1 && found[0]!.values.length !== 1)) {
      return `the SignerInfo carries ${found.length > 1 ? `${found.length} ${label} attributes` : `a ${label} attribute with ${found[0]!.values.length} values`}: the signer's certificate is named ambiguously, so it is not identified (RFC 2634 §5.4, RFC 5035 §3)`;
    }
    if (found.length === 1) {
      const wrong = namesSigner(found[0]!, type === id_aa_signingCertificateV2, signerDer, hashNodeOf, hash);
      if (wrong !== undefined) return wrong;
    }
  }
  return undefined;
}

/** The first ESSCertID(v2) of `attribute` is the hash of `signerDer`: undefined, else why not. */
function namesSigner(attribute: Attribute, v2: boolean, signerDer: Uint8Array, hashNodeOf: (algorithmOid: string) => string | undefined, hash: HashBy): string | undefined {
  try {
    const certs = children(expectTag(children(expectTag(attribute.values[0], 0x30, 'SigningCertificate'))[0], 0x30, 'certs'));
    const first = children(expectTag(certs[0], 0x30, 'ESSCertID'));
    let hashName: string | undefined = v2 ? 'sha256' : 'sha1';
    let i = 0;
    if (v2 && first[0]?.tag === 0x30) {
      const algOid = oid(expectTag(children(first[0])[0], 0x06, 'hashAlgorithm'));
      hashName = hashNodeOf(algOid);
      if (hashName === undefined) return `signing-certificate-v2 uses an unknown hash ${algOid}`;
      i = 1;
    }
    const certHash = expectTag(first[i], 0x04, 'certHash').value;
    if (!equalBytes(certHash, hash(hashName, signerDer))) {
      return `the signed ${v2 ? 'signing-certificate-v2' : 'signing-certificate'} names another certificate than the one that signed`;
    }
  } catch {
    return 'the signing-certificate attribute cannot be parsed';
  }
  return undefined;
}
