/**
 * Checks a signature made by a certificate's key with Node's crypto, for the algorithms certificates, OCSP responses
 * and CRLs use (RFC 5280 §4.1.1.2, RFC 6960 §4.2.1): RSA PKCS#1 v1.5 and ECDSA with SHA-2; and SM2-with-SM3
 * (GM/T 0015-2012, GB/T 32918.2) through sm2-signature.ts, since Node's crypto does not know SM2 keys.
 */
import { createPublicKey, verify } from 'node:crypto';
import type * as pkijs from 'pkijs';
import { ecdsa_with_SHA256, sha256WithRSAEncryption } from './oids.ts';
import { id_sm2sign_with_sm3 } from './oids-gm.ts';
import { sm2PublicKeyFromInfo } from './sm2-encoding.ts';
import { SM2_DEFAULT_ID, verifySm2 } from './sm2-signature.ts';

const SIGNATURE_HASHES: Record<string, string> = {
  [sha256WithRSAEncryption]: 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  [ecdsa_with_SHA256]: 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  [id_sm2sign_with_sm3]: 'sm3',
};

/** The hash of a signature AlgorithmIdentifier; undefined for anything else (PSS, SHA-1, unknown). */
export function signatureHash(signatureAlgorithm: string): string | undefined {
  return SIGNATURE_HASHES[signatureAlgorithm];
}

/**
 * true when `signature` over `data` verifies with the certificate's public key under `hash`. `sm3` means
 * SM2-with-SM3, with GM/T 0009's default identity (GM/T 0015 for certificates and CRLs).
 */
export function verifyWithCertificate(certificate: pkijs.Certificate, hash: string, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (hash === 'sm3') return verifySm2(sm2PublicKeyFromInfo(certificate.subjectPublicKeyInfo), data, signature, SM2_DEFAULT_ID);
    const key = createPublicKey({ key: Buffer.from(certificate.subjectPublicKeyInfo.toSchema().toBER()), format: 'der', type: 'spki' });
    return verify(hash, data, key, signature);
  } catch {
    return false;
  }
}
