import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { id_sm2 } from '../../src/crypto/oids-gm.ts';
import { defineSm2Curve, integerToBytes, sm2p256v1, type Sm2PublicKey } from '../../src/crypto/sm2-curve.ts';
import { decodeSm2Signature, decodeSm2SubjectPublicKeyInfo, encodeSm2Signature } from '../../src/crypto/sm2-encoding.ts';
import { SM2_DEFAULT_ID, sm2E, sm2Z, verifySm2, verifySm2Digest } from '../../src/crypto/sm2-signature.ts';
import { sm3 } from '../../src/crypto/sm3.ts';
import { opensslOk, openssl } from './openssl.ts';
import { signSm2, signSm2Digest, sm2PrivateKeyFromDer, sm2PublicKeyOf } from './sm2-signing.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').toUpperCase();
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const big = (hexDigits: string): bigint => BigInt(`0x${hexDigits}`);
const M = ascii('message digest');
const n = sm2p256v1.parameters.n;

/**
 * GB/T 32918.2-2016 Annex A (GM/T 0003.2-2012 Annex A), the signature example over the 256-bit test curve
 * (reproduced in OpenSSL's test/sm2_internal_test.c, whose comment traces it to draft-shen-sm2-ecdsa-02).
 */
const annexTestCurve = defineSm2Curve('GB/T 32918.2 Annex A Fp-256', {
  p: big('8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3'),
  a: big('787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498'),
  b: big('63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A'),
  xG: big('421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D'),
  yG: big('0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2'),
  n: big('8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7'),
  h: 1n,
});
const ANNEX_A = {
  id: 'ALICE123@YAHOO.COM',
  dA: big('128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263'),
  xA: big('0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A'),
  yA: big('7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857'),
  ZA: 'F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A',
  e: 'B524F552CD82B8B028476E005C377FB19A87E6FC682D48BB5D42E3D9B9EFFE76',
  k: big('6CB28D99385C175C94F94E934817663FC176D925DD72B727260DBAAE1FB2F96F'),
  r: big('40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1'),
  s: big('6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7'),
};

/**
 * GM/T 0003.5-2012 Annex A (GB/T 32918.5), the example over sm2p256v1 with the default ID (values as OpenSSL's
 * test/sm2_internal_test.c reproduces them; e as in GmSSL-derived implementations' test code).
 */
const PART5 = {
  dA: big('3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8'),
  xA: big('09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020'),
  yA: big('CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13'),
  e: 'F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640',
  k: big('59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21'),
  r: big('F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3'),
  s: big('B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA'),
};
const PART5_KEY: Sm2PublicKey = { x: PART5.xA, y: PART5.yA };
const PART5_SIGNATURE = { r: PART5.r, s: PART5.s };

describe('SM2 over the test curve of GB/T 32918.2 Annex A', () => {
  const key = { x: ANNEX_A.xA, y: ANNEX_A.yA };

  it('reproduces the example: PA = [dA]G, ZA, e, and (r, s) from k', () => {
    expect(sm2PublicKeyOf(annexTestCurve, ANNEX_A.dA)).toEqual(key);
    const ZA = sm2Z(key, ANNEX_A.id, annexTestCurve);
    expect(hex(ZA)).toBe(ANNEX_A.ZA);
    expect(hex(sm2E(ZA, M))).toBe(ANNEX_A.e);
    expect(signSm2(annexTestCurve, ANNEX_A.dA, M, ANNEX_A.id, ANNEX_A.k)).toEqual({ r: ANNEX_A.r, s: ANNEX_A.s });
  });

  it('verifies the example signature, and nothing else', () => {
    const e = Buffer.from(ANNEX_A.e, 'hex');
    const signature = { r: ANNEX_A.r, s: ANNEX_A.s };
    expect(verifySm2Digest(annexTestCurve, key, e, signature)).toBe(true);
    const eOf = (id: string, message: Uint8Array) => sm2E(sm2Z(key, id, annexTestCurve), message);
    expect(verifySm2Digest(annexTestCurve, key, eOf(ANNEX_A.id, ascii('message digesT')), signature)).toBe(false);
    expect(verifySm2Digest(annexTestCurve, key, eOf('ALICE123@YAHOO.CON', M), signature)).toBe(false);
    expect(verifySm2Digest(annexTestCurve, key, eOf(SM2_DEFAULT_ID, M), signature)).toBe(false);
    const otherKey = sm2PublicKeyOf(annexTestCurve, ANNEX_A.dA + 1n);
    expect(verifySm2Digest(annexTestCurve, otherKey, e, signature)).toBe(false);
    expect(verifySm2Digest(annexTestCurve, key, e, { r: ANNEX_A.r, s: ANNEX_A.s + 1n })).toBe(false);
  });
});

