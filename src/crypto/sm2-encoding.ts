/**
 * SM2 keys and signatures as certificates and CMS carry them: the SubjectPublicKeyInfo of an SM2 key (GM/T 0015-2012,
 * GB/T 20518) and SM2Signature ::= SEQUENCE { R INTEGER, S INTEGER } (GM/T 0009-2012 §7.3).
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SealdError } from '../errors.ts';
import { ecdsaRawToDer } from './ecdsa-signature.ts';
import { id_ecPublicKey } from './oids.ts';
import { id_sm2 } from './oids-gm.ts';
import { integerToBytes, sm2p256v1, sm2PublicKeyPoint, type Sm2PublicKey } from './sm2-curve.ts';

/** A signature (r, s), GB/T 32918.2-2016 §6.1 A6–A7. */
export interface Sm2Signature {
  readonly r: bigint;
  readonly s: bigint;
}

function badKey(message: string, cause?: unknown): SealdError {
  return new SealdError('invalid-input', 'BAD_SM2_PUBLIC_KEY', message, cause === undefined ? undefined : { cause });
}

/**
 * The sm2p256v1 public key of a SubjectPublicKeyInfo. Two spellings occur: RFC 5480's id-ecPublicKey with the named
 * curve 1.2.156.10197.1.301 (OpenSSL, most CAs), and the algorithm OID 1.2.156.10197.1.301 itself with absent, NULL
 * or the same OID as parameters (older GM/T tooling). Explicit curve parameters are refused.
 */
export function sm2PublicKeyFromInfo(info: pkijs.PublicKeyInfo): Sm2PublicKey {
  const algorithm = info.algorithm.algorithmId;
  const parameters = info.algorithm.algorithmParams as unknown;
  const curveOid = parameters instanceof asn1js.ObjectIdentifier ? parameters.valueBlock.toString() : undefined;
  if (algorithm === id_ecPublicKey) {
    if (curveOid !== id_sm2) throw badKey(`EC key on curve ${curveOid ?? '(explicit or absent parameters)'}, not sm2p256v1`);
  } else if (algorithm === id_sm2) {
    const absent = parameters === undefined || parameters instanceof asn1js.Null;
    if (!absent && curveOid !== id_sm2) throw badKey('SM2 key with unexpected algorithm parameters');
  } else {
    throw badKey(`key algorithm ${algorithm} is not SM2`);
  }
  const bits = info.subjectPublicKey;
  if (bits.valueBlock.unusedBits !== 0) throw badKey('public key BIT STRING has unused bits');
  let point;
  try {
    // GB/T 32918.1-2016 §4.2 point to octets: 04 ‖ x ‖ y, or the compressed 02/03 ‖ x
    point = sm2p256v1.Point.fromBytes(new Uint8Array(bits.valueBlock.valueHexView));
  } catch (cause) {
    throw badKey('public key is not an encoded point of sm2p256v1', cause);
  }
  const { x, y } = sm2PublicKeyPoint(sm2p256v1, point).toAffine();
  return { x, y };
}

export function decodeSm2SubjectPublicKeyInfo(der: Uint8Array): Sm2PublicKey {
  let info: pkijs.PublicKeyInfo;
  try {
    info = pkijs.PublicKeyInfo.fromBER(new Uint8Array(der));
  } catch (cause) {
    throw badKey('not a DER SubjectPublicKeyInfo', cause);
  }
  return sm2PublicKeyFromInfo(info);
}

/** One DER INTEGER at `at` (X.690 §8.3: minimal, here also non-negative); [value, next offset] or undefined. */
function readInteger(der: Uint8Array, at: number, maxContent: number): [bigint, number] | undefined {
  if (der[at] !== 0x02) return undefined;
  const length = der[at + 1];
  if (length === undefined || length === 0 || length > maxContent || at + 2 + length > der.length) return undefined;
  const content = der.subarray(at + 2, at + 2 + length);
  if (content[0]! & 0x80) return undefined; // negative
  if (length > 1 && content[0] === 0 && !(content[1]! & 0x80)) return undefined; // not minimal
  let value = 0n;
  for (const byte of content) value = (value << 8n) | BigInt(byte);
  return [value, at + 2 + length];
}

/**
 * r and s of a DER SM2Signature, or undefined when the bytes are not exactly one (BER variants, trailing bytes,
 * negative or over-long integers): a signature that is not well-formed does not verify.
 */
export function decodeSm2Signature(der: Uint8Array, byteLength = sm2p256v1.byteLength): Sm2Signature | undefined {
  // With r, s < n the whole value stays under 128 octets, so every length is in the short form.
  const maxContent = byteLength + 1;
  if (der.length < 2 || der[0] !== 0x30 || der[1]! >= 0x80 || der[1] !== der.length - 2) return undefined;
  const r = readInteger(der, 2, maxContent);
  if (r === undefined) return undefined;
  const s = readInteger(der, r[1], maxContent);
  if (s === undefined || s[1] !== der.length) return undefined;
  return { r: r[0], s: s[0] };
}

export function encodeSm2Signature(signature: Sm2Signature, byteLength = sm2p256v1.byteLength): Uint8Array {
  const raw = new Uint8Array(2 * byteLength);
  raw.set(integerToBytes(signature.r, byteLength), 0);
  raw.set(integerToBytes(signature.s, byteLength), byteLength);
  return ecdsaRawToDer(raw);
}
