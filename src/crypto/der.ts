/**
 * A minimal reader of BER/DER (ITU-T X.690 §8) for the few structures the verifier walks on every signature: CMS
 * SignedData, SignerInfo, attributes and certificate fields (certificate.ts). It keeps every element's exact bytes, which is what
 * signature checks need (the signed attributes are hashed as received), and costs a fraction of a full ASN.1 object
 * model. Definite lengths, and the indefinite lengths NSS writes for constructed elements (§8.1.3.6).
 */

export interface Tlv {
  /** The identifier octet (tags ≥ 31 are not used by these structures and are refused). */
  tag: number;
  constructed: boolean;
  /** The whole element: identifier, length and contents. */
  bytes: Uint8Array;
  /** The contents octets (for an indefinite length: without the end-of-contents marker). */
  value: Uint8Array;
}

export class DerError extends Error {}

const MAX_DEPTH = 64;

/** The element starting at `pos` of `buf`. */
export function readTlv(buf: Uint8Array, pos = 0, depth = 0): Tlv {
  if (depth > MAX_DEPTH) throw new DerError('nested too deeply');
  if (pos + 2 > buf.length) throw new DerError('truncated element');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not expected here');
  const constructed = (tag & 0x20) !== 0;
  const first = buf[pos + 1]!;
  let header = 2;
  let length: number;
  if (first < 0x80) length = first;
  else if (first === 0x80) {
    if (!constructed) throw new DerError('indefinite length on a primitive element');
    let p = pos + 2;
    for (;;) {
      if (p + 2 > buf.length) throw new DerError('no end-of-contents marker');
      if (buf[p] === 0 && buf[p + 1] === 0) break;
      p += readTlv(buf, p, depth + 1).bytes.length;
    }
    return { tag, constructed, bytes: buf.subarray(pos, p + 2), value: buf.subarray(pos + 2, p) };
  } else {
    const n = first & 0x7f;
    if (n > 4 || pos + 2 + n > buf.length) throw new DerError('bad length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos + 2 + i]!;
    header += n;
  }
  const end = pos + header + length;
  if (end > buf.length) throw new DerError('element longer than its container');
  return { tag, constructed, bytes: buf.subarray(pos, end), value: buf.subarray(pos + header, end) };
}

/** The elements inside a constructed one. */
export function children(tlv: Tlv, depth = 0): Tlv[] {
  if (!tlv.constructed) throw new DerError('a primitive element has no children');
  const out: Tlv[] = [];
  for (let p = 0; p < tlv.value.length; ) {
    const child = readTlv(tlv.value, p, depth + 1);
    out.push(child);
    p += child.bytes.length;
  }
  return out;
}

/** §8.19: an OBJECT IDENTIFIER's contents in dotted form. */
export function oid(tlv: Tlv): string {
  if (tlv.tag !== 0x06 || tlv.value.length === 0) throw new DerError('not an OBJECT IDENTIFIER');
  const parts: number[] = [];
  let v = 0;
  for (const b of tlv.value) {
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) throw new DerError(`${what} is missing or malformed`);
  return tlv;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