describe('SM2 over sm2p256v1: the GM/T 0003.5 Annex A example', () => {
  it('reproduces the example: PA = [dA]G, e with the default ID, and (r, s) from k', () => {
    expect(sm2PublicKeyOf(sm2p256v1, PART5.dA)).toEqual(PART5_KEY);
    expect(hex(sm2E(sm2Z(PART5_KEY), M))).toBe(PART5.e);
    expect(signSm2(sm2p256v1, PART5.dA, M, SM2_DEFAULT_ID, PART5.k)).toEqual(PART5_SIGNATURE);
  });

  it('verifies the example as (r, s) and as DER, over M and over e', () => {
    const der = encodeSm2Signature(PART5_SIGNATURE);
    expect(decodeSm2Signature(der)).toEqual(PART5_SIGNATURE);
    expect(verifySm2(PART5_KEY, M, PART5_SIGNATURE)).toBe(true);
    expect(verifySm2(PART5_KEY, M, der)).toBe(true);
    expect(verifySm2(PART5_KEY, M, der, SM2_DEFAULT_ID)).toBe(true);
    expect(verifySm2(PART5_KEY, { e: Buffer.from(PART5.e, 'hex') }, der)).toBe(true);
  });

  it('refuses a tampered message, another ID, another key, another e', () => {
    expect(verifySm2(PART5_KEY, ascii('message digesT'), PART5_SIGNATURE)).toBe(false);
    expect(verifySm2(PART5_KEY, ascii(''), PART5_SIGNATURE)).toBe(false);
    expect(verifySm2(PART5_KEY, M, PART5_SIGNATURE, '1234567812345679')).toBe(false);
    expect(verifySm2(PART5_KEY, M, PART5_SIGNATURE, '')).toBe(false);
    expect(verifySm2(sm2PublicKeyOf(sm2p256v1, 2n), M, PART5_SIGNATURE)).toBe(false);
    expect(verifySm2(PART5_KEY, { e: sm3(M) }, PART5_SIGNATURE)).toBe(false); // e without ZA
  });

  it('refuses r and s out of [1, n-1] and r + s = n (GB/T 32918.2 §7.1 B1, B2, B5)', () => {
    const { r, s } = PART5_SIGNATURE;
    for (const bad of [
      { r: 0n, s },
      { r, s: 0n },
      { r: n, s },
      { r, s: n },
      { r: r + n, s }, // ≡ r mod n: a verifier that reduced first would accept it
      { r, s: s + n },
      { r: -r, s },
      { r, s: n - r }, // t = (r + s) mod n = 0
    ]) {
      expect(verifySm2(PART5_KEY, M, bad), `r=${bad.r} s=${bad.s}`).toBe(false);
    }
    expect(verifySm2(PART5_KEY, M, encodeSm2Signature({ r, s: n }))).toBe(false);

    // Why B5 matters: with t = 0, [s′]G + [t]PA no longer involves the key, and whoever picks e can satisfy B7 for
    // any key: s′ = 1, r′ = n − 1, e = r′ − xG mod n. Only the t ≠ 0 check refuses it.
    const forged = { r: n - 1n, s: 1n };
    const e = integerToBytes((((forged.r - sm2p256v1.parameters.xG) % n) + n) % n, 32);
    expect(verifySm2(PART5_KEY, { e }, forged)).toBe(false);
    expect(verifySm2(sm2PublicKeyOf(sm2p256v1, 12345n), { e }, forged)).toBe(false);
    expect(verifySm2(PART5_KEY, M, encodeSm2Signature({ r, s: n - r }))).toBe(false);
  });

  it('refuses signature encodings that are not exactly a DER SM2Signature', () => {
    const der = encodeSm2Signature(PART5_SIGNATURE);
    expect(hex(der)).toBe(
      '3046022100F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3022100B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA',
    );
    const variants = [
      Uint8Array.from([...der, 0]), // trailing byte
      Uint8Array.from([0x30, 0x81, der.length - 2, ...der.subarray(2)]), // long-form length (BER)
      Uint8Array.from([0x30, der[1]! + 1, 0x02, 0x22, 0x00, ...der.subarray(4)]), // r with an extra 00
      Uint8Array.from([0x30, der[1]! - 1, 0x02, 0x20, ...der.subarray(5)]), // r's high bit: negative
      Uint8Array.from([0x31, ...der.subarray(1)]), // SET, not SEQUENCE
      der.subarray(0, der.length - 1), // truncated
      new Uint8Array(0),
      Uint8Array.from([0x30, 0x00]),
    ];
    for (const variant of variants) {
      expect(decodeSm2Signature(variant), hex(variant)).toBeUndefined();
      expect(verifySm2(PART5_KEY, M, variant)).toBe(false);
    }
  });

  it('throws for a key that is no point of sm2p256v1 (GB/T 32918.1 §6.2.1), and for a wrong-length e', () => {
    expect(() => verifySm2({ x: PART5.xA, y: PART5.yA + 1n }, M, PART5_SIGNATURE)).toThrow(/not a point of sm2p256v1/);
    expect(() => verifySm2({ x: sm2p256v1.parameters.p, y: 0n }, M, PART5_SIGNATURE)).toThrow(/not a point/);
    expect(() => verifySm2({ x: 0n, y: 0n }, M, PART5_SIGNATURE)).toThrow(/not a point/);
    expect(() => verifySm2(PART5_KEY, { e: new Uint8Array(31) }, PART5_SIGNATURE)).toThrow(/31 octets/);
  });
});

