/**
 * SM2 signing for tests only (seald signs on tokens): GB/T 32918.2-2016 §6.1 A1–A7, with the random k given so the
 * standard's worked examples can be reproduced, or drawn at random for fixtures. Not constant-time.
 */
import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesToInteger, type Sm2Curve, type Sm2PublicKey } from '../../src/crypto/sm2-curve.ts';
import type { Sm2Signature } from '../../src/crypto/sm2-encoding.ts';
import { SM2_DEFAULT_ID, sm2E, sm2Z } from '../../src/crypto/sm2-signature.ts';

export function sm2PublicKeyOf(curve: Sm2Curve, dA: bigint): Sm2PublicKey {
  const { x, y } = curve.Point.BASE.multiply(dA).toAffine();
  return { x, y };
}

function randomScalar(n: bigint): bigint {
  for (;;) {
    const k = bytesToInteger(randomBytes(32));
    if (k >= 1n && k < n) return k;
  }
}

function inverse(value: bigint, n: bigint): bigint {
  // n is prime: value^(n-2) mod n
  let result = 1n;
  let base = value % n;
  for (let exp = n - 2n; exp > 0n; exp >>= 1n) {
    if (exp & 1n) result = (result * base) % n;
    base = (base * base) % n;
  }
  return result;
}

/** §6.1 A3–A7 over a given hash value e. */
export function signSm2Digest(curve: Sm2Curve, dA: bigint, e: Uint8Array, k?: bigint): Sm2Signature {
  const { n } = curve.parameters;
  for (;;) {
    const kk = k ?? randomScalar(n); // A3
    const x1 = curve.Point.BASE.multiply(kk).toAffine().x; // A4
    const r = (bytesToInteger(e) + x1) % n; // A5
    if (r === 0n || r + kk === n) {
      if (k !== undefined) throw new Error('the given k yields r = 0 or r + k = n');
      continue;
    }
    const s = (inverse(1n + dA, n) * (((kk - r * dA) % n) + n)) % n; // A6
    if (s === 0n) {
      if (k !== undefined) throw new Error('the given k yields s = 0');
      continue;
    }
    return { r, s }; // A7
  }
}

/** §6.1 A1–A7: sign message M as the holder of dA with identity id. */
export function signSm2(curve: Sm2Curve, dA: bigint, message: Uint8Array, id: string | Uint8Array = SM2_DEFAULT_ID, k?: bigint): Sm2Signature {
  const e = sm2E(sm2Z(sm2PublicKeyOf(curve, dA), id, curve), message);
  return signSm2Digest(curve, dA, e, k);
}

/**
 * dA from what `openssl pkey -outform DER` writes: an RFC 5915 ECPrivateKey (OpenSSL 3.0 for EC keys), or a PKCS#8
 * PrivateKeyInfo wrapping one (other versions may).
 */
export function sm2PrivateKeyFromDer(der: Uint8Array): bigint {
  let ecPrivateKey = asn1js.fromBER(new Uint8Array(der)).result as asn1js.Sequence;
  if (ecPrivateKey.valueBlock.value[1] instanceof asn1js.Sequence) {
    const info = pkijs.PrivateKeyInfo.fromBER(new Uint8Array(der));
    ecPrivateKey = asn1js.fromBER(info.privateKey.valueBlock.valueHexView).result as asn1js.Sequence;
  }
  const privateKey = ecPrivateKey.valueBlock.value[1];
  if (!(privateKey instanceof asn1js.OctetString)) throw new Error('not an ECPrivateKey');
  return bytesToInteger(privateKey.valueBlock.valueHexView);
}
