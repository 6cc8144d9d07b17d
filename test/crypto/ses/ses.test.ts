/**
 * GB/T 38540-2020 and GM/T 0031-2014 seal signatures read and checked by src/crypto/ses, on structures built by
 * ses-builder.ts with SM2 keys and certificates from the openssl CLI; the SM2 signatures are cross-checked with
 * `openssl dgst -sm3` both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSesSignature } from '../../../src/crypto/ses/ses-signature.ts';
import { checkSesSignature, sealListsSigner, sealValidityAt } from '../../../src/crypto/ses/ses-verify.ts';
import { isSesSignature } from '../../../src/crypto/signed-data.ts';
import { sm3 } from '../../../src/crypto/sm3.ts';
import { makeSm2Pki, type Sm2Pki } from '../sm2-cms.ts';
import { buildSeal, buildSesSignature, opensslVerifies, type Layout } from './ses-builder.ts';

describe('GB/T 38540 / GM/T 0031 seal signatures', () => {
  let pki: Sm2Pki;
  const document = new TextEncoder().encode('the signed bytes of a document');
  const dataHash = sm3(document);

  beforeAll(async () => {
    pki = await makeSm2Pki();
  });
  afterAll(() => pki?.close());

  async function sealed(layout: Layout, options: { openssl?: boolean; certDigests?: boolean; certList?: Uint8Array[] } = {}) {
    const seal = await buildSeal({ layout, maker: pki.other, certList: options.certList ?? [pki.signer.certificate], certDigests: options.certDigests, openssl: options.openssl, name: '合同专用章', esID: 'SEAL-0001' });
    const signature = await buildSesSignature({ layout, seal: seal.der, signer: pki.signer, dataHash, openssl: options.openssl, timeInfo: new Date('2026-06-01T08:00:00Z') });
    return { seal, signature };
  }

  for (const layout of ['v4', 'v1'] as const) {
    it(`reads a ${layout} seal signature: name, code, picture, certificates, times`, async () => {
      const { signature } = await sealed(layout);
      expect(isSesSignature(signature.der)).toBe(true);
      const ses = parseSesSignature(signature.der);
      expect(ses.layout).toBe(layout === 'v4' ? 'GB/T 38540-2020' : 'GM/T 0031-2014');
      expect(ses.seal.name).toBe('合同专用章');
      expect(ses.seal.esID).toBe('SEAL-0001');
      expect(ses.seal.picture.type).toBe('PNG');
      expect(Buffer.from(ses.seal.picture.data).subarray(1, 4).toString()).toBe('PNG');
      expect(ses.seal.picture.width).toBe(40);
      expect(ses.seal.certList).toHaveLength(1);
      expect(Buffer.from(ses.signerCertificate).equals(Buffer.from(pki.signer.certificate))).toBe(true);
      expect(Buffer.from(ses.seal.makerCertificate).equals(Buffer.from(pki.other.certificate))).toBe(true);
      expect(ses.timeInfo?.toISOString()).toBe('2026-06-01T08:00:00.000Z');
      expect(ses.seal.validEnd!.getTime()).toBeGreaterThan(Date.now());
      expect(checkSesSignature(ses, dataHash)).toEqual({ integrity: 'INTACT', sealSignature: 'VALID' });
    });

    it(`${layout}: accepts signatures made by openssl, and openssl accepts seald's generator's`, async () => {
      const byOpenssl = await sealed(layout, { openssl: true });
      expect(checkSesSignature(parseSesSignature(byOpenssl.signature.der), dataHash).integrity).toBe('INTACT');
      const byNoble = await sealed(layout);
      expect(await opensslVerifies(pki.signer.certificateFile!, byNoble.signature.tbsSign, byNoble.signature.signature)).toBe(true);
      expect(await opensslVerifies(pki.other.certificateFile!, byNoble.seal.signed, byNoble.seal.signature)).toBe(true);
      // and openssl says no to the wrong key
      expect(await opensslVerifies(pki.other.certificateFile!, byNoble.signature.tbsSign, byNoble.signature.signature)).toBe(false);
    });

    it(`${layout}: a changed document hash is DIGEST_MISMATCH`, async () => {
      const { signature } = await sealed(layout);
      const other = sm3(new TextEncoder().encode('other bytes'));
      expect(checkSesSignature(parseSesSignature(signature.der), other).integrity).toBe('DIGEST_MISMATCH');
    });

    it(`${layout}: a changed seal (its name) breaks the maker's signature; a changed signature value the signer's`, async () => {
      const { signature } = await sealed(layout);
      const der = Buffer.from(signature.der);
      // Change the seal's name: the signer's signature covers TBS_Sign, so re-sign it to isolate the seal check.
      const name = Buffer.from('合同专用章');
      const at = der.indexOf(name);
      const renamed = Buffer.from(der);
      renamed.write('财务', at, 'utf8');
      const ses = parseSesSignature(renamed);
      expect(ses.seal.name).toBe('财务专用章');
      expect(checkSesSignature(ses, dataHash).sealSignature).toBe('INVALID');
      expect(checkSesSignature(ses, dataHash).integrity).toBe('BAD_SIGNATURE');

      const broken = parseSesSignature(der);
      const value = Uint8Array.from(broken.signature);
      value[value.length - 3]! ^= 1;
      expect(checkSesSignature({ ...broken, signature: value }, dataHash).integrity).toBe('BAD_SIGNATURE');
    });

    it(`${layout}: a signer the seal does not list is SIGNER_CERT_MISMATCH`, async () => {
      const { signature } = await sealed(layout, { certList: [pki.other.certificate] });
      const checked = checkSesSignature(parseSesSignature(signature.der), dataHash);
      expect(checked.integrity).toBe('SIGNER_CERT_MISMATCH');
      expect(checked.reason).toContain('not entitled');
    });
  }

  it('v4 certListType 2: the signer found by the SM3 digest of their certificate', async () => {
    const { signature } = await sealed('v4', { certDigests: true });
    const ses = parseSesSignature(signature.der);
    expect(ses.seal.certListType).toBe(2);
    expect(ses.seal.certDigests).toHaveLength(1);
    expect(sealListsSigner(ses.seal, pki.signer.certificate)).toBe(true);
    expect(sealListsSigner(ses.seal, pki.other.certificate)).toBe(false);
    expect(checkSesSignature(ses, dataHash).integrity).toBe('INTACT');
  });

  it('the validity period of a seal', async () => {
    const seal = await buildSeal({ maker: pki.other, validStart: new Date('2025-01-01T00:00:00Z'), validEnd: new Date('2025-12-31T00:00:00Z') });
    const ses = parseSesSignature((await buildSesSignature({ seal: seal.der, signer: pki.signer, dataHash })).der);
    expect(sealValidityAt(ses.seal, new Date('2025-06-01T00:00:00Z'))).toBe('VALID');
    expect(sealValidityAt(ses.seal, new Date('2026-06-01T00:00:00Z'))).toBe('EXPIRED');
    expect(sealValidityAt(ses.seal, new Date('2024-06-01T00:00:00Z'))).toBe('NOT_YET_VALID');
  });

  it('refuses what is not an SES_Signature with a DerError, and does not take a CMS for one', async () => {
    expect(() => parseSesSignature(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01))).toThrow();
    expect(isSesSignature(Uint8Array.of(0x30, 0x03, 0x06, 0x01, 0x01))).toBe(false);
  });

  it('reads the class of public seals scored by bench/score-gm.ts: header version 5 in the v4 layout, type 3 (ofdrw, BouncyCastle)', async () => {
    const seal = await buildSeal({ maker: pki.other, headerVersion: 5, type: 3, certList: [pki.signer.certificate] });
    const ses = parseSesSignature((await buildSesSignature({ seal: seal.der, signer: pki.signer, dataHash, propertyInfo: '/Doc_0/Signs/Sign_0/Signature.xml' })).der);
    expect(ses.layout).toBe('GB/T 38540-2020');
    expect(ses.seal.version).toBe(5);
    expect(ses.seal.type).toBe(3);
    expect(checkSesSignature(ses, dataHash)).toEqual({ integrity: 'INTACT', sealSignature: 'VALID' });
  });
});
