/**
 * Chosen keyword hits on the real SoftHSM token: Locate's preview lists every hit of a keyword (number, page,
 * rectangle, the line around it) and Seal puts a mark on the chosen hits only, in one signature. The fixture, built
 * here with pdf-lib, draws the keyword four times at positions the test knows; pdftotext confirms the text is there,
 * pdftoppm shows where the marks landed, pdfsig and qpdf accept the output.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealDocument } from '../../src/engine/seal.ts';
import { locateMarks, type KeywordPlacement } from '../../src/engine/placements.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { A4, newDocument } from '../fixtures/text-documents.ts';
import { pdfsig, pdfText, qpdfCheck, redPixels, renderPage } from '../support/tools.ts';
import { openOrgSeal, type OrgSeal } from './org-seal.ts';

const KEYWORD = 'Seal here';
const SIZE = 14;
const MARK = 50;
/** Where the keyword is drawn (baseline start), in the order Locate numbers the hits: page, then top to bottom. */
const DRAWN = [
  { page: 1, x: 120, y: 700, line: 'Party A: Seal here (first)' },
  { page: 1, x: 330, y: 300, line: 'Party B: Seal here (second)' },
  { page: 2, x: 100, y: 520, line: 'Witness: Seal here (third)' },
  { page: 2, x: 300, y: 150, line: 'Notary: Seal here (fourth)' },
];
let org: OrgSeal;
let input: Buffer;
let inputFile: string;

beforeAll(async () => {
  org = await openOrgSeal();
  const doc = await newDocument('seald keyword hits fixture');
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const pages = [doc.addPage(A4), doc.addPage(A4)];
  for (const d of DRAWN) {
    // The line starts left of the keyword by the width of its prefix, so the keyword itself begins at d.x.
    const prefix = d.line.slice(0, d.line.indexOf(KEYWORD));
    pages[d.page - 1]!.drawText(d.line, { x: d.x - font.widthOfTextAtSize(prefix, SIZE), y: d.y, size: SIZE, font });
  }
  input = Buffer.from(await doc.save({ useObjectStreams: false }));
  inputFile = path.join(org.dir, 'hits.pdf');
  fs.writeFileSync(inputFile, input);
});

afterAll(async () => {
  await org?.close();
});

describe('chosen keyword hits', () => {
  it('Locate lists every hit with its number, page, rectangle and line; the chosen ones are flagged', async () => {
    for (const d of DRAWN) expect((await pdfText(inputFile, { page: d.page })).replace(/\s+/g, ' ')).toContain(d.line);
    const placement: KeywordPlacement = { kind: 'keyword', keyword: KEYWORD, occurrence: { hits: [3, 1] }, width: MARK, height: MARK };
    const { plan } = await locateMarks(bufferSource(input), placement, { defaultWidth: MARK, defaultHeight: MARK });
    const hits = plan.hits!;
    expect(hits.map((h) => h.page)).toEqual(DRAWN.map((d) => d.page));
    expect(hits.map((h) => h.chosen)).toEqual([true, false, true, false]);
    hits.forEach((h, i) => {
      expect(h.text).toBe(KEYWORD);
      expect(h.context).toBe(DRAWN[i]!.line);
      expect(Math.abs(h.rect.x - DRAWN[i]!.x)).toBeLessThan(1);
      expect(h.rect.y).toBeLessThan(DRAWN[i]!.y + 1);
      expect(h.rect.y + h.rect.height).toBeGreaterThan(DRAWN[i]!.y + SIZE / 2);
    });
    // The marks, in document order: one per chosen hit, centred on it.
    expect(plan.marks.map((m) => m.page.number)).toEqual([1, 2]);
    expect(plan.marks[0]!.displayed.x + MARK / 2).toBeCloseTo(hits[0]!.rect.x + hits[0]!.rect.width / 2, 3);
  });

  it('Seal with hits 1 and 3 marks those two and no other (pdftoppm), in one valid signature', async () => {
    const placement: KeywordPlacement = { kind: 'keyword', keyword: KEYWORD, occurrence: { hits: [1, 3] }, width: MARK, height: MARK };
    const { plan } = await locateMarks(bufferSource(input), placement, { defaultWidth: MARK, defaultHeight: MARK });
    const out = await sealDocument(bufferSource(input), org.seal, placement);
    expect(out.pages).toEqual([1, 2]);
    const file = path.join(org.dir, 'hits-1-3.pdf');
    fs.writeFileSync(file, Buffer.concat([input, out.appended]));
    const hits = plan.hits!;
    for (const page of [1, 2]) {
      const img = await renderPage(file, page, 72);
      for (const [i, hit] of hits.entries()) {
        if (hit.page !== page) continue;
        const cx = hit.rect.x + hit.rect.width / 2;
        const cy = hit.rect.y + hit.rect.height / 2;
        const red = redPixels(img, { x: cx - MARK / 2, y: cy - MARK / 2, w: MARK, h: MARK });
        if (hit.chosen) expect(red.inside, `hit ${i + 1}`).toBeGreaterThan(200);
        else expect(red.inside, `hit ${i + 1}`).toBe(0);
      }
      // Nothing red outside the chosen marks.
      const chosen = hits.find((h) => h.page === page && h.chosen)!;
      const all = redPixels(img, {
        x: chosen.rect.x + chosen.rect.width / 2 - MARK / 2 - 1,
        y: chosen.rect.y + chosen.rect.height / 2 - MARK / 2 - 1,
        w: MARK + 2,
        h: MARK + 2,
      });
      expect(all.outside, `page ${page}`).toBe(0);
    }
    expect((await qpdfCheck(file)).status).toBe('ok');
    const report = await pdfsig(file, { trustCaPems: [org.caPem] });
    expect(report.signatures.map((s) => s.signatureValid)).toEqual([true]);
    expect(report.signatures[0]!.coversWholeDocument).toBe(true);
  });

  it("a long line is cut to 60 characters either side of the hit in the hit's context, with ellipses", async () => {
    const doc = await newDocument('seald long line fixture');
    const font = await doc.embedFont(StandardFonts.Helvetica);
    const before = 'a'.repeat(70);
    const after = 'b'.repeat(65);
    doc.addPage(A4).drawText(`${before}${KEYWORD}${after}`, { x: 10, y: 400, size: 5, font });
    const bytes = Buffer.from(await doc.save({ useObjectStreams: false }));
    const { plan } = await locateMarks(bufferSource(bytes), { kind: 'keyword', keyword: KEYWORD }, { defaultWidth: MARK, defaultHeight: MARK });
    expect(plan.hits!.map((h) => h.context)).toEqual([`…${'a'.repeat(60)}${KEYWORD}${'b'.repeat(60)}…`]);
  });

  it('a hit number past the last is NOT_FOUND, naming how many there are', async () => {
    const e = (await sealDocument(bufferSource(input), org.seal, { kind: 'keyword', keyword: KEYWORD, occurrence: { hits: [2, 5] } }).then(
      () => ({}),
      (err: unknown) => err,
    )) as { code?: string; message?: string };
    expect(e.code).toBe('KEYWORD_NOT_FOUND');
    expect(e.message).toContain('occurs 4 times');
  });
});
