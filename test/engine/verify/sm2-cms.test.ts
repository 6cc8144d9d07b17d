/**
 * An SM2/SM3 CMS (GM/T 0010-2012 / GB/T 35275-2017) in a plain adbe.pkcs7.detached signature field, as Chinese CAs'
 * signing software writes it (issue 19): an incremental update built with seald's own PDF writer (attack-kit.ts),
 * the SignedData over the SM3 of its /ByteRange built by test/crypto/sm2-cms.ts, verified end to end.
 */
import * as fs from 'node:fs';
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
