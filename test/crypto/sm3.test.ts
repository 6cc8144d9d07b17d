import { getHashes, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSm3, sm3, sm3Implementation } from '../../src/crypto/sm3.ts';
import { Sm3Portable } from '../../src/crypto/sm3-portable.ts';
import { opensslOk } from './openssl.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const portable = (...parts: Uint8Array[]): Uint8Array => {
  const hash = new Sm3Portable();
  for (const part of parts) hash.update(part);
  return hash.digest();
};

// GB/T 32905-2016 Annex A: example 1 (one block) and example 2 (two blocks after padding).
const STANDARD_VECTORS = [
  ['abc', '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0'],
  ['abcd'.repeat(16), 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732'],
] as const;

describe('SM3', () => {
  it('uses node:crypto exactly when this Node\'s OpenSSL offers sm3 (Node 20 with its OpenSSL 3.0 does)', () => {
    expect(sm3Implementation).toBe(getHashes().includes('sm3') ? 'node:crypto' : 'portable');
  });

  describe.each([
    ['sm3()', (m: Uint8Array) => sm3(m)],
    ['portable', (m: Uint8Array) => portable(m)],
  ] as const)('%s', (_name, hash) => {
    it.each(STANDARD_VECTORS)('GB/T 32905 Annex A: %s', (message, expected) => {
      expect(hex(hash(ascii(message)))).toBe(expected);
    });

    it('a one-bit change changes the hash', () => {
      expect(hex(hash(ascii('abd')))).not.toBe(STANDARD_VECTORS[0][1]);
    });
  });

  it('the portable code agrees with the openssl CLI at every length around the padding boundaries', async () => {
    const lengths = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4099];
    const data = randomBytes(4099);
    for (const length of lengths) {
      const message = data.subarray(0, length);
      const expected = (await opensslOk(['dgst', '-sm3', '-binary'], message)).stdoutBytes;
      expect(hex(portable(message)), `length ${length}`).toBe(hex(expected));
      expect(hex(sm3(message)), `length ${length}`).toBe(hex(expected));
    }
  });

  it('hashing in pieces (split anywhere, empty pieces included) equals hashing at once', () => {
    const message = randomBytes(300);
    const whole = hex(sm3(message));
    for (const cuts of [[0], [1, 64], [63, 64, 65], [128, 128, 200], [299]]) {
      const pieces: Uint8Array[] = [];
      let from = 0;
      for (const cut of cuts) {
        pieces.push(message.subarray(from, cut));
        from = cut;
      }
      pieces.push(message.subarray(from));
      const streamed = new Sm3Portable();
      const node = createSm3();
      for (const piece of pieces) {
        streamed.update(piece);
        node.update(piece);
      }
      expect(hex(streamed.digest()), `cuts ${cuts.join(',')}`).toBe(whole);
      expect(hex(node.digest())).toBe(whole);
      expect(hex(sm3(...pieces))).toBe(whole);
    }
  });

  it('refuses to be used after digest', () => {
    const hash = new Sm3Portable().update(ascii('abc'));
    hash.digest();
    expect(() => hash.update(ascii('d'))).toThrow(/after digest/);
    expect(() => hash.digest()).toThrow(/twice/);
  });
});
