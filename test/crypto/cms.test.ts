import { createHash, randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPadesCms, maxPadesCmsSize } from '../../src/crypto/cms.ts';
import { signedAttributesDer } from '../../src/crypto/signed-attributes.ts';
import { SealdError } from '../../src/errors.ts';
import { openssl, opensslOk } from './openssl.ts';
import { createSoftwareFixture, type SoftwareFixture, type SoftwareKeyType } from './software-signer.ts';

const TYPES: SoftwareKeyType[] = ['RSA-2048', 'EC-P256'];

describe.each(TYPES)('createPadesCms with %s', (type) => {
  let fx: SoftwareFixture;
  let data: Buffer;
  let dataPath: string;
  let cms: Uint8Array;
  let cmsPath: string;

  beforeAll(async () => {
    fx = await createSoftwareFixture(type);
    data = randomBytes(20_000);
    dataPath = join(fx.dir, 'data.bin');
    await writeFile(dataPath, data);
    cms = await createPadesCms({ signer: fx.signer, documentDigest: createHash('sha256').update(data).digest() });
    cmsPath = join(fx.dir, 'sig.der');
    await writeFile(cmsPath, cms);
  });

  afterAll(() => rm(fx.dir, { recursive: true, force: true }));

  it('verifies with openssl cms over the detached data', async () => {
    const result = await openssl([
      'cms', '-verify', '-binary', '-inform', 'DER', '-in', cmsPath, '-content', dataPath,
      '-CAfile', fx.caPemPath, '-purpose', 'any', '-out', join(fx.dir, 'out.bin'),
    ]);
    expect(result.stderr).toContain('Verification successful');
    expect(result.code).toBe(0);
  });

  it('does not verify over other data', async () => {
    const other = Buffer.from(data);
    other[100]! ^= 1;
    const otherPath = join(fx.dir, 'other.bin');
    await writeFile(otherPath, other);
    const result = await openssl([
      'cms', '-verify', '-binary', '-inform', 'DER', '-in', cmsPath, '-content', otherPath,
      '-CAfile', fx.caPemPath, '-purpose', 'any', '-out', join(fx.dir, 'out2.bin'),
    ]);
    expect(result.code).not.toBe(0);
  });

  it('has exactly the PAdES B-B structure and signed attributes', async () => {
    const { stdout } = await opensslOk(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', cmsPath]);
    expect(stdout).toContain('contentType: pkcs7-signedData');
    expect(stdout).toMatch(/signedData:\s*\n\s*version: 1/);
    expect(stdout).toContain('eContentType: pkcs7-data');
    expect(stdout).toContain('eContent: <ABSENT>');
    expect(stdout).toMatch(/digestAlgorithms:\s*\n\s*algorithm: sha256 \(2\.16\.840\.1\.101\.3\.4\.2\.1\)\s*\n\s*parameter: <ABSENT>/);
    expect(stdout).toContain('d.issuerAndSerialNumber');
    const attrObjects = [...stdout.matchAll(/^\s*object: (\S+) \(([\d.]+)\)/gm)].map((m) => m[2]);
    expect(attrObjects.sort()).toEqual(['1.2.840.113549.1.9.16.2.47', '1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4']);
    expect(stdout).not.toContain('signingTime');
    expect(stdout).toMatch(/unsignedAttrs:\s*\n\s*<ABSENT>/);
    if (type === 'RSA-2048') {
      expect(stdout).toMatch(/signatureAlgorithm:\s*\n\s*algorithm: sha256WithRSAEncryption \(1\.2\.840\.113549\.1\.1\.11\)\s*\n\s*parameter: NULL/);
    } else {
      expect(stdout).toMatch(/signatureAlgorithm:\s*\n\s*algorithm: ecdsa-with-SHA256 \(1\.2\.840\.10045\.4\.3\.2\)\s*\n\s*parameter: <ABSENT>/);
    }
  });

  it('splices signed attributes identical to what pkijs encodes, in DER SET OF order, for any digest', () => {
    for (const digest of [new Uint8Array(32), new Uint8Array(32).fill(0xff), randomBytes(32)]) {
      const signerDer = fx.signer.certificates[0]!;
      const cert = pkijs.Certificate.fromBER(new Uint8Array(signerDer));
      const attributes = [
        new pkijs.Attribute({ type: '1.2.840.113549.1.9.3', values: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.7.1' })] }),
        new pkijs.Attribute({ type: '1.2.840.113549.1.9.4', values: [new asn1js.OctetString({ valueHex: digest })] }),
        new pkijs.Attribute({
          type: '1.2.840.113549.1.9.16.2.47',
          values: [
            new asn1js.Sequence({
              value: [
                new asn1js.Sequence({
                  value: [
                    new asn1js.Sequence({
                      value: [
                        new asn1js.OctetString({ valueHex: createHash('sha256').update(signerDer).digest() }),
                        new pkijs.IssuerSerial({
                          issuer: new pkijs.GeneralNames({ names: [new pkijs.GeneralName({ type: 4, value: cert.issuer })] }),
                          serialNumber: cert.serialNumber,
                        }).toSchema(),
                      ],
                    }),
                  ],
                }),
              ],
            }),
          ],
        }),
      ];
      const ders = attributes.map((a) => Buffer.from(a.toSchema().toBER())).sort(Buffer.compare);
      const expected = Buffer.from(new asn1js.Set({ value: ders.map((d) => asn1js.fromBER(new Uint8Array(d).buffer).result) }).toBER());
      expect(Buffer.from(signedAttributesDer(signerDer, digest)).equals(expected)).toBe(true);
    }
  });

  it('embeds the certificates byte for byte, signer first', () => {
    const hay = Buffer.from(cms);
    const positions = fx.signer.certificates.map((der) => hay.indexOf(Buffer.from(der)));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect(positions[0]).toBeLessThan(positions[1]!);
  });

  it('has a DER signing-certificate-v2 with the SHA-256 of the signer certificate and its issuerSerial', () => {
    const info = pkijs.ContentInfo.fromBER(new Uint8Array(cms));
    const signedData = new pkijs.SignedData({ schema: info.content });
    const signerInfo = signedData.signerInfos[0]!;
    const attrs = signerInfo.signedAttrs!.attributes;
    // DER SET OF order (X.690 §11.6) — content-type, message-digest, signing-certificate-v2 for these lengths.
    expect(attrs.map((a) => a.type)).toEqual(['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.16.2.47']);
    const digest = attrs[1]!.values[0] as asn1js.OctetString;
    expect(Buffer.from(digest.valueBlock.valueHexView).equals(createHash('sha256').update(data).digest())).toBe(true);
    const scv2 = attrs[2]!.values[0] as asn1js.Sequence;
    const certs = scv2.valueBlock.value[0] as asn1js.Sequence;
    expect(certs.valueBlock.value).toHaveLength(1);
    const essCertIdV2 = certs.valueBlock.value[0] as asn1js.Sequence;
    const [first, second] = essCertIdV2.valueBlock.value;
    // hashAlgorithm is SHA-256 = its DEFAULT, so absent in DER: the first element is the certHash OCTET STRING.
    expect(first).toBeInstanceOf(asn1js.OctetString);
    const certHash = Buffer.from((first as asn1js.OctetString).valueBlock.valueHexView);
    expect(certHash.equals(createHash('sha256').update(fx.signer.certificates[0]!).digest())).toBe(true);
    const issuerSerial = new pkijs.IssuerSerial({ schema: second });
    const signerCert = pkijs.Certificate.fromBER(new Uint8Array(fx.signer.certificates[0]!));
    expect(issuerSerial.serialNumber.isEqual(signerCert.serialNumber)).toBe(true);
    expect(issuerSerial.issuer.names[0]!.type).toBe(4);
    expect((issuerSerial.issuer.names[0]!.value as pkijs.RelativeDistinguishedNames).isEqual(signerCert.issuer)).toBe(true);
  });

  it('maxPadesCmsSize is an upper bound within 16 bytes', async () => {
    const max = maxPadesCmsSize(fx.signer);
    const sizes: number[] = [cms.length];
    for (let i = 0; i < 24; i++) {
      const digest = randomBytes(32);
      sizes.push((await createPadesCms({ signer: fx.signer, documentDigest: digest })).length);
    }
    for (const size of sizes) {
      expect(size).toBeLessThanOrEqual(max);
      expect(max - size).toBeLessThanOrEqual(16);
    }
    if (type === 'RSA-2048') expect(new Set(sizes)).toEqual(new Set([max]));
    console.log(`${type}: maxPadesCmsSize=${max}, actual sizes ${Math.min(...sizes)}..${Math.max(...sizes)}`);
  });

  it('rejects with cancelled when the signal is already aborted, without signing', async () => {
    const before = fx.signs();
    const controller = new AbortController();
    controller.abort();
    const err = await createPadesCms({ signer: fx.signer, documentDigest: randomBytes(32), signal: controller.signal }).catch((e) => e);
    expect(err).toBeInstanceOf(SealdError);
    expect((err as SealdError).category).toBe('cancelled');
    expect(fx.signs()).toBe(before);
  });

  it('rejects a digest that is not 32 bytes', async () => {
    const err = await createPadesCms({ signer: fx.signer, documentDigest: randomBytes(20) }).catch((e) => e);
    expect(err).toMatchObject({ category: 'invalid-input', code: 'BAD_DIGEST_LENGTH' });
  });
});

describe('createPadesCms input checks', () => {
  it('refuses a signer whose algorithm does not match its certificate', async () => {
    const fx = await createSoftwareFixture('EC-P256');
    const liar = { ...fx.signer, algorithm: 'RSASSA-PKCS1-v1_5' as const };
    const err = await createPadesCms({ signer: liar, documentDigest: randomBytes(32) }).catch((e) => e);
    expect(err).toMatchObject({ category: 'invalid-input', code: 'KEY_ALGORITHM_MISMATCH' });
    await rm(fx.dir, { recursive: true, force: true });
  });
});
