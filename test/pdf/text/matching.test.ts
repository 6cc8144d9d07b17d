/**
 * The keyword rules of docs/placement-keyword.md, one document each: folding (full-width forms, Kangxi radicals,
 * white space), lines (no match across lines or across a wide gap; pieces drawn out of order joined), and the
 * display transform being the inverse of placement's.
 */
import { describe, expect, it } from 'vitest';
import { PdfDocument, type PageInfo } from '../../../src/pdf/document.ts';
import { PdfDict, PdfRef } from '../../../src/pdf/objects.ts';
import { toUserSpace } from '../../../src/pdf/placement.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import { findText, toDisplay } from '../../../src/pdf/text/index.ts';
import { RawPdf, rawDocument, ucs2 } from '../../fixtures/text-fixtures.ts';

/** One page in STSong-Light (UniGB-UCS2-H, 12 pt unless the content says otherwise) plus a ToUnicode font /K. */
function page(content: string): PdfDocument {
  const pdf = new RawPdf();
  const cid = pdf.add('<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /DW 1000 /W [1 [500]] >>');
  const song = pdf.add(`<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [${cid} 0 R] >>`);
  // A font whose ToUnicode maps to the Kangxi radical ⽅ (U+2F45) and the CJK compatibility form of 金 (U+F90A).
  const tu = pdf.stream('', '1 begincodespacerange <00> <FF> endcodespacerange 3 beginbfchar <41> <7532> <42> <2F45> <43> <F90A> endbfchar');
  const k = pdf.add(`<< /Type /Font /Subtype /Type1 /BaseFont /Courier /FirstChar 65 /LastChar 67 /Widths [1000 1000 1000] /ToUnicode ${tu} 0 R >>`);
  return PdfDocument.open(bufferSource(rawDocument(pdf, [{ contents: [content], resources: `<< /Font << /F1 ${song} 0 R /K ${k} 0 R >> >>` }])));
}

const at = (x: number, y: number, text: string) => `BT /F1 12 Tf ${x} ${y} Td ${ucs2(text)} Tj ET`;

describe('keyword folding', () => {
  it('full-width and half-width forms are equal, both ways', async () => {
    const doc = page(`${at(72, 700, '甲方（盖章）：')} ${at(72, 650, '乙方(盖章):')} ${at(72, 600, 'ＮＯ．１２３')}`);
    expect(await findText(doc, '甲方(盖章):')).toHaveLength(1);
    expect(await findText(doc, '乙方（盖章）：')).toHaveLength(1);
    expect(await findText(doc, '方(盖章)')).toHaveLength(2);
    expect(await findText(doc, 'NO.123')).toHaveLength(1);
    expect(await findText(doc, 'no.123')).toEqual([]); // case is kept
  });

  it('white space in the PDF or in the keyword does not count', async () => {
    const doc = page(`${at(72, 700, '甲 方 （ 盖 章 ）')} ${at(72, 650, '乙方\u3000代表')} ${at(72, 600, 'Party B')}`);
    expect(await findText(doc, '甲方（盖章）')).toHaveLength(1);
    expect(await findText(doc, '乙方代表')).toHaveLength(1);
    expect(await findText(doc, '乙 方 代 表')).toHaveLength(1);
    expect(await findText(doc, 'PartyB')).toHaveLength(1);
  });

  it('Kangxi radicals and compatibility ideographs from a ToUnicode map match the ordinary characters', async () => {
    const doc = page('BT /K 12 Tf 72 700 Td (ABC) Tj ET');
    const [hit] = await findText(doc, '甲方金');
    expect(hit!.text).toBe('甲\u2f45\uf90a'); // the text as the PDF has it
    expect(hit!.rect.width).toBeCloseTo(36, 6);
  });
});

describe('lines', () => {
  it('a match never runs from the end of one line into the next', async () => {
    const doc = page(`${at(72, 700, '本合同由甲方')} ${at(72, 682, '（盖章）后生效')}`);
    expect(await findText(doc, '甲方（盖章）')).toEqual([]);
    expect(await findText(doc, '甲方')).toHaveLength(1);
  });

  it('two columns on one baseline are two lines; a gap of up to 3 em is bridged', async () => {
    const doc = page(`${at(72, 700, '甲方（盖章）：')} ${at(320, 700, '乙方（盖章）：')} ${at(72, 600, '地址：')} ${at(72 + 36 + 30, 600, '北京市')}`);
    expect(await findText(doc, '：乙方')).toEqual([]);
    expect((await findText(doc, '（盖章）：')).map((h) => Math.round(h.rect.x))).toEqual([96, 344]);
    expect(await findText(doc, '地址：北京市')).toHaveLength(1); // 30 pt = 2.5 em apart
  });

  it('pieces of a line drawn out of order, with other text between them, are read in place', async () => {
    const doc = page(`${at(96, 700, '（盖章）')} ${at(72, 500, '其他内容')} ${at(72, 700, '甲方')}`);
    const [hit] = await findText(doc, '甲方（盖章）');
    expect(hit!.rect.x).toBeCloseTo(72, 6);
    expect(hit!.rect.width).toBeCloseTo(72, 6);
  });

  it('hits come top to bottom, then left to right', async () => {
    const doc = page(`${at(300, 500, '签章')} ${at(72, 700, '签章')} ${at(72, 500, '签章')}`);
    expect((await findText(doc, '签章')).map((h) => [h.rect.x, h.rect.y + h.rect.height])).toEqual([
      [72, 700 + 12 * 0.95],
      [72, 500 + 12 * 0.95],
      [300, 500 + 12 * 0.95],
    ]);
  });
});

describe('displayed coordinates', () => {
  it('toDisplay undoes placement.toUserSpace for every /Rotate, with a CropBox', () => {
    for (const rotate of [0, 90, 180, 270]) {
      const info: PageInfo = {
        number: 1,
        ref: new PdfRef(1, 0),
        dict: new PdfDict(),
        mediaBox: [0, 0, 600, 800],
        cropBox: [50, 70, 550, 700],
        rotate,
      };
      for (const [u, v] of [[0, 0], [10, 20], [123.5, 456.25]] as const) {
        const [x, y] = toUserSpace(info, u, v);
        const [u2, v2] = toDisplay(info, x, y);
        expect(u2).toBeCloseTo(u, 9);
        expect(v2).toBeCloseTo(v, 9);
      }
    }
  });
});
