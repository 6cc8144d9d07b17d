import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ecdsaRawToDer, maxEcdsaDerLength } from '../../src/crypto/ecdsa-signature.ts';

describe('ECDSA r‖s to DER', () => {
  it.each([
    ['P-256', 32, 256],
    ['P-384', 48, 384],
    ['P-521', 66, 521],
  ] as const)('%s signatures convert to DER that node verifies, within the maximum length', (curve, fieldBytes, orderBits) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    for (let i = 0; i < 50; i++) {
      const message = Buffer.from(`message ${i}`);
      const raw = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      expect(raw.length).toBe(2 * fieldBytes);
      const der = ecdsaRawToDer(raw);
      expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, der)).toBe(true);
      expect(der.length).toBeLessThanOrEqual(maxEcdsaDerLength(orderBits));
    }
  });

  it('handles leading zeros and high bits exactly', () => {
    const r = new Uint8Array(32);
    r[31] = 1; // r = 1 → INTEGER 01
    const s = new Uint8Array(32).fill(0xff); // s high bit set → 0x00 prefix
    const der = ecdsaRawToDer(Uint8Array.from([...r, ...s]));
    expect(Buffer.from(der.subarray(0, 5)).toString('hex')).toBe('3026020101');
    expect(der[5]).toBe(0x02);
    expect(der[6]).toBe(33);
    expect(der[7]).toBe(0);
    expect(maxEcdsaDerLength(256)).toBe(72);
    expect(maxEcdsaDerLength(384)).toBe(104);
    expect(maxEcdsaDerLength(521)).toBe(139);
  });
});
