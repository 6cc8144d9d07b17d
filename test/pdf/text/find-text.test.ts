/**
 * Keyword location against poppler: for every fixture and keyword, seald's hits and `pdftotext -bbox-layout` agree on
 * how many there are, on which pages, in which order, and where (every edge within a point).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { PdfDocument } from '../../../src/pdf/document.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import { findText, type TextHit } from '../../../src/pdf/text/index.ts';
import { fixture } from '../../fixtures/index.ts';
import { TEXT_FIXTURES, textFixture, type TextFixtureName } from '../../fixtures/text-fixtures.ts';
import { popplerKeywordBoxes, type PopplerBox } from '../../support/pdftotext.ts';
import { qpdfCheck } from '../../support/qpdf.ts';

const TOLERANCE = 1;

async function open(file: string): Promise<PdfDocument> {
  return PdfDocument.open(bufferSource(await readFile(file)));
}

type AnyFixture = TextFixtureName | 'cjk-contract' | 'simple' | 'rotated';

async function fixtureFile(name: AnyFixture): Promise<string> {
  return name === 'cjk-contract' || name === 'simple' || name === 'rotated' ? fixture(name) : textFixture(name);
}

function expectSameBox(hit: TextHit, box: PopplerBox, what: string): void {
  const got = [hit.rect.x, hit.rect.y, hit.rect.x + hit.rect.width, hit.rect.y + hit.rect.height];
  const want = [box.x, box.y, box.x + box.width, box.y + box.height];
  got.forEach((v, i) => {
    if (Math.abs(v - want[i]!) > TOLERANCE) {
      expect.fail(`${what}: seald ${JSON.stringify(got.map((n) => +n.toFixed(2)))} vs poppler ${JSON.stringify(want.map((n) => +n.toFixed(2)))}`);
    }
  });
}

interface Case {
  fixture: AnyFixture;
  keyword: string;
  /** Hits expected on each page (page → count); the pages not listed have none. */
  counts: Record<number, number>;
  /**
   * Text that runs up or down the displayed page: poppler sizes such words its own way (here about 4 pt longer and
   * 2.6 pt narrower), so the boxes must overlap by 70 % (intersection over union) instead of agreeing edge by edge.
   */
  sideways?: boolean;
}

function expectOverlap(hit: TextHit, box: PopplerBox, what: string): void {
  const ix = Math.min(hit.rect.x + hit.rect.width, box.x + box.width) - Math.max(hit.rect.x, box.x);
  const iy = Math.min(hit.rect.y + hit.rect.height, box.y + box.height) - Math.max(hit.rect.y, box.y);
  const inter = Math.max(0, ix) * Math.max(0, iy);
  const union = hit.rect.width * hit.rect.height + box.width * box.height - inter;
  expect(inter / union, what).toBeGreaterThan(0.7);
}

