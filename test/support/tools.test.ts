/**
 * The independent checks must be able to fail: each is shown a good file and a broken one.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEAL_RED, drawOrganizationSeal } from '../../src/provision/seal-image.ts';
import {
  OTHER_SIGNER_FIELD,
  OTHER_SIGNER_NAME,
  fixture,
  otherSignerCaPem,
  otherSignerUnsignedOriginal,
} from '../fixtures/index.ts';
import { createTestPki } from './pki.ts';
import {
  extractSignatures,
  isPrefix,
  opensslCmsVerify,
  parsePdfsigOutput,
  pdfsig,
  qpdfCheck,
  redBounds,
  redPixels,
  renderPage,
  sha256File,
} from './tools.ts';

let dir: string;
let signed: string;
/** signed-by-other with one byte changed inside the first signed range (in the binary comment on line 2). */
let tampered: string;
/** signed-by-other with a comment appended after the signature's range. */
let extended: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'seald-tools-test-'));
  signed = await fixture('signed-by-other');
  const bytes = await readFile(signed);
  expect(bytes.subarray(0, 10).toString('latin1')).toBe('%PDF-1.7\n%');
  const flipped = Buffer.from(bytes);
  flipped[10] ^= 0xff;
  tampered = join(dir, 'tampered.pdf');
  await writeFile(tampered, flipped);
  extended = join(dir, 'extended.pdf');
  await writeFile(extended, Buffer.concat([bytes, Buffer.from('% appended after signing\n')]));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('qpdfCheck', () => {
  it('passes a well-formed file', async () => {
    const result = await qpdfCheck(await fixture('simple'));
    expect(result).toMatchObject({ ok: true, status: 'ok', exitCode: 0 });
    expect(result.output).toContain('No syntax or stream encoding errors found');
  });

  it('reports a damaged xref table as warnings (qpdf recovers), not as ok', async () => {
    const bytes = Buffer.from(await readFile(await fixture('simple')));
    const text = bytes.toString('latin1');
    const xref = text.lastIndexOf('xref\n0 ');
    const firstInUse = text.indexOf(' 00000 n', xref) - 10; // the entry of object 1
    bytes.write('0000000003', firstInUse, 'latin1');
    const damaged = join(dir, 'damaged-xref.pdf');
    await writeFile(damaged, bytes);
    const result = await qpdfCheck(damaged);
    expect(result).toMatchObject({ ok: false, status: 'warnings', exitCode: 3 });
    expect(result.output).toMatch(/reconstruct|xref/i);
  });

  it('reports errors for a file that is not a PDF', async () => {
    const result = await qpdfCheck(await fixture('not-a-pdf'));
    expect(result).toMatchObject({ ok: false, status: 'errors', exitCode: 2 });
  });

  it('needs the password of an encrypted file', async () => {
    const file = await fixture('encrypted');
    expect((await qpdfCheck(file)).status).toBe('errors');
    expect((await qpdfCheck(file, { password: 'user' })).ok).toBe(true);
  });
});

describe('pdfsig', () => {
  it('says a good signature is valid, covers the whole file and chains to a trusted CA', async () => {
    const report = await pdfsig(signed, { trustCaPems: [await otherSignerCaPem()] });
    expect(report.signatures).toHaveLength(1);
    const [sig] = report.signatures;
    expect(sig).toMatchObject({
      index: 1,
      fieldName: OTHER_SIGNER_FIELD,
      signerName: OTHER_SIGNER_NAME,
      subFilter: 'adbe.pkcs7.detached',
      hashAlgorithm: 'SHA-256',
      signatureValid: true,
      validationText: 'Signature is Valid.',
      certificateText: 'Certificate is Trusted.',
      certificateTrusted: true,
      coversWholeDocument: true,
    });
    expect(sig!.signingTime).toMatch(/\d{4} \d\d:\d\d:\d\d/);
    const size = (await readFile(signed)).length;
    expect(sig!.signedRanges[0]![0]).toBe(0);
    expect(sig!.signedRanges[1]![1]).toBe(size);
  });

  it('does not trust the signer without its CA', async () => {
    const [sig] = (await pdfsig(signed)).signatures;
    expect(sig!.signatureValid).toBe(true);
    expect(sig!.certificateTrusted).toBe(false);
    expect(sig!.certificateText).toMatch(/issuer/i);
  });

  it('says a signature over changed bytes is invalid', async () => {
    const [sig] = (await pdfsig(tampered)).signatures;
    expect(sig!.signatureValid).toBe(false);
    expect(sig!.validationText).toBe('Digest Mismatch.');
  });

  it('notices bytes after the signed ranges', async () => {
    const [sig] = (await pdfsig(extended)).signatures;
    expect(sig!.signatureValid).toBe(true);
    expect(sig!.coversWholeDocument).toBe(false);
  });

  it('finds no signatures in an unsigned file', async () => {
    const report = await pdfsig(await fixture('simple'));
    expect(report.signatures).toEqual([]);
    expect(report.raw).toContain('does not contain any signatures');
  });

  it('parses several signatures and their ranges', () => {
    const sigs = parsePdfsigOutput(
      [
        'Digital Signature Info of: x.pdf',
        'Signature #1:',
        '  - Signature Field Name: A',
        '  - Signature Type: ETSI.CAdES.detached',
        '  - Signed Ranges: [0 - 100], [200 - 300]',
        '  - Not total document signed',
        '  - Signature Validation: Signature is Valid.',
        '  - Certificate Validation: Certificate has Expired',
        'Signature #2:',
        '  - Signature Field Name: B',
        '  - Signed Ranges: [0 - 400], [500 - 600]',
        '  - Total document signed',
        '  - Signature Validation: Digest Mismatch.',
        '',
      ].join('\n'),
    );
    expect(sigs.map((s) => [s.index, s.fieldName, s.signatureValid, s.coversWholeDocument])).toEqual([
      [1, 'A', true, false],
      [2, 'B', false, true],
    ]);
    expect(sigs[0]!.subFilter).toBe('ETSI.CAdES.detached');
    expect(sigs[0]!.signedRanges).toEqual([
      [0, 100],
      [200, 300],
    ]);
    expect(sigs[0]!.certificateText).toBe('Certificate has Expired');
  });
});

