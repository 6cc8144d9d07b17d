/**
 * An SM2/SM3 CMS (GM/T 0010-2012 / GB/T 35275-2017) in a plain adbe.pkcs7.detached signature field, as Chinese CAs'
 * signing software writes it (issue 19): an incremental update built with seald's own PDF writer (attack-kit.ts),
 * the SignedData over the SM3 of its /ByteRange built by test/crypto/sm2-cms.ts, verified end to end.
 */
import * as fs from 'node:fs';
import * as asn1js from 'asn1js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { id_gmt0010_data, id_gmt0010_signedData } from '../../../src/crypto/oids-gm.ts';
import { sm3 } from '../../../src/crypto/sm3.ts';
import type { SignatureReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { name } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import { buildSm2Cms, makeSm2Pki, type Sm2CmsOptions, type Sm2Pki } from '../../crypto/sm2-cms.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendSignature, signatureContents } from './attack-kit.ts';

describe('SM2/SM3 CMS in an adbe.pkcs7.detached signature', () => {
  let pki: Sm2Pki;
  let base: Buffer;

  beforeAll(async () => {
    pki = await makeSm2Pki();
    base = fs.readFileSync(await fixture('simple'));
  });
  afterAll(() => pki?.close());

  /** A revision with an unsigned adbe.pkcs7.detached placeholder, then the SM2 CMS over its byte ranges. */
  async function sm2Signed(options: Partial<Sm2CmsOptions> = {}, noSignedAttributes = false): Promise<Buffer> {
    const pdf = await appendSignature(base, {
      field: 'SM2Seal',
      entries: { Filter: name('Adobe.PPKLite'), SubFilter: name('adbe.pkcs7.detached') },
    });
    const [b, c] = signatureContents(pdf).gap;
    const digest = sm3(pdf.subarray(0, b), pdf.subarray(c));
    const signedContent = noSignedAttributes ? Buffer.concat([pdf.subarray(0, b), pdf.subarray(c)]) : undefined;
    const cms = buildSm2Cms({ digest, signer: pki.signer, ...(signedContent ? { signedContent } : {}), ...options });
    pdf.write(Buffer.from(cms).toString('hex'), b + 1, 'latin1');
    return pdf;
  }

  async function check(pdf: Uint8Array, anchors: Uint8Array[]): Promise<SignatureReport> {
    const report = await verifyDocument(bufferSource(pdf), { trustAnchors: anchors });
    expect(report.signatures).toHaveLength(1);
    return report.signatures[0]!;
  }

  it('is INTACT and TRUSTED under the SM2 CA, and names the algorithms', async () => {
    const sig = await check(await sm2Signed(), [pki.ca]);
    expect(sig.subFilter).toBe('adbe.pkcs7.detached');
    expect(sig.digestAlgorithm).toBe('SM3');
    expect(sig.signatureAlgorithm).toBe('SM2-with-SM3');
    expect(sig.algorithmFamily).toBe('GM');
    expect(sig.integrity).toBe('INTACT');
    expect(sig.trust).toBe('TRUSTED');
    expect(sig.signer?.subject).toContain('SM2 signer');
    expect(sig.verdict).toBe('VALID');
  });

  it('is INTACT with the GM/T 0010 content types', async () => {
    const sig = await check(await sm2Signed({ signedDataType: id_gmt0010_signedData, dataType: id_gmt0010_data }), [pki.ca]);
    expect(sig.integrity).toBe('INTACT');
    expect(sig.trust).toBe('TRUSTED');
  });

  it('is INTACT without signed attributes (the signature over the byte ranges themselves), BAD_SIGNATURE once changed', async () => {
    const pdf = await sm2Signed({}, true);
    const sig = await check(pdf, [pki.ca]);
    expect(sig.integrity).toBe('INTACT');
    expect(sig.trust).toBe('TRUSTED');
    pdf.write('/MediaBoy', pdf.indexOf('/MediaBox'), 'latin1');
    expect((await check(pdf, [pki.ca])).integrity).toBe('BAD_SIGNATURE');
  });

  it('is UNTRUSTED without the SM2 CA, or under an impostor CA of the same name', async () => {
    const pdf = await sm2Signed();
    for (const anchors of [[], [pki.otherCa]]) {
      const sig = await check(pdf, anchors);
      expect(sig.integrity).toBe('INTACT');
      expect(sig.trust).toBe('UNTRUSTED');
      expect(sig.verdict).not.toBe('VALID');
    }
  });

  it('reports a changed signed byte as DIGEST_MISMATCH', async () => {
    const pdf = await sm2Signed();
    const at = pdf.indexOf('/MediaBox');
    pdf.write('/MediaBoy', at, 'latin1'); // inside the first range: the signed revision's bytes
    const sig = await check(pdf, [pki.ca]);
    expect(sig.integrity).toBe('DIGEST_MISMATCH');
    expect(sig.verdict).toBe('INVALID');
  });

  it('reports a signature by another key as BAD_SIGNATURE', async () => {
    const sig = await check(await sm2Signed({ signer: { certificate: pki.signer.certificate, privateKey: pki.other.privateKey } }), [pki.ca]);
    expect(sig.integrity).toBe('BAD_SIGNATURE');
    expect(sig.verdict).toBe('INVALID');
  });

  it("reports a CMS that carries another certificate than the signer's as SIGNER_CERT_MISMATCH", async () => {
    const sig = await check(await sm2Signed({ certificates: [pki.other.certificate] }), [pki.ca]);
    expect(sig.integrity).toBe('SIGNER_CERT_MISMATCH');
  });
});

/**
 * The start of an SES_Signature as GB/T 38540-2020 lays it out (TBS_Sign v4 → SESeal → SES_SealInfo → SES_Header
 * "ES"), with placeholders after the header: enough for the verifier to recognise it, not to read it. Whole seals,
 * verified, are in gm-seal.test.ts (generated by test/crypto/ses/ses-builder.ts).
 */
function sesSignatureStub(): Buffer {
  const header = new asn1js.Sequence({ value: [new asn1js.IA5String({ value: 'ES' }), new asn1js.Integer({ value: 4 }), new asn1js.IA5String({ value: 'seald test' })] });
  const sealInfo = new asn1js.Sequence({ value: [header, new asn1js.IA5String({ value: 'seal-0001' })] });
  const eseal = new asn1js.Sequence({ value: [sealInfo, new asn1js.Sequence({ value: [] })] });
  const toSign = new asn1js.Sequence({
    value: [new asn1js.Integer({ value: 4 }), eseal, new asn1js.GeneralizedTime({ valueDate: new Date() }),
      new asn1js.BitString({ valueHex: new Uint8Array(32) }), new asn1js.IA5String({ value: 'property' })],
  });
  return Buffer.from(new asn1js.Sequence({
    value: [toSign, new asn1js.OctetString({ valueHex: new Uint8Array(8) }), new asn1js.ObjectIdentifier({ value: '1.2.156.10197.1.501' }),
      new asn1js.BitString({ valueHex: new Uint8Array(64) })],
  }).toBER());
}

describe('signature carriers and structures seald cannot read', () => {
  let base: Buffer;
  beforeAll(async () => {
    base = fs.readFileSync(await fixture('simple'));
  });

  async function carried(entries: Record<string, ReturnType<typeof name>>, contents: Buffer): Promise<SignatureReport> {
    const pdf = await appendSignature(base, { field: 'Seal', entries, contentsHex: contents.toString('hex') });
    const report = await verifyDocument(bufferSource(pdf), { trustAnchors: [] });
    return report.signatures[0]!;
  }

  it('reports a /Foxit.SM /fxit.sm.detached seal it cannot read as UNSUPPORTED, naming the carrier', async () => {
    const sig = await carried({ Filter: name('Foxit.SM'), SubFilter: name('fxit.sm.detached') }, sesSignatureStub());
    expect(sig.integrity).toBe('UNSUPPORTED');
    expect(sig.reasons.join(' ')).toContain('/SubFilter /fxit.sm.detached');
    expect(sig.reasons.join(' ')).toContain('GB/T 38540');
    expect(sig.reasons.join(' ')).toContain('cannot read');
    expect(sig.verdict).toBe('INDETERMINATE');
  });

  it('reports any other unknown SubFilter as UNSUPPORTED, not BAD_CMS; a Foxit.SM carrier of something else too', async () => {
    const sig = await carried({ Filter: name('Vendor.X'), SubFilter: name('vendor.x.detached') }, Buffer.from('3003020101', 'hex'));
    expect(sig.integrity).toBe('UNSUPPORTED');
    expect(sig.reasons.join(' ')).toContain('not a signature format seald verifies');
    const foxit = await carried({ Filter: name('Foxit.SM'), SubFilter: name('fxit.sm.detached') }, Buffer.from('3003020101', 'hex'));
    expect(foxit.integrity).toBe('UNSUPPORTED');
    expect(foxit.reasons.join(' ')).toContain('/Filter /Foxit.SM /SubFilter /fxit.sm.detached');
  });

  it('reports an unreadable SES_Signature in place of a CMS under adbe.pkcs7.detached as UNSUPPORTED', async () => {
    const sig = await carried({ SubFilter: name('adbe.pkcs7.detached') }, sesSignatureStub());
    expect(sig.integrity).toBe('UNSUPPORTED');
    expect(sig.reasons.join(' ')).toContain('SES_Signature');
  });

  it('still reports a malformed CMS under adbe.pkcs7.detached as BAD_CMS', async () => {
    const sig = await carried({ SubFilter: name('adbe.pkcs7.detached') }, Buffer.from('3003020101', 'hex'));
    expect(sig.integrity).toBe('BAD_CMS');
  });
});
