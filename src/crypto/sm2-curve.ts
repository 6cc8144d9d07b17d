/**
 * SM2 elliptic curves over Fp: y² = x³ + ax + b (GB/T 32918.1-2016), with the point arithmetic of
 * @noble/curves. seald verifies over the recommended curve sm2p256v1 (GB/T 32918.5-2017, GM/T 0003.5-2012); other
 * curves are defined only to check the examples of GB/T 32918.2 Annex A, which use a test curve.
 */
import { weierstrass, type WeierstrassPoint, type WeierstrassPointCons } from '@noble/curves/abstract/weierstrass.js';
import { SealdError } from '../errors.ts';

/** Domain parameters as GB/T 32918.1 names them (h, the cofactor, is 1 for the curves here). */
export interface Sm2DomainParameters {
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  readonly n: bigint;
  readonly xG: bigint;
  readonly yG: bigint;
  readonly h: bigint;
}

export type Sm2Point = WeierstrassPoint<bigint>;

export interface Sm2Curve {
  readonly name: string;
  readonly parameters: Sm2DomainParameters;
  readonly Point: WeierstrassPointCons<bigint>;
  /** Octets of a field element or a scalar: ⌈log2 p / 8⌉ (GB/T 32918.1 §4.2, field element to octets). */
  readonly byteLength: number;
}

export function defineSm2Curve(name: string, parameters: Sm2DomainParameters): Sm2Curve {
  const { p, a, b, n, h, xG: Gx, yG: Gy } = parameters;
  const Point = weierstrass({ p, a, b, n, h, Gx, Gy });
  return { name, parameters, Point, byteLength: Math.ceil(p.toString(16).length / 2) };
}

/** The recommended 256-bit curve, GB/T 32918.5-2017 / GM/T 0003.5-2012 ("sm2p256v1", OID 1.2.156.10197.1.301). */
export const sm2p256v1: Sm2Curve = defineSm2Curve('sm2p256v1', {
  p: 0xfffffffe_ffffffff_ffffffff_ffffffff_ffffffff_00000000_ffffffff_ffffffffn,
  a: 0xfffffffe_ffffffff_ffffffff_ffffffff_ffffffff_00000000_ffffffff_fffffffcn,
  b: 0x28e9fa9e_9d9f5e34_4d5a9e4b_cf6509a7_f39789f5_15ab8f92_ddbcbd41_4d940e93n,
  n: 0xfffffffe_ffffffff_ffffffff_ffffffff_7203df6b_21c6052b_53bbf409_39d54123n,
  xG: 0x32c4ae2c_1f198119_5f990446_6a39c994_8fe30bbf_f2660be1_715a4589_334c74c7n,
  yG: 0xbc3736a2_f4f6779c_59bdcee3_6b692153_d0a9877c_c62a4740_02df32e5_2139f0a0n,
  h: 1n,
});

/** Big-endian octets of a non-negative integer, left-padded to `length` (GB/T 32918.1 §4.2, integer to octets). */
export function integerToBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new RangeError(`integer does not fit in ${length} octets`);
  return out;
}

/** The integer a big-endian octet string denotes (GB/T 32918.1 §4.2, octets to integer). */
export function bytesToInteger(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const byte of bytes) v = (v << 8n) | BigInt(byte);
  return v;
}

/** A public key PA = (xA, yA). */
export interface Sm2PublicKey {
  readonly x: bigint;
  readonly y: bigint;
}

/**
 * The point of a public key after the checks of GB/T 32918.1-2016 §6.2.1: not O, coordinates in Fp, on the curve,
 * [n]PA = O (noble's assertValidity does the last three). A key failing them is refused, not treated as a bad
 * signature: it says the certificate or the caller is wrong.
 */
export function sm2PublicKeyPoint(curve: Sm2Curve, key: Sm2PublicKey | Sm2Point): Sm2Point {
  try {
    const point = key instanceof curve.Point ? key : curve.Point.fromAffine({ x: key.x, y: key.y });
    point.assertValidity();
    return point;
  } catch (cause) {
    throw new SealdError('invalid-input', 'BAD_SM2_PUBLIC_KEY', `not a point of ${curve.name}`, { cause });
  }
}