describe('extractSignatures and opensslCmsVerify', () => {
  it('find the signature by scanning bytes and verify its CMS over the signed ranges', async () => {
    const bytes = await readFile(signed);
    const [sig, ...rest] = await extractSignatures(signed);
    expect(rest).toEqual([]);
    const [a, b, c, d] = sig!.byteRange;
    expect(a).toBe(0);
    expect(c + d).toBe(bytes.length);
    expect(sig!).toMatchObject({ gapIsContents: true, coversWholeFile: true, subFilter: 'adbe.pkcs7.detached' });
    expect(sig!.signedBytes.length).toBe(b + d);
    expect(sig!.cms[0]).toBe(0x30);
    expect(sig!.cms.length).toBeLessThanOrEqual((c - b - 2) / 2);
    const pdfsigRanges = (await pdfsig(signed)).signatures[0]!.signedRanges;
    expect(pdfsigRanges).toEqual([
      [a, a + b],
      [c, c + d],
    ]);
    const verdict = await opensslCmsVerify(sig!.cms, sig!.signedBytes, await otherSignerCaPem());
    expect(verdict).toEqual({ ok: true, output: 'CMS Verification successful' });
  });

  it('fail when a signed byte changed', async () => {
    const [sig] = await extractSignatures(tampered);
    const verdict = await opensslCmsVerify(sig!.cms, sig!.signedBytes, await otherSignerCaPem());
    expect(verdict.ok).toBe(false);
    expect(verdict.output).toMatch(/digest failure|verification failure/i);
  });

  it('fail against a CA that did not issue the signer', async () => {
    const stranger = await createTestPki(join(dir, 'stranger-pki'), { caName: 'Stranger CA', signerName: 'Nobody' });
    const [sig] = await extractSignatures(signed);
    const verdict = await opensslCmsVerify(sig!.cms, sig!.signedBytes, stranger.caCertPem);
    expect(verdict.ok).toBe(false);
    expect(verdict.output).toMatch(/certificate verify error|unable to get local issuer/i);
  });

  it('cut the CMS to its encoded length, definite (DER) or indefinite (BER, as NSS writes it)', async () => {
    const synthetic = (hex: string): Buffer => {
      const head = '1 0 obj\n<< /Type /Sig /ByteRange [0 0000000040 0000000000 0000000000] /Contents ';
      const contents = `<${hex}>`;
      const body = `${head}${contents} >>\nendobj\n`;
      const gapStart = head.length;
      const gapEnd = gapStart + contents.length;
      return Buffer.from(
        body.replace(
          '0000000040 0000000000 0000000000',
          [gapStart, gapEnd, body.length - gapEnd].map((n) => String(n).padStart(10, '0')).join(' '),
        ),
        'latin1',
      );
    };
    const [der] = await extractSignatures(synthetic('3003020105' + '00'.repeat(20)));
    expect(der!.cms.toString('hex')).toBe('3003020105');
    expect(der!).toMatchObject({ gapIsContents: true, coversWholeFile: true, objectNumber: 1 });
    const [ber] = await extractSignatures(synthetic('30800201050000' + '00'.repeat(20)));
    expect(ber!.cms.toString('hex')).toBe('30800201050000');
  });

  it('return an empty CMS for a zero-filled placeholder and nothing for an unsigned file', async () => {
    const [placeholder] = await extractSignatures(await fixture('certified-p1'));
    expect(placeholder!.cms.length).toBe(0);
    expect(placeholder!.gapIsContents).toBe(true);
    expect(await extractSignatures(await fixture('simple'))).toEqual([]);
  });
});

