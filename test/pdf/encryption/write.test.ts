/**
 * Writing into encrypted documents: the incremental writer encrypts the new revision's strings and streams with the
 * document's key (per-object RC4 or AES keys for R2–R4, the file key for R5–R6), keeps /Encrypt and the first /ID,
 * and leaves a signature's /Contents in the clear. qpdf decrypts the result independently; a full seal through
 * engine.sealDocument and its output check (a software RSA key, openssl-made certificates) is verified by poppler's pdfsig.
 */
import { createPrivateKey, privateEncrypt, constants, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument } from '../../../src/pdf/document.ts';
import { IncrementalWriter } from '../../../src/pdf/incremental.ts';
import { PdfStream, PdfString, dict, name } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import { embedCms, prepareSignature } from '../../../src/pdf/signature.ts';
import type { SealImage } from '../../../src/pdf/image.ts';
import type { SealMaterial } from '../../../src/engine/seal.ts';
import { checkedSealDocument } from '../../../src/engine/output-check.ts';
import type { Signer } from '../../../src/crypto/signer.ts';
import { SealdError } from '../../../src/errors.ts';
import { fixture } from '../../fixtures/index.ts';
import { createTestPki, type TestPki } from '../../support/pki.ts';
import { pdfsig, qpdfCheck } from '../../support/tools.ts';
import { OWNER, USER, VARIANTS, encryptWith, qpdfView, variantFile } from './variants.ts';

const dir = await mkdtemp(join(tmpdir(), 'seald-crypt-write-'));
const TEXT = 'Grüße 封印 probe';
const STREAM = Buffer.from('BT /F1 12 Tf 72 72 Td (seald probe stream) Tj ET\n', 'latin1');

const image: SealImage = {
  width: 2,
  height: 2,
  rgb: deflateSync(Buffer.from([255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0])),
  alpha: deflateSync(Buffer.from([255, 0, 0, 255])),
};

describe.each(VARIANTS)('$name: an incremental update', (v) => {
  it('is encrypted with the document key: qpdf decrypts the new objects to what was written', async () => {
    const source = await readFile(await variantFile(v));
    const doc = PdfDocument.open(bufferSource(source), { password: v.user });
    const w = new IncrementalWriter(doc);
    const binary = randomBytes(24);
    const stream = w.add(new PdfStream(dict({ Type: name('SealdProbeStream') }), STREAM));
    const probe = w.add(dict({ Type: name('SealdProbe'), Text: PdfString.text(TEXT), Binary: new PdfString(binary, true), Data: stream, Nested: [dict({ Deep: new PdfString(Buffer.from('deep string')) })] }));
    w.update(doc.catalogRef, doc.catalog.clone().set('SealdProbe', probe));
    const out = Buffer.concat([source, w.write().bytes]);
    const file = join(dir, `${v.name}-probe.pdf`);
    await writeFile(file, out);

    // Nothing written in the clear; the update's trailer keeps /Encrypt and the first /ID (the key depends on it).
    const update = out.subarray(source.length).toString('latin1');
    expect(update).not.toContain('seald probe stream');
    expect(update).not.toContain('deep string');
    expect(update).not.toContain(binary.toString('hex'));
    expect(update).toMatch(/\/Encrypt \d+ 0 R/);

    expect(await qpdfCheck(file, { password: v.user })).toMatchObject({ ok: true });
    const view = await qpdfView(file, v.user);
    expect(view.encrypt.userpasswordmatched).toBe(true);
    const p = view.objects.get(`${probe.num} 0`)!.value as Record<string, unknown>;
    expect(p['/Text']).toBe(`u:${TEXT}`);
    expect(p['/Binary']).toBe(`b:${binary.toString('hex')}`);
    expect(p['/Nested']).toEqual([{ '/Deep': 'u:deep string' }]);
    expect(Buffer.from(view.objects.get(`${stream.num} 0`)!.stream!.data, 'base64')).toEqual(STREAM);
    const catalog = view.objects.get(`${doc.catalogRef.num} ${doc.catalogRef.gen}`)!.value as Record<string, unknown>;
    expect(catalog['/SealdProbe']).toBe(`${probe.num} 0 R`);
    const info = view.objects.get(`${(doc.trailer.get('Info') as { num: number }).num} 0`)!.value as Record<string, unknown>;
    expect(info['/Title']).toBe('u:seald simple fixture');

    // And seald reads back what it wrote, with the owner password too.
    const again = PdfDocument.open(bufferSource(out), { password: OWNER });
    expect((again.resolveDict(again.catalog.get('SealdProbe'))!.get('Text') as PdfString).asText()).toBe(TEXT);
  });

  it('leaves the signature /Contents in the clear, so the CMS reads the same with or without the key', async () => {
    const source = await readFile(await variantFile(v));
    const doc = PdfDocument.open(bufferSource(source), { password: v.user });
    const page = doc.page(1);
    const prepared = prepareSignature(doc, {
      fieldName: 'Crypt1', signingTime: new Date('2026-01-02T03:04:05Z'), contentsSize: 64, image, reason: 'encrypted reason',
      mark: { page, rect: [100, 100, 150, 150] },
    }); // prettier-ignore
    const cms = Buffer.from('3003020101', 'hex');
    embedCms(prepared, cms);
    const out = Buffer.concat([source, prepared.bytes]);
    const [, start, end] = prepared.byteRange;
    expect(out.subarray(start, end).toString('latin1')).toBe(`<${cms.toString('hex').padEnd(128, '0')}>`);
    expect(out.subarray(source.length).toString('latin1')).not.toContain('encrypted reason');
    const file = join(dir, `${v.name}-sig.pdf`);
    await writeFile(file, out);
    expect(await qpdfCheck(file, { password: v.user })).toMatchObject({ ok: true });
    const sig = [...(await qpdfView(file, v.user)).objects.values()].find((o) => (o.value as Record<string, unknown> | undefined)?.['/Type'] === '/Sig');
    expect((sig!.value as Record<string, unknown>)['/Reason']).toBe('u:encrypted reason');
  });
});

