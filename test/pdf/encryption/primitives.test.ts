/** RC4 against RFC 6229's test vectors, SASLprep against RFC 4013 §3's examples. */
import { describe, expect, it } from 'vitest';
import { rc4 } from '../../../src/pdf/encryption/rc4.ts';
import { SaslprepError, saslprep } from '../../../src/pdf/encryption/saslprep.ts';

describe('rc4', () => {
  // RFC 6229 §2: keystream bytes at offsets 0 and 16 (encrypting zeros gives the keystream).
  it.each([
    ['0102030405', 'b2396305f03dc027ccc3524a0a1118a8', '6982944f18fc82d589c403a47a0d0919'],
    ['01020304050607', '293f02d47f37c9b633f2af5285feb46b', 'e620f1390d19bd84e2e0fd752031afc1'],
    ['0102030405060708090a0b0c0d0e0f10', '9ac7cc9a609d1ef7b2932899cde41b97', '5248c4959014126a6e8a84f11d1a9e1c'],
  ])('key %s', (key, first, second) => {
    const stream = Buffer.from(rc4(Buffer.from(key, 'hex'), new Uint8Array(32)));
    expect(stream.toString('hex')).toBe(first + second);
  });

  it('is its own inverse', () => {
    const key = Buffer.from('secret key');
    const plain = Buffer.from('attack at dawn');
    expect(Buffer.from(rc4(key, rc4(key, plain)))).toEqual(plain);
  });
});

describe('saslprep (RFC 4013 §3 examples)', () => {
  it.each([
    ['I\u00ADX', 'IX'], // SOFT HYPHEN mapped to nothing
    ['user', 'user'],
    ['USER', 'USER'], // case preserved
    ['\u00AA', 'a'], // NFKC
    ['\u2168', 'IX'], // NFKC
    ['a\u00A0b\u3000c', 'a b c'], // non-ASCII spaces mapped to SPACE
    ['e\u0301', 'é'],
    ['\u0627\u0628', '\u0627\u0628'], // right-to-left only: fine
  ])('%j → %j', (input, output) => expect(saslprep(input)).toBe(output));

  it.each([
    ['\u0007', /ASCII control/], // prohibited character
    ['\u0627\u0031', /right-to-left/], // RandALCat not last
    ['a\u0627', /right-to-left/],
    ['\uE000', /private-use/],
    ['a\u200Eb', /display-changing/],
    ['\uD800', /surrogate/],
  ])('refuses %j without quoting it', (input, message) => {
    let error: unknown;
    try {
      saslprep(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SaslprepError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(input);
  });
});