describe('renderPage and redPixels', () => {
  const SEAL_COLOR = rgb(SEAL_RED.r / 255, SEAL_RED.g / 255, SEAL_RED.b / 255);
  const RECT = { x: 100, y: 200, w: 150, h: 80 };
  /** Page 2's crop box starts at (50, 60): a rectangle drawn at (150, 260) shows at (100, 200) of the rendering. */
  const CROP = { x: 50, y: 60 };
  let file: string;

  beforeAll(async () => {
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    const page = doc.addPage([595, 842]);
    page.drawRectangle({ x: RECT.x, y: RECT.y, width: RECT.w, height: RECT.h, color: SEAL_COLOR });
    page.drawText('Black text is never seal red', { x: 72, y: 760, size: 18, font });
    const cropped = doc.addPage([595, 842]);
    cropped.setCropBox(CROP.x, CROP.y, 400, 500);
    cropped.drawRectangle({ x: RECT.x + CROP.x, y: RECT.y + CROP.y, width: RECT.w, height: RECT.h, color: SEAL_COLOR });
    const text = doc.addPage([595, 842]);
    text.drawText('Only black text here', { x: 72, y: 760, size: 18, font });
    const sealed = doc.addPage([595, 842]);
    const seal = await doc.embedPng(drawOrganizationSeal({ sizePx: 600, name: 'Render Test Ltd' }));
    sealed.drawImage(seal, { x: 300, y: 100, width: 150, height: 150 });
    sealed.drawText('A seal image over nothing', { x: 72, y: 760, size: 18, font });
    file = join(dir, 'red.pdf');
    await writeFile(file, await doc.save());
  });

  it('renders a page at the asked resolution', async () => {
    const img = await renderPage(file, 1, 72);
    expect([img.width, img.height]).toEqual([595, 842]);
    expect(img.rgb.length).toBe(595 * 842 * 3);
    const hi = await renderPage(file, 1, 144);
    expect([hi.width, hi.height]).toEqual([1190, 1684]);
  });

  it('counts the red rectangle inside its rectangle and nothing outside', async () => {
    for (const dpi of [72, 150]) {
      const img = await renderPage(file, 1, dpi);
      const count = redPixels(img, RECT, dpi);
      const area = RECT.w * RECT.h * (dpi / 72) ** 2;
      expect(count.outside).toBe(0);
      expect(count.inside).toBeGreaterThan(area * 0.97);
      expect(count.inside).toBeLessThanOrEqual(count.rectPixels);
      const bounds = redBounds(img)!;
      for (const key of ['x', 'y', 'w', 'h'] as const) expect(Math.abs(bounds[key] - RECT[key])).toBeLessThan(1);
    }
  });

  it('counts everything as outside a rectangle elsewhere', async () => {
    const img = await renderPage(file, 1, 72);
    const count = redPixels(img, { x: 300, y: 500, w: 100, h: 100 });
    expect(count.inside).toBe(0);
    expect(count.outside).toBe(count.total);
    expect(count.total).toBeGreaterThan(RECT.w * RECT.h * 0.97);
  });

  it('measures from the crop box, not the media box', async () => {
    const img = await renderPage(file, 2, 72);
    expect([img.width, img.height]).toEqual([400, 500]);
    const count = redPixels(img, RECT);
    expect(count.outside).toBe(0);
    expect(count.inside).toBeGreaterThan(RECT.w * RECT.h * 0.97);
  });

  it('finds no red on a page of black text', async () => {
    const img = await renderPage(file, 3, 100);
    expect(redPixels(img).total).toBe(0);
    expect(redBounds(img)).toBeUndefined();
  });

  it('finds a rendered seal image where it was drawn', async () => {
    const img = await renderPage(file, 4, 100);
    const where = { x: 300, y: 100, w: 150, h: 150 };
    const count = redPixels(img, where);
    expect(count.outside).toBe(0);
    expect(count.inside / count.rectPixels).toBeGreaterThan(0.2); // ring, star, text strokes
    const bounds = redBounds(img)!;
    expect(bounds.x).toBeGreaterThanOrEqual(where.x);
    expect(bounds.x + bounds.w).toBeLessThanOrEqual(where.x + where.w + 0.5);
    expect(bounds.w).toBeGreaterThan(where.w * 0.95); // the outer ring touches the image's edges
  });
});

describe('isPrefix and sha256File', () => {
  it('see the unsigned original as a prefix of the signed file, and not the other way round', async () => {
    const original = await otherSignerUnsignedOriginal();
    expect(await isPrefix(original, signed)).toBe(true);
    expect(await isPrefix(signed, original)).toBe(false);
    expect(await isPrefix(original, tampered)).toBe(false); // byte 10 differs
    expect(await isPrefix(await readFile(original), await readFile(extended))).toBe(true);
  });

  it('hash a file like node:crypto does', async () => {
    const expected = createHash('sha256')
      .update(await readFile(signed))
      .digest('hex');
    expect(await sha256File(signed)).toBe(expected);
    expect(await sha256File(tampered)).not.toBe(expected);
  });
});