describe('sealing encrypted documents end to end (engine.sealDocument with its output check)', () => {
  let pki: TestPki;
  let material: SealMaterial;

  beforeAll(async () => {
    pki = await createTestPki(join(dir, 'pki'), { caName: 'Crypt Test CA', signerName: 'Crypt Test Seal' });
    const der = (pem: string) => new X509Certificate(pem).raw;
    const key = createPrivateKey(await readFile(pki.signerKeyPem));
    // RSASSA-PKCS1-v1_5 over a given SHA-256 digest: the DigestInfo (RFC 8017 §9.2) encrypted with the private key.
    const digestInfo = Buffer.from('3031300d060960864801650304020105000420', 'hex');
    const signer: Signer = {
      certificates: [der(await readFile(pki.signerCertPem, 'utf8')), der(await readFile(pki.caCertPem, 'utf8'))],
      algorithm: 'RSASSA-PKCS1-v1_5',
      signDigest: async (digest) => privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([digestInfo, digest])),
    };
    material = { id: 'crypt', signer, image, defaultWidth: 100, defaultHeight: 100 };
  }, 60_000);

  const seal = async (file: string, password: string | undefined, out: string) => {
    const source = await readFile(file);
    // The server's path: the output check re-reads the sealed document, with the key the original was opened with.
    const outcome = await checkedSealDocument(bufferSource(source), material, { page: 1, x: 200, y: 300 }, password === undefined ? {} : { password });
    const path = join(dir, out);
    await writeFile(path, Buffer.concat([source, outcome.appended]));
    return path;
  };

  for (const name of ['r6-aes-256', 'r4-aes-128', 'r2-rc4-40', 'r6-aes-256-object-streams']) {
    it(`${name}: pdfsig finds the seal valid, given the user password`, async () => {
      const v = VARIANTS.find((x) => x.name === name)!;
      const sealed = await seal(await variantFile(v), USER, `${name}-sealed.pdf`);
      expect(await qpdfCheck(sealed, { password: USER })).toMatchObject({ ok: true });
      const report = await pdfsig(sealed, { userPassword: USER, trustCaPems: [pki.caCertPem] });
      expect(report.signatures).toHaveLength(1);
      expect(report.signatures[0]).toMatchObject({ signatureValid: true, coversWholeDocument: true, fieldName: 'Seal1' });
      // A second seal on top: the first one still verifies (the second revision never touches the first).
      const twice = await seal(sealed, OWNER, `${name}-sealed-twice.pdf`);
      const both = await pdfsig(twice, { userPassword: USER, trustCaPems: [pki.caCertPem] });
      expect(both.signatures.map((s) => s.signatureValid)).toEqual([true, true]);
      expect(both.signatures.map((s) => s.fieldName)).toEqual(['Seal1', 'Seal2']);
    });
  }

  it('an empty user password needs no password from the caller', async () => {
    const sealed = await seal(await variantFile(VARIANTS.find((x) => x.name === 'r6-empty-user')!), undefined, 'empty-user-sealed.pdf');
    const report = await pdfsig(sealed, { trustCaPems: [pki.caCertPem] });
    expect(report.signatures[0]?.signatureValid).toBe(true);
  });

  it('refuses a document whose permissions forbid signing, naming the permission, unless the owner password is given', async () => {
    const file = await encryptWith(await fixture('simple'), 'no-sign.pdf', ['', OWNER, '256', '--annotate=n', '--form=n', '--modify=none']);
    let error: unknown;
    try {
      await seal(file, undefined, 'no-sign-sealed.pdf');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SealdError);
    expect(error).toMatchObject({ code: 'PDF_PERMISSION_DENIED', category: 'precondition' });
    expect((error as Error).message).toMatch(/fill in form fields.*bit 9.*annotations.*bit 6.*owner password/);

    const sealed = await seal(file, OWNER, 'no-sign-owner-sealed.pdf');
    expect((await pdfsig(sealed, { trustCaPems: [pki.caCertPem] })).signatures[0]?.signatureValid).toBe(true);
  });

  it('allows signing with "fill in forms" (bit 9) alone', async () => {
    const file = await encryptWith(await fixture('simple'), 'forms-only.pdf', ['', OWNER, '256', '--annotate=n', '--form=y', '--modify=form']);
    const sealed = await seal(file, undefined, 'forms-only-sealed.pdf');
    expect((await pdfsig(sealed, { trustCaPems: [pki.caCertPem] })).signatures[0]?.signatureValid).toBe(true);
  });
});
