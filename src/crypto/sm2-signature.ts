/**
 * SM2 digital signature verification, GB/T 32918.2-2016 (GM/T 0003.2-2012), with the signer's identity bound in
 * through ZA (§5.5) and the default identity of GM/T 0009-2012. Signing happens on a token; seald only verifies.
 */
import { SealdError } from '../errors.ts';
import {
  bytesToInteger,
  integerToBytes,
  sm2p256v1,
  sm2PublicKeyPoint,
  type Sm2Curve,
  type Sm2Point,
  type Sm2PublicKey,
} from './sm2-curve.ts';
import { decodeSm2Signature, decodeSm2SubjectPublicKeyInfo, type Sm2Signature } from './sm2-encoding.ts';
import { sm3, SM3_DIGEST_BYTES } from './sm3.ts';

/** The user identity IDA used when none was agreed: GM/T 0009-2012 §10 (also GM/T 0015 for certificates). */
export const SM2_DEFAULT_ID = '1234567812345678';

function idBytes(id: string | Uint8Array): Uint8Array {
  return typeof id === 'string' ? new TextEncoder().encode(id) : id;
}

/**
 * ZA = H256(ENTLA ‖ IDA ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA), GB/T 32918.2-2016 §5.5: ENTLA is the bit length of IDA in two
 * octets, the field elements are converted to octets as GB/T 32918.1 §4.2 says (fixed length, big-endian).
 */
export function sm2Z(publicKey: Sm2PublicKey, id: string | Uint8Array = SM2_DEFAULT_ID, curve: Sm2Curve = sm2p256v1): Uint8Array {
  const IDA = idBytes(id);
  const entlenA = IDA.length * 8;
  if (entlenA > 0xffff) throw new SealdError('invalid-input', 'BAD_SM2_ID', `SM2 identity of ${IDA.length} octets is over 8191`);
  const ENTLA = Uint8Array.of(entlenA >> 8, entlenA & 0xff);
  const { a, b, xG, yG } = curve.parameters;
  const octets = (v: bigint): Uint8Array => integerToBytes(v, curve.byteLength);
  return sm3(ENTLA, IDA, octets(a), octets(b), octets(xG), octets(yG), octets(publicKey.x), octets(publicKey.y));
}

/** e = H256(ZA ‖ M), §6.1 A1–A2 and §7.1 B3–B4: the hash value the signature is computed on. */
export function sm2E(ZA: Uint8Array, message: Uint8Array): Uint8Array {
  return sm3(ZA, message);
}

/**
 * §7.1 B1, B2 and B5–B7 for a hash value e already computed (B3–B4): the check a CMS verifier needs when the signer
 * signed a digest it was handed. Returns false for any signature that does not verify; throws for a bad key.
 */
export function verifySm2Digest(curve: Sm2Curve, publicKey: Sm2PublicKey | Sm2Point, e: Uint8Array, signature: Sm2Signature): boolean {
  if (e.length !== SM3_DIGEST_BYTES) {
    throw new SealdError('invalid-input', 'BAD_SM2_DIGEST', `SM2 hash value e has ${e.length} octets, not ${SM3_DIGEST_BYTES}`);
  }
  const PA = sm2PublicKeyPoint(curve, publicKey);
  const { n } = curve.parameters;
  const { r, s } = signature;
  // B1, B2: r′ and s′ in [1, n-1]
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  // B5: t = (r′ + s′) mod n, t ≠ 0
  const t = (r + s) % n;
  if (t === 0n) return false;
  // B6: (x1′, y1′) = [s′]G + [t]PA  (all public values, so the variable-time multiplications are fine)
  const point = curve.Point.BASE.multiplyUnsafe(s).add(PA.multiplyUnsafe(t));
  if (point.is0()) return false;
  // B7: R = (e′ + x1′) mod n, accepted when R = r′
  const R = (bytesToInteger(e) + point.toAffine().x) % n;
  return R === r;
}

/** What was signed: the message M (ZA is computed from the key and id) or the hash value e itself. */
export type Sm2SignedContent = Uint8Array | { readonly e: Uint8Array };

/**
 * Verifies an SM2 signature over sm2p256v1.
 * - `publicKey`: a DER SubjectPublicKeyInfo (either spelling, see sm2-encoding.ts) or the point (x, y);
 * - `content`: the message M, or `{ e }` when the signature is over a given hash value (then `id` is not used);
 * - `signature`: DER SM2Signature, or (r, s);
 * - `id`: the signer's IDA, GM/T 0009's default unless the parties agreed on another.
 * false when the signature does not verify (including a malformed signature encoding); throws SealdError for a key
 * that is not an SM2 key.
 */
export function verifySm2(
  publicKey: Uint8Array | Sm2PublicKey,
  content: Sm2SignedContent,
  signature: Uint8Array | Sm2Signature,
  id: string | Uint8Array = SM2_DEFAULT_ID,
): boolean {
  const key = publicKey instanceof Uint8Array ? decodeSm2SubjectPublicKeyInfo(publicKey) : publicKey;
  const PA = sm2PublicKeyPoint(sm2p256v1, key);
  const rs = signature instanceof Uint8Array ? decodeSm2Signature(signature) : signature;
  if (rs === undefined) return false;
  const e = content instanceof Uint8Array ? sm2E(sm2Z(key, id), content) : content.e;
  return verifySm2Digest(sm2p256v1, PA, e, rs);
}
