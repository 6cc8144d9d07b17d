/**
 * ECDSA signature encodings. PKCS#11 CKM_ECDSA returns r‖s, each left-padded to the field size (PKCS#11 v2.40
 * §2.3.1); CMS wants the DER `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 5480 §2.2, RFC 3279
 * §2.2.3).
 */
import { SealdError } from '../errors.ts';

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** Minimal two's-complement INTEGER content octets of an unsigned big-endian number. */
function integerContent(unsigned: Uint8Array): Uint8Array {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const trimmed = unsigned.subarray(start);
  if (trimmed[0]! & 0x80) {
    const padded = new Uint8Array(trimmed.length + 1);
    padded.set(trimmed, 1);
    return padded;
  }
  return trimmed;
}

export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new SealdError('internal', 'BAD_ECDSA_SIGNATURE', `raw ECDSA signature has odd length ${raw.length}`);
  }
  const half = raw.length / 2;
  const r = integerContent(raw.subarray(0, half));
  const s = integerContent(raw.subarray(half));
  const body = [0x02, ...derLength(r.length), ...r, 0x02, ...derLength(s.length), ...s];
  return Uint8Array.from([0x30, ...derLength(body.length), ...body]);
}

/**
 * Largest DER Ecdsa-Sig-Value for a curve whose group order has `orderBits` bits: r and s are below the order, and
 * their INTEGER needs floor(bits/8)+1 content octets at most (a 0x00 sign octet when bits is a multiple of 8, as for
 * P-256 and P-384; none for P-521, whose top octet is at most 0x01).
 */
export function maxEcdsaDerLength(orderBits: number): number {
  const content = Math.floor(orderBits / 8) + 1;
  const integer = 1 + derLength(content).length + content;
  const body = 2 * integer;
  return 1 + derLength(body).length + body;
}
