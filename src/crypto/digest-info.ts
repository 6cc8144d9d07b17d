/**
 * RFC 8017 §9.2 step 2: the DER DigestInfo an RSASSA-PKCS1-v1_5 signature covers. A token doing CKM_RSA_PKCS (raw
 * PKCS#1 v1.5 padding, PKCS#11 v2.40 §2.1.6) signs exactly these bytes.
 */
import { SealdError } from '../errors.ts';

// RFC 8017 §9.2 note 1: DER prefix of DigestInfo { AlgorithmIdentifier { id-sha256, NULL }, OCTET STRING (32) }.
const SHA256_DIGEST_INFO_PREFIX = Uint8Array.from([
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
]);

export function sha256DigestInfo(digest: Uint8Array): Uint8Array {
  if (digest.length !== 32) {
    throw new SealdError('invalid-input', 'BAD_DIGEST_LENGTH', `a SHA-256 digest has 32 bytes, got ${digest.length}`);
  }
  const out = new Uint8Array(SHA256_DIGEST_INFO_PREFIX.length + 32);
  out.set(SHA256_DIGEST_INFO_PREFIX);
  out.set(digest, SHA256_DIGEST_INFO_PREFIX.length);
  return out;
}
