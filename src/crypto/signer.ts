/**
 * What the CMS builder needs from a key holder. The pool (src/pool) implements it over PKCS#11; crypto never knows
 * where the key lives.
 */
export type SignatureAlgorithm = 'RSASSA-PKCS1-v1_5' | 'ECDSA';

export interface Signer {
  /** DER certificates: the signer's first, then its issuers (the chain to embed in the CMS). */
  readonly certificates: readonly Uint8Array[];
  /** Key algorithm; the digest is always SHA-256. */
  readonly algorithm: SignatureAlgorithm;
  /**
   * Sign a SHA-256 digest computed by the caller. RSA: PKCS#1 v1.5 over the DigestInfo (RFC 8017 §9.2), returns the
   * signature octets. ECDSA: returns the DER `Ecdsa-Sig-Value` (RFC 5480 / RFC 3279 §2.2.3), not raw r‖s.
   * Never blocks the event loop. Rejects with a SealdError ('unavailable', 'deadline', 'cancelled'…).
   */
  signDigest(digest: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>;
}
