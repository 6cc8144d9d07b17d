/**
 * The PDF layer alone (no crypto): every fixture gets a signature-shaped incremental update with a dummy /Contents,
 * and independent tools must find the result well-formed, with the original bytes as its exact prefix.
 */
import { describe, expect, it } from 'vitest';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../fixtures/index.ts';
import { qpdfCheck } from '../support/tools.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import { AppendedSource, bufferSource } from '../../src/pdf/source.ts';
import { embedCms, prepareSignature } from '../../src/pdf/signature.ts';
import { centredMarkRect } from '../../src/pdf/placement.ts';
import type { SealImage } from '../../src/pdf/image.ts';
import { deflateSync } from 'node:zlib';
import { SealdError } from '../../src/errors.ts';

const image: SealImage = {
  width: 2,
  height: 2,
  rgb: deflateSync(Buffer.from([255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0])),
  alpha: deflateSync(Buffer.from([255, 0, 0, 255])),
};

async function update(bytes: Uint8Array, pageNumber = 1) {
  const doc = PdfDocument.open(bufferSource(bytes));
  const page = doc.page(pageNumber);
  const prepared = prepareSignature(doc, {
    fieldName: 'Test1',
    signingTime: new Date('2026-01-02T03:04:05Z'),
    contentsSize: 64,
    image,
    mark: { page, rect: centredMarkRect(page, { x: 100, y: 100, width: 50, height: 50 }) },
  });
  embedCms(prepared, Buffer.from('3003020101', 'hex'));
  return { doc, prepared, out: Buffer.concat([bytes, prepared.bytes]) };
}

const dir = await mkdtemp(join(tmpdir(), 'seald-pdf-'));

describe('incremental update on every fixture', () => {
  for (const name of ['simple', 'cjk-contract', 'xref-stream', 'linearized', 'hybrid', 'acroform', 'signed-by-other', 'pages-300', 'rotated', 'encrypted-empty-user'] as const) {
    it(`${name}: well-formed, prefix kept, xref kind matched, reopens with the new field`, async () => {
      const bytes = await readFile(await fixture(name));
      const { doc, prepared, out } = await update(bytes);
      expect(out.subarray(0, bytes.length).equals(bytes)).toBe(true);
      const file = join(dir, `${name}.pdf`);
      await writeFile(file, out);
      const check = await qpdfCheck(file);
      expect(check.ok, check.output).toBe(true);

      const tail = prepared.bytes.toString('latin1');
      if (doc.xrefKind === 'stream') expect(tail).toMatch(/\/Type \/XRef/);
      else expect(tail).toMatch(/\nxref\n/);
      expect(tail).toContain(`/Prev ${doc.xref.startxref}`);

      const again = PdfDocument.open(bufferSource(out));
      expect(again.fieldNames()).toContain('Test1');
      // Read as the original's source plus the update, the original's chain is reused, to the same result.
      const appended = PdfDocument.open(new AppendedSource(doc.source, prepared.bytes));
      expect(appended.xref.sections.slice(1).every((section, i) => section === doc.xref.sections[i])).toBe(true);
      expect([...appended.xref.entries]).toEqual([...again.xref.entries]);
      expect(appended.xref.sections.map((x) => x.offset)).toEqual(again.xref.sections.map((x) => x.offset));
      expect(appended.fieldNames()).toEqual(again.fieldNames());
      expect(again.revisionCount).toBe(doc.revisionCount + 1);
      expect(again.pageCount).toBe(doc.pageCount);
      // The trailer keeps the document's identity (§14.4): same first /ID, same /Root.
      expect(again.catalogRef.num).toBe(doc.catalogRef.num);
      const [br0, br1, br2, br3] = prepared.byteRange;
      expect(br0).toBe(0);
      expect(br2 + br3).toBe(out.length);
      expect(out.toString('latin1', br1, br1 + 1)).toBe('<');
      expect(out.toString('latin1', br2 - 1, br2)).toBe('>');
    });
  }

  it('keeps existing fields of an AcroForm and adds the new one', async () => {
    const bytes = await readFile(await fixture('acroform'));
    const before = PdfDocument.open(bufferSource(bytes)).fieldNames();
    expect(before.size).toBeGreaterThan(0);
    const { out } = await update(bytes);
    const after = PdfDocument.open(bufferSource(out)).fieldNames();
    for (const n of before) expect(after).toContain(n);
    expect(after.size).toBe(before.size + 1);
  });

  it('finds page 300 of 300 by /Count without reading every page', async () => {
    const doc = PdfDocument.open(bufferSource(await readFile(await fixture('pages-300'))));
    expect(doc.pageCount).toBe(300);
    expect(doc.page(300).number).toBe(300);
    expect(() => doc.page(301)).toThrowError(/out of range: the document has 300 pages/);
    expect(() => doc.page(0)).toThrowError(SealdError);
  });

  it('reads the rotated page and the crop box', async () => {
    const doc = PdfDocument.open(bufferSource(await readFile(await fixture('rotated'))));
    const rotations = [doc.page(1).rotate, doc.page(2).rotate];
    expect(rotations).toContain(90);
    const cropped = [doc.page(1), doc.page(2)].find((p) => p.cropBox.join() !== p.mediaBox.join());
    expect(cropped).toBeDefined();
  });
});

describe('documents seald refuses, with a clear reason', () => {
  const cases: [string, RegExp, string][] = [
    ['not-a-pdf', /not a PDF/, 'NOT_A_PDF'],
    ['truncated', /truncated/, 'PDF_TRUNCATED'],
    // Encrypted documents open with their password (test/pdf/encryption/); without one, only the empty user password is tried.
    ['encrypted', /password/, 'PDF_PASSWORD_REQUIRED'],
  ];
  for (const [name, message, code] of cases) {
    it(name, async () => {
      const bytes = await readFile(await fixture(name as never));
      let err: unknown;
      try {
        await update(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SealdError);
      expect((err as SealdError).code).toBe(code);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('sees DocMDP P=1 on a certified document', async () => {
    const doc = PdfDocument.open(bufferSource(await readFile(await fixture('certified-p1'))));
    expect(doc.docMdpPermission()).toBe(1);
  });

  it('repairs a damaged startxref offset instead of writing a broken /Prev (more in recovery.test.ts)', async () => {
    const bytes = Buffer.from(await readFile(await fixture('simple')));
    const s = bytes.toString('latin1');
    const at = s.lastIndexOf('startxref');
    const broken = Buffer.from(s.slice(0, at) + 'startxref\n7\n%%EOF\n', 'latin1');
    const doc = PdfDocument.open(bufferSource(broken));
    expect(doc.repaired?.reason).toMatch(/damaged/);
    const { prepared } = await update(broken);
    expect(prepared.bytes.toString('latin1')).not.toMatch(/\/Prev/);
  });
});
