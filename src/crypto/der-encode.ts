/** Writing DER (ITU-T X.690) from already-encoded pieces: what seald's CMS and attributes are spliced from. */

/** One DER element: tag, definite length (X.690 §8.1.3), then the contents. */
export function tlv(tag: number, ...contents: readonly Uint8Array[]): Uint8Array {
  const length = contents.reduce((n, c) => n + c.length, 0);
  const lengthOctets: number[] = [];
  if (length < 0x80) lengthOctets.push(length);
  else {
    for (let n = length; n > 0; n = Math.floor(n / 256)) lengthOctets.unshift(n & 0xff);
    lengthOctets.unshift(0x80 | lengthOctets.length);
  }
  const out = new Uint8Array(1 + lengthOctets.length + length);
  out[0] = tag;
  out.set(lengthOctets, 1);
  let at = 1 + lengthOctets.length;
  for (const c of contents) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
