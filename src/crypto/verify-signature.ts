/**
 * Checks a signature made by a certificate's key with Node's crypto, for the algorithms PKI objects use (X.509
 * RFC 5280 §4.1.1.2, OCSP RFC 6960 §4.2.1, CRLs, CMS SignerInfos): RSA PKCS#1 v1.5 and ECDSA with SHA-2.
 */
import { createPublicKey, verify } from 'node:crypto';
import type * as pkijs from 'pkijs';
import { ecdsa_with_SHA256, id_sha256, rsaEncryption, sha256WithRSAEncryption } from './oids.ts';

/** Hash of a signature AlgorithmIdentifier; for the bare key OIDs (CMS) the digest algorithm decides. */
const SIGNATURE_HASHES: Record<string, string> = {
  [sha256WithRSAEncryption]: 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  [ecdsa_with_SHA256]: 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

export const DIGEST_NAMES: Record<string, string> = {
  [id_sha256]: 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const BARE_KEY_ALGORITHMS = new Set([rsaEncryption, '1.2.840.10045.2.1']);

/**
 * The hash to verify with: from the signature algorithm, or from `digestAlgorithm` when the signature algorithm
 * names only the key type (CMS allows rsaEncryption there). undefined for anything else (PSS, SHA-1, unknown).
 */
export function signatureHash(signatureAlgorithm: string, digestAlgorithm?: string): string | undefined {
  const direct = SIGNATURE_HASHES[signatureAlgorithm];
  if (direct !== undefined) return direct;
  if (BARE_KEY_ALGORITHMS.has(signatureAlgorithm) && digestAlgorithm !== undefined) return DIGEST_NAMES[digestAlgorithm];
  return undefined;
}

/** true when `signature` over `data` verifies with the certificate's public key under `hash`. */
export function verifyWithCertificate(certificate: pkijs.Certificate, hash: string, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(certificate.subjectPublicKeyInfo.toSchema().toBER()), format: 'der', type: 'spki' });
    return verify(hash, data, key, signature);
  } catch {
    return false;
  }
}
