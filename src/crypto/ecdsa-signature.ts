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

/** Largest DER Ecdsa-Sig-Value for a curve whose field elements take `fieldBytes` octets (both r and s need a 0x00). */
export function maxEcdsaDerLength(fieldBytes: number): number {
  const integer = 1 + derLength(fieldBytes + 1).length + fieldBytes + 1;
  const body = 2 * integer;
  return 1 + derLength(body).length + body;
}
