/**
 * A GB/T 38540 electronic seal in the reports: the HTML page shows the seal's own image (the PNG inside the seal, as a
 * data: URI), name, code, type, validity and maker in zh and en, escapes what the seal says, and does not show an
 * image it cannot sniff as PNG/JPEG/GIF; Chromium decodes the seal's image (64 px wide); the Verify RPC's
 * SignatureVerification carries the same as ElectronicSeal.
 */
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyDocument } from '../../src/engine/verify/verify.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { htmlReport } from '../../src/report/document-report.ts';
import { verifyResponse } from '../../src/server/verify-handler.ts';
import { sealPicture } from '../crypto/ses/ses-builder.ts';
import { makeSm2Pki, type Sm2Pki } from '../crypto/sm2-cms.ts';
import { gmSealed } from '../engine/verify/gm-seal-kit.ts';
import { probe } from './chromium.ts';
import { fixture } from '../fixtures/index.ts';

describe('an electronic seal in the reports', () => {
  let pki: Sm2Pki;
  let base: Buffer;
  beforeAll(async () => {
    pki = await makeSm2Pki();
    base = fs.readFileSync(await fixture('simple'));
  });
  afterAll(() => pki?.close());

  it('the HTML page shows the seal image, name, code, type and validity (zh and en)', async () => {
    const pdf = await gmSealed(base, pki);
    const report = await verifyDocument(bufferSource(pdf), { trustAnchors: [pki.ca] });
    const zh = await htmlReport(bufferSource(pdf), report, { language: 'zh', documentName: 'contract.pdf' });
    expect(zh).toContain(`src="data:image/png;base64,${Buffer.from(sealPicture()).toString('base64')}"`);
    expect(zh).toContain('合同专用章');
    expect(zh).toContain('<code>3201000012345</code>');
    expect(zh).toContain('法人章');
    expect(zh).toContain('签章时在有效期内');
    expect(zh).toContain('制章人对印章的签名有效');
    expect(zh).toContain('算法 (国密)'); // the algorithm family (issue 19)
    const en = await htmlReport(bufferSource(pdf), report, { language: 'en', documentName: 'contract.pdf' });
    expect(en).toContain('Electronic seal (GB/T 38540)');
    expect(en).toContain('organisation seal');
    expect(en).toContain('valid when used');
    expect(en).toContain('Algorithms (Chinese national (国密 SM2/SM3))');
    // A person's browser: the seal image decodes (the page's appearance is a plain rectangle, the seal's own is a PNG).
    const dir = mkdtempSync(join(tmpdir(), 'seald-gm-report-'));
    try {
      const seen = await probe(zh, dir, 'gm-seal');
      expect(seen.images.some((i) => i.complete && i.naturalWidth === 64 && i.naturalHeight === 64)).toBe(true);
      expect(seen.text).toContain('合同专用章');
      expect(seen.text).toContain('3201000012345');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('escapes what the seal says and does not show an image that is not PNG, JPEG or GIF', async () => {
    const pdf = await gmSealed(base, pki, {
      seal: { name: '<img src=x onerror=alert(1)>', esID: '"><script>x</script>', picture: { type: 'OFD', data: Buffer.from('PK\u0003\u0004 an OFD'), width: 40, height: 40 } },
    });
    const report = await verifyDocument(bufferSource(pdf), { trustAnchors: [pki.ca] });
    expect(report.signatures[0]!.integrity).toBe('INTACT');
    const page = await htmlReport(bufferSource(pdf), report, { language: 'en', documentName: 'contract.pdf' });
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<script>x');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('The seal&#39;s image is of type OFD, which this report cannot show.');
  });

  it('the Verify response carries the seal as ElectronicSeal', async () => {
    const pdf = await gmSealed(base, pki);
    const response = verifyResponse(await verifyDocument(bufferSource(pdf), { trustAnchors: [pki.ca] }));
    const seal = response.signatures[0]!.seal!;
    expect(seal).toMatchObject({ format: 'GB/T 38540-2020', name: '合同专用章', code: '3201000012345', type: 1, validity: 'VALID', pictureType: 'PNG', pictureWidthMm: 40, makerSignature: 'VALID' });
    expect(Buffer.from(seal.picture).equals(Buffer.from(sealPicture()))).toBe(true);
    expect(seal.makerSubject).toContain('SM2 other');
    expect(JSON.parse(response.reportJson).signatures[0].seal.name).toBe('合同专用章');
  });
});