const CASES: Case[] = [
  // (e) an embedded Identity-H subset font with a ToUnicode CMap (pdf-lib + WenQuanYi Zen Hei)
  { fixture: 'cjk-contract', keyword: '甲方（盖章）：', counts: { 3: 1 } },
  { fixture: 'cjk-contract', keyword: '乙方(盖章):', counts: { 3: 1 } },
  { fixture: 'cjk-contract', keyword: '乙方（盖章）', counts: { 3: 1 } },
  { fixture: 'cjk-contract', keyword: '交货时间：', counts: { 2: 1 } },
  { fixture: 'cjk-contract', keyword: '千分之三', counts: { 2: 2 } },
  // (a) non-embedded STSong-Light: UniGB-UCS2-H on page 1, GBK-EUC-H on page 2
  { fixture: 'stsong-contract', keyword: '甲方（盖章）：', counts: { 1: 1 } },
  { fixture: 'stsong-contract', keyword: '乙方(盖章)：', counts: { 1: 1 } },
  { fixture: 'stsong-contract', keyword: '合同编号：JS-2024-017', counts: { 1: 1 } },
  { fixture: 'stsong-contract', keyword: '乙方', counts: { 1: 3 } },
  { fixture: 'stsong-contract', keyword: '丙方（见证方）：', counts: { 2: 1 } },
  { fixture: 'stsong-contract', keyword: '５０，０００．００', counts: { 2: 1 } },
  // (b) three times over two pages
  { fixture: 'keyword-thrice', keyword: '盖章处', counts: { 1: 2, 2: 1 } },
  { fixture: 'keyword-thrice', keyword: 'Seal here', counts: { 1: 1, 2: 1 } },
  // (c) split over show operators, kerning, spacing, forms, content streams
  { fixture: 'split-operators', keyword: '乙方（盖章）：', counts: { 1: 1 } },
  { fixture: 'split-operators', keyword: '甲方（盖章）：', counts: { 1: 1 } },
  { fixture: 'split-operators', keyword: '签约代表：', counts: { 1: 1 } },
  { fixture: 'split-operators', keyword: '第二行：联系人', counts: { 1: 1 } },
  { fixture: 'split-operators', keyword: '第三行', counts: { 1: 1 } },
  { fixture: 'split-operators', keyword: '联系电话：', counts: { 1: 1 } },
  { fixture: 'split-operators', keyword: '授权代表（签字）', counts: { 1: 1 } },
  { fixture: 'split-operators', keyword: '跨流关键字', counts: { 1: 1 } },
  { fixture: 'split-operators', keyword: '表单内关键字', counts: { 1: 1 } },
  { fixture: 'split-operators', keyword: 'signature', counts: { 1: 1 } },
  // (d) /Rotate 90, 180, 270 and a CropBox inside the MediaBox; text outside the crop box is not on the page
  { fixture: 'rotated-keywords', keyword: '盖章关键字：', counts: { 1: 1, 2: 1, 3: 1, 4: 1 } },
  { fixture: 'rotated-keywords', keyword: 'Keyword page', counts: { 1: 1, 2: 1, 3: 1, 4: 1 } },
  { fixture: 'rotated-keywords', keyword: '裁切框外关键字', counts: {} },
  // standard 14 fonts without /Widths (pdf-lib's Helvetica), on a /Rotate 90 page and a cropped one
  { fixture: 'simple', keyword: 'Service Agreement', counts: { 1: 1 } },
  { fixture: 'simple', keyword: 'thirty days', counts: { 1: 1 } },
  { fixture: 'rotated', keyword: 'Rotated page', counts: { 1: 1 }, sideways: true },
  { fixture: 'rotated', keyword: 'Only this area is visible.', counts: { 2: 1 } },
  { fixture: 'rotated', keyword: 'Outside the crop box', counts: {} },
];

describe('text fixtures', () => {
  for (const name of Object.keys(TEXT_FIXTURES) as TextFixtureName[]) {
    it(`${name} is a well-formed PDF (qpdf --check)`, async () => {
      expect((await qpdfCheck(await textFixture(name))).status).toBe('ok');
    });
  }
});

describe('findText agrees with pdftotext -bbox', () => {
  for (const c of CASES) {
    it(`${c.fixture}: ${c.keyword}`, async () => {
      const file = await fixtureFile(c.fixture);
      const doc = await open(file);
      const hits = await findText(doc, c.keyword);
      const perPage: Record<number, number> = {};
      for (const h of hits) perPage[h.page] = (perPage[h.page] ?? 0) + 1;
      expect(perPage).toEqual(c.counts);
      // page order
      expect(hits.map((h) => h.page)).toEqual([...hits.map((h) => h.page)].sort((a, b) => a - b));
      for (let page = 1; page <= doc.pageCount; page++) {
        const ours = hits.filter((h) => h.page === page);
        const theirs = await popplerKeywordBoxes(file, page, c.keyword);
        expect(ours.length, `page ${page}: seald and poppler count the same hits`).toBe(theirs.length);
        // poppler lists lines in reading order too; pair them up in order
        ours.forEach((hit, i) => (c.sideways ? expectOverlap : expectSameBox)(hit, theirs[i]!, `page ${page} hit ${i + 1}`));
      }
    });
  }

  it('finds the seal lines of the CJK contract in reading order, with the text as drawn', async () => {
    const doc = await open(await fixture('cjk-contract'));
    const hits = await findText(doc, '方（盖章）');
    expect(hits.map((h) => h.text)).toEqual(['方（盖章）', '方（盖章）']);
    expect(hits[0]!.rect.x).toBeLessThan(hits[1]!.rect.x); // 甲方 on the left, then 乙方
  });

  it('keeps to the pages asked for, and says so when a keyword is absent', async () => {
    const doc = await open(await textFixture('keyword-thrice'));
    expect((await findText(doc, '盖章处', { pages: [2] })).map((h) => h.page)).toEqual([2]);
    expect(await findText(doc, '盖章处', { pages: [2, 1, 2] })).toHaveLength(3);
    expect(await findText(doc, '不存在的关键字')).toEqual([]);
    expect(await findText(doc, '盖章处处')).toEqual([]);
  });
});
