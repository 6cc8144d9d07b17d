/**
 * The signature on an SM2 certificate: tbsCertificate signed with SM2-with-SM3 (GM/T 0015-2012, OID
 * 1.2.156.10197.1.501) by the issuer's SM2 key. This checks the signature only; names, validity and path are the
 * path validator's business.
 */
import { SealdError } from '../errors.ts';
import { parseCertificate } from './certificate.ts';
import { id_sm2sign_with_sm3 } from './oids-gm.ts';
import { sm2PublicKeyFromInfo } from './sm2-encoding.ts';
import { SM2_DEFAULT_ID, verifySm2 } from './sm2-signature.ts';

/**
 * true when `certDer`'s signature verifies with `issuerCertDer`'s SM2 public key. The signer identity is GM/T 0009's
 * default, which GM/T 0015 prescribes for certificates, unless `id` says otherwise.
 * Throws SealdError when the certificate is not signed with SM2-with-SM3 or the issuer's key is not an SM2 key;
 * false when the signature does not verify, or when tbsCertificate.signature names another algorithm than
 * signatureAlgorithm (RFC 5280 §4.1.1.2: they must be identical).
 */
export function verifySm2CertificateSignature(certDer: Uint8Array, issuerCertDer: Uint8Array, id: string | Uint8Array = SM2_DEFAULT_ID): boolean {
  const cert = parseCertificate(certDer);
  const issuer = parseCertificate(issuerCertDer);
  const algorithm = cert.signatureAlgorithm.algorithmId;
  if (algorithm !== id_sm2sign_with_sm3) {
    throw new SealdError('invalid-input', 'NOT_SM2_SIGNATURE', `certificate is signed with ${algorithm}, not SM2-with-SM3`);
  }
  if (cert.signature.algorithmId !== algorithm) return false;
  const issuerKey = sm2PublicKeyFromInfo(issuer.subjectPublicKeyInfo);
  const signatureValue = cert.signatureValue.valueBlock;
  if (signatureValue.unusedBits !== 0) return false;
  return verifySm2(issuerKey, cert.tbsView, new Uint8Array(signatureValue.valueHexView), id);
}
