/**
 * The signature value of an adbe.x509.rsa_sha1 PDF signature (ISO 32000-1 §12.8.3.2, deprecated by ISO 32000-2 but
 * still in old e-contracts): /Contents is a DER OCTET STRING holding an RSASSA-PKCS1-v1_5 signature (RFC 8017 §8.2)
 * of the SHA-1 digest of the byte ranges — no CMS, no signed attributes; the certificates are in /Cert.
 * Verified by recovering the DigestInfo with the signer's public key (RFC 8017 §8.2.2 steps 2–3), so that "the bytes
 * changed" (a SHA-1 DigestInfo for another digest) and "the signature is not this key's" are told apart.
 */
import { constants, publicDecrypt } from 'node:crypto';
import { Certificate } from './certificate.ts';
import { children, DerError, equalBytes, expectTag, oid, readTlv } from './der.ts';
import { id_sha1 } from './oids.ts';
import type { Integrity } from './signed-data.ts';

export function verifyRsaSha1(contents: Uint8Array, signerDer: Uint8Array, sha1Digest: Uint8Array): { integrity: Integrity; reason?: string } {
  let signature: Uint8Array;
  try {
    signature = expectTag(readTlv(contents), 0x04, 'the PKCS#1 signature').value;
  } catch (error) {
    return { integrity: 'BAD_CMS', reason: `adbe.x509.rsa_sha1: /Contents is not a DER OCTET STRING holding the RSA signature (ISO 32000-1 §12.8.3.2): ${(error as Error).message}` };
  }
  const key = Certificate.tryFrom(signerDer)?.publicKey;
  if (key === undefined) return { integrity: 'BAD_CMS', reason: "the signer's certificate (first in /Cert) cannot be read" };
  if (key.asymmetricKeyType !== 'rsa') return { integrity: 'UNSUPPORTED', reason: `adbe.x509.rsa_sha1 with a ${key.asymmetricKeyType ?? 'non-RSA'} key (the SubFilter is RSA only)` };
  let recovered: Uint8Array;
  try {
    recovered = new Uint8Array(publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature));
  } catch {
    return { integrity: 'BAD_SIGNATURE', reason: "the RSA signature does not verify with the signer's certificate (first in /Cert)" };
  }
  // DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING } (RFC 8017 §9.2); the
  // parameters NULL is written by most signers and left out by some (RFC 3279 §2.2.1 allows both for SHA-1).
  let algorithm: string;
  let digest: Uint8Array;
  try {
    const info = readTlv(recovered);
    if (info.bytes.length !== recovered.length) throw new DerError('trailing bytes');
    const [alg, value] = children(expectTag(info, 0x30, 'DigestInfo'));
    algorithm = oid(expectTag(children(expectTag(alg, 0x30, 'digestAlgorithm'))[0], 0x06, 'algorithm'));
    digest = expectTag(value, 0x04, 'digest').value;
  } catch {
    return { integrity: 'BAD_SIGNATURE', reason: 'the RSA signature does not hold a DigestInfo (RFC 8017 §9.2): it was not made over a digest with this key' };
  }
  if (algorithm !== id_sha1) return { integrity: 'UNSUPPORTED', reason: `adbe.x509.rsa_sha1 signs a SHA-1 digest; this signature's DigestInfo names ${algorithm}` };
  if (!equalBytes(digest, sha1Digest)) {
    return { integrity: 'DIGEST_MISMATCH', reason: 'the signed bytes have changed: their SHA-1 digest is not the one the RSA signature signs (adbe.x509.rsa_sha1)' };
  }
  return { integrity: 'INTACT' };
}
