/**
 * RC4, the stream cipher of the standard security handler's revisions 2–4 (ISO 32000-1 §7.6.2, Algorithm 1 and
 * §7.6.3.3). Node's OpenSSL 3 keeps RC4 in the legacy provider, which is not loaded by default, so it is written here:
 * the key-scheduling algorithm, then the keystream XORed over the data. Encryption and decryption are the same
 * operation.
 */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (key.length === 0 || key.length > 256) throw new RangeError('RC4 key must be 1 to 256 bytes');
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    const t = s[i]!;
    s[i] = s[j]!;
    s[j] = t;
  }
  const out = new Uint8Array(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    const t = s[i]!;
    s[i] = s[j]!;
    s[j] = t;
    out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}