describe('SM2 against the openssl CLI', () => {
  let dir: string;
  let spki: Uint8Array;
  let keyPath: string;
  let dA: bigint;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seald-sm2-'));
    keyPath = join(dir, 'key.pem');
    await opensslOk(['genpkey', '-algorithm', 'SM2', '-out', keyPath]);
    spki = (await opensslOk(['pkey', '-in', keyPath, '-pubout', '-outform', 'DER'])).stdoutBytes;
    dA = sm2PrivateKeyFromDer((await opensslOk(['pkey', '-in', keyPath, '-outform', 'DER'])).stdoutBytes);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function opensslSign(message: Uint8Array, options: string[]): Promise<Uint8Array> {
    const input = join(dir, 'message');
    await writeFile(input, message);
    return (await opensslOk(['pkeyutl', '-sign', '-inkey', keyPath, '-in', input, ...options])).stdoutBytes;
  }

  it('reads the SubjectPublicKeyInfo openssl writes (id-ecPublicKey, curve 1.2.156.10197.1.301)', () => {
    expect(decodeSm2SubjectPublicKeyInfo(spki)).toEqual(sm2PublicKeyOf(sm2p256v1, dA));
  });

  it('verifies what openssl signs with the default ID and refuses it altered', async () => {
    for (const message of [ascii(''), ascii('abc'), new Uint8Array(1000).fill(7)]) {
      const signature = await opensslSign(message, ['-rawin', '-digest', 'sm3', '-pkeyopt', `distid:${SM2_DEFAULT_ID}`]);
      expect(verifySm2(spki, message, signature)).toBe(true);
      expect(verifySm2(spki, Uint8Array.from([...message, 0]), signature)).toBe(false);
      expect(verifySm2(spki, message, signature, 'ALICE123@YAHOO.COM')).toBe(false);
      expect(verifySm2(sm2PublicKeyOf(sm2p256v1, dA + 1n), message, signature)).toBe(false);
    }
  });

  it('verifies what openssl signs with another ID only under that ID', async () => {
    const signature = await opensslSign(M, ['-rawin', '-digest', 'sm3', '-pkeyopt', 'distid:ALICE123@YAHOO.COM']);
    expect(verifySm2(spki, M, signature, 'ALICE123@YAHOO.COM')).toBe(true);
    expect(verifySm2(spki, M, signature)).toBe(false);
  });

  it('verifies a signature openssl made over a given e (pkeyutl without -rawin signs its input as e)', async () => {
    const e = sm3(ascii('signed attributes, say'));
    const signature = await opensslSign(e, []);
    expect(verifySm2(spki, { e }, signature)).toBe(true);
    expect(verifySm2(spki, { e: sm3(ascii('other')) }, signature)).toBe(false);
  });

  it('reads the GM/T spelling of the key (algorithm 1.2.156.10197.1.301, parameters absent or NULL)', () => {
    const ec = pkijs.PublicKeyInfo.fromBER(new Uint8Array(spki));
    const signature = encodeSm2Signature(signSm2(sm2p256v1, dA, M));
    for (const algorithmParams of [undefined, new asn1js.Null(), new asn1js.ObjectIdentifier({ value: id_sm2 })]) {
      const gm = new pkijs.PublicKeyInfo({
        algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: id_sm2, ...(algorithmParams ? { algorithmParams } : {}) }),
        subjectPublicKey: ec.subjectPublicKey,
      });
      const der = new Uint8Array(gm.toSchema().toBER());
      expect(decodeSm2SubjectPublicKeyInfo(der)).toEqual(sm2PublicKeyOf(sm2p256v1, dA));
      expect(verifySm2(der, M, signature)).toBe(true);
    }
  });

  it('refuses keys that are not SM2 keys', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
    expect(() => verifySm2(p256, M, new Uint8Array(8))).toThrow(/curve 1\.2\.840\.10045\.3\.1\.7, not sm2p256v1/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' });
    expect(() => verifySm2(rsa, M, new Uint8Array(8))).toThrow(/is not SM2/);
    expect(() => verifySm2(Uint8Array.of(0x30, 0x00), M, new Uint8Array(8))).toThrow();
  });

  it('openssl verifies what the test signer signs, so the fixtures it makes are sound', async () => {
    const signaturePath = join(dir, 'signature');
    const messagePath = join(dir, 'message');
    await writeFile(messagePath, M);
    await writeFile(signaturePath, encodeSm2Signature(signSm2(sm2p256v1, dA, M)));
    const verifyWith = (id: string) =>
      openssl(['pkeyutl', '-verify', '-inkey', keyPath, '-rawin', '-digest', 'sm3', '-pkeyopt', `distid:${id}`, '-in', messagePath, '-sigfile', signaturePath]);
    expect((await verifyWith(SM2_DEFAULT_ID)).stdout).toContain('Signature Verified Successfully');
    expect((await verifyWith('ALICE123@YAHOO.COM')).code).not.toBe(0);
  });

  it('the test signer over e agrees with verification over e', () => {
    const e = sm3(ascii('digest'));
    expect(verifySm2(spki, { e }, signSm2Digest(sm2p256v1, dA, e))).toBe(true);
  });
});
