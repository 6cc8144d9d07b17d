/**
 * Checks a signature made by a certificate's key, for the algorithms certificates, OCSP responses and CRLs use
 * (RFC 5280 §4.1.1.2, RFC 6960 §4.2.1): RSA PKCS#1 v1.5 and ECDSA with SHA-2 through Node's crypto; and SM2-with-SM3
 * (GM/T 0015-2012, GB/T 32918.2) through sm2-signature.ts, since Node's crypto does not know SM2 keys.
 */
import { verify } from 'node:crypto';
import type { Certificate } from './certificate.ts';
import {
  ecdsa_with_SHA256,
  ecdsa_with_SHA384,
  ecdsa_with_SHA512,
  sha256WithRSAEncryption,
  sha384WithRSAEncryption,
  sha512WithRSAEncryption,
} from './oids.ts';
import { id_sm2sign_with_sm3 } from './oids-gm.ts';
import { SM2_DEFAULT_ID, verifySm2 } from './sm2-signature.ts';

const SIGNATURE_HASHES: Record<string, string> = {
  [sha256WithRSAEncryption]: 'sha256',
  [sha384WithRSAEncryption]: 'sha384',
  [sha512WithRSAEncryption]: 'sha512',
  [ecdsa_with_SHA256]: 'sha256',
  [ecdsa_with_SHA384]: 'sha384',
  [ecdsa_with_SHA512]: 'sha512',
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
export function verifyWithCertificate(certificate: Certificate, hash: string, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (hash === 'sm3') {
      const key = certificate.sm2PublicKey;
      return key !== undefined && verifySm2(key, data, signature, SM2_DEFAULT_ID);
    }
    const key = certificate.publicKey;
    return key !== undefined && verify(hash, data, key, signature);
  } catch {
    return false;
  }
}
