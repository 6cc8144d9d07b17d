/**
 * Fonts and encodings, each checked against poppler (which reads the same PDF with its own CMap files from
 * poppler-data): predefined CJK CMaps of all four Adobe collections, an embedded encoding CMap with one- and two-byte
 * codes, ToUnicode bfrange in array form, simple fonts with /Differences glyph names and with ToUnicode, and
 * vertical writing.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument } from '../../../src/pdf/document.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import { findText } from '../../../src/pdf/text/index.ts';
import { CMap, predefinedCMap } from '../../../src/pdf/text/cmap.ts';
import { RawPdf, legacyHex, rawDocument, textFixture, ucs2 } from '../../fixtures/text-fixtures.ts';
import { popplerKeywordBoxes, popplerPage } from '../../support/pdftotext.ts';

async function openFile(file: string): Promise<PdfDocument> {
  return PdfDocument.open(bufferSource(await readFile(file)));
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'seald-text-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cidFont(pdf: RawPdf, baseFont: string, ordering: string, encoding: string): number {
  const cid = pdf.add(
    `<< /Type /Font /Subtype /CIDFontType0 /BaseFont /${baseFont} /CIDSystemInfo << /Registry (Adobe) /Ordering (${ordering}) /Supplement 2 >> /DW 1000 ` +
      `/FontDescriptor ${pdf.add(`<< /Type /FontDescriptor /FontName /${baseFont} /Flags 6 /FontBBox [0 -120 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>`)} 0 R >>`,
  );
  return pdf.add(`<< /Type /Font /Subtype /Type0 /BaseFont /${baseFont} /Encoding ${encoding} /DescendantFonts [${cid} 0 R] >>`);
}

interface Line {
  font: string;
  text: string;
  keyword: string;
}

/** A one-page document, one line per font, written to a file for poppler. */
async function linesDocument(name: string, fonts: (pdf: RawPdf) => Record<string, number>, lines: Line[]): Promise<string> {
  const pdf = new RawPdf();
  const refs = fonts(pdf);
  const resources = `<< /Font << ${Object.entries(refs).map(([k, v]) => `/${k} ${v} 0 R`).join(' ')} >> >>`;
  const content = lines.map((l, i) => `BT /${l.font} 14 Tf 60 ${760 - i * 40} Td ${l.text} Tj ET`).join('\n');
  const file = join(dir, `${name}.pdf`);
  await writeFile(file, rawDocument(pdf, [{ contents: [content], resources }]));
  return file;
}

async function expectAgreement(file: string, keyword: string): Promise<void> {
  const doc = await openFile(file);
  const hits = await findText(doc, keyword);
  const theirs = await popplerKeywordBoxes(file, 1, keyword);
  expect(theirs.length, `poppler finds ${keyword}`).toBeGreaterThan(0);
  expect(hits.length, `seald finds ${keyword} as often as poppler`).toBe(theirs.length);
  hits.forEach((h, i) => {
    const b = theirs[i]!;
    expect(Math.abs(h.rect.x - b.x), `${keyword} x`).toBeLessThan(1);
    expect(Math.abs(h.rect.y - b.y), `${keyword} y`).toBeLessThan(1);
    expect(Math.abs(h.rect.width - b.width), `${keyword} width`).toBeLessThan(1);
    expect(Math.abs(h.rect.height - b.height), `${keyword} height`).toBeLessThan(1);
  });
}

describe('predefined CMaps of non-embedded CID fonts', () => {
  const lines: Line[] = [
    { font: 'GB', text: ucs2('甲方（盖章）：UCS2'), keyword: '甲方（盖章）：' },
    { font: 'GU', text: ucs2('乙方（盖章）：UTF16'), keyword: '乙方(盖章):' },
    { font: 'GK', text: legacyHex('gbk', '丙方（签字）：'), keyword: '丙方（签字）' },
    { font: 'CN', text: legacyHex('big5', '甲方（簽章）：'), keyword: '甲方（簽章）' },
    { font: 'CU', text: ucs2('乙方（簽章）'), keyword: '乙方（簽章）' },
    { font: 'JP', text: legacyHex('shift_jis', '署名欄：'), keyword: '署名欄：' },
    { font: 'JU', text: ucs2('捺印欄'), keyword: '捺印欄' },
    { font: 'KR', text: legacyHex('euc-kr', '서명란：'), keyword: '서명란:' },
    { font: 'KU', text: ucs2('도장란'), keyword: '도장란' },
  ];
  let file: string;
  beforeAll(async () => {
    file = await linesDocument('predefined', (pdf) => ({
      GB: cidFont(pdf, 'STSong-Light', 'GB1', '/UniGB-UCS2-H'),
      GU: cidFont(pdf, 'STSong-Light', 'GB1', '/UniGB-UTF16-H'),
      GK: cidFont(pdf, 'STSong-Light', 'GB1', '/GBK-EUC-H'),
      CN: cidFont(pdf, 'MSung-Light', 'CNS1', '/B5pc-H'),
      CU: cidFont(pdf, 'MSung-Light', 'CNS1', '/UniCNS-UCS2-H'),
      JP: cidFont(pdf, 'HeiseiMin-W3', 'Japan1', '/90ms-RKSJ-H'),
      JU: cidFont(pdf, 'HeiseiMin-W3', 'Japan1', '/UniJIS-UCS2-H'),
      KR: cidFont(pdf, 'HYSMyeongJo-Medium', 'Korea1', '/KSC-EUC-H'),
      KU: cidFont(pdf, 'HYSMyeongJo-Medium', 'Korea1', '/UniKS-UCS2-H'),
    }), lines);
  });
  for (const l of lines) {
    it(`${l.font}: ${l.keyword}`, async () => expectAgreement(file, l.keyword));
  }
});

describe('embedded CMaps and simple fonts', () => {
  // An embedded encoding CMap: bytes 00–7F are one-byte codes, 8000–FFFF two-byte; CIDs by cidrange.
  const encodingCMap = [
    '/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Seald-Mixed def /CMapType 1 def',
    '2 begincodespacerange <00> <7F> <8000> <FFFF> endcodespacerange',
    '2 begincidrange <20> <7E> 1 <8000> <8FFF> 100 endcidrange endcmap CMapName currentdict /CMap defineresource pop end end',
  ].join('\n');
  // Its ToUnicode: bfrange with a destination array, a bfrange string crossing a byte boundary, one-byte bfchar.
  const toUnicode = [
    '/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Seald-Mixed-UCS def /CMapType 2 def',
    '2 begincodespacerange <00> <7F> <8000> <FFFF> endcodespacerange',
    '1 beginbfchar <3A> <FF1A> endbfchar',
    '2 beginbfrange <8000> <8003> [<7532> <65B9> <76D6> <7AE0>] <80FE> <8101> <00FE> endbfrange',
    'endcmap CMapName currentdict /CMap defineresource pop end end',
  ].join('\n');
  let file: string;
  beforeAll(async () => {
    file = await linesDocument(
      'embedded',
      (pdf) => {
        const enc = pdf.stream('/Type /CMap /CMapName /Seald-Mixed /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>', encodingCMap);
        const tu = pdf.stream('', toUnicode);
        const cid = pdf.add(
          '<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SealdMixed /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 /W [1 [500 500] 26 [250]] >>',
        );
        const mixed = pdf.add(`<< /Type /Font /Subtype /Type0 /BaseFont /SealdMixed /Encoding ${enc} 0 R /ToUnicode ${tu} 0 R /DescendantFonts [${cid} 0 R] >>`);
        const widths = Array(224).fill(600).join(' ');
        const diff = pdf.add(
          `<< /Type /Font /Subtype /Type1 /BaseFont /Courier /FirstChar 32 /LastChar 255 /Widths [${widths}] ` +
            '/Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [128 /S /e /a /l /uni00E9 200 /quoteright] >> >>',
        );
        const tuSimple = pdf.stream('', '1 begincodespacerange <00> <FF> endcodespacerange 2 beginbfchar <41> <76D6> <42> <7AE0> endbfchar');
        const simpleTu = pdf.add(
          `<< /Type /Font /Subtype /Type1 /BaseFont /Courier /FirstChar 32 /LastChar 126 /Widths [${Array(95).fill(600).join(' ')}] /Encoding /WinAnsiEncoding /ToUnicode ${tuSimple} 0 R >>`,
        );
        return { MX: mixed, DF: diff, TU: simpleTu };
      },
      [
        { font: 'MX', text: '<8000800180028003 3A 80FE80FF81008101>', keyword: '甲方盖章：' },
        { font: 'DF', text: '<80818283 84 C8 73>', keyword: 'Sealé’s' },
        { font: 'TU', text: '(xAB)', keyword: '盖章' },
      ],
    );
  });

  it('multi-byte codes of an embedded CMap, ToUnicode bfrange arrays and a carry past 0xFF', async () => {
    await expectAgreement(file, '甲方盖章：');
    const doc = await openFile(file);
    const [hit] = await findText(doc, '甲方盖章');
    expect(hit!.text).toBe('甲方盖章');
    expect((await findText(doc, '\u00fe\u00ff\u0100\u0101')).length).toBe(1);
  });

  it('simple fonts: /Differences glyph names (uniXXXX and AGL names) and ToUnicode over the encoding', async () => {
    await expectAgreement(file, 'Sealé’s');
    await expectAgreement(file, '盖章');
    // the keyword rules fold curly quotes to straight ones
    expect(await findText(await openFile(file), "Sealé's")).toHaveLength(1);
  });
});

describe('CMap parsing', () => {
  it('splits codes by codespace and maps bfrange strings and arrays', () => {
    const cmap = CMap.parse(
      Buffer.from(
        '2 begincodespacerange <00> <80> <8140> <FEFE> endcodespacerange\n' +
          '1 beginbfchar <41> <0041> endbfchar 2 beginbfrange <8140> <8142> <4E00> <8150> <8151> [<D840DC00> <0031 0032>] endbfrange',
        'latin1',
      ),
    );
    const bytes = Uint8Array.of(0x41, 0x81, 0x41, 0x81, 0x51);
    const a = cmap.nextCode(bytes, 0);
    const b = cmap.nextCode(bytes, 1);
    const c = cmap.nextCode(bytes, 3);
    expect([a, b, c]).toEqual([{ code: 0x41, length: 1 }, { code: 0x8141, length: 2 }, { code: 0x8151, length: 2 }]);
    expect(cmap.unicode(a)).toBe('A');
    expect(cmap.unicode(b)).toBe('丁'); // U+4E01
    expect(cmap.unicode(c)).toBe('12');
    expect(cmap.unicode({ code: 0x8150, length: 2 })).toBe('\u{20000}');
  });

  it('keeps what a damaged CMap held before the damage', () => {
    const cmap = CMap.parse(Buffer.from('1 beginbfchar <01> <7532> endbfchar 1 beginbfchar <02> <65B9', 'latin1'));
    expect(cmap.unicode({ code: 1, length: 1 })).toBe('甲');
    expect(cmap.unicode({ code: 2, length: 1 })).toBeUndefined();
  });

  it('reads the text of predefined Unicode and legacy CMaps', () => {
    const utf16 = predefinedCMap('UniGB-UTF16-H')!;
    const pair = Uint8Array.of(0xd8, 0x40, 0xdc, 0x00, 0x4e, 0x2d);
    const first = utf16.codespace && utf16.unicode({ code: 0, length: 4 }, pair.subarray(0, 4));
    expect(first).toBe('\u{20000}');
    expect(predefinedCMap('Identity-V')!.vertical).toBe(true);
    expect(predefinedCMap('GBK-EUC-H')!.asciiCid(0x41)).toBe(814 + 0x41 - 0x21);
    expect(predefinedCMap('No-Such-CMap')).toBeUndefined();
  });
});

describe('vertical writing', () => {
  it('finds a keyword set top to bottom with UniGB-UCS2-V; its box is one em wide and runs down', async () => {
    const file = await textFixture('stsong-contract');
    const doc = await openFile(file);
    const [hit] = await findText(doc, '骑缝处盖章', { pages: [2] });
    // §9.7.4.3: the glyphs hang below the position vector at (500, 700), centred on it (DW2 [880 -1000]), 14 pt each.
    expect(hit!.rect.x).toBeCloseTo(500 - 7, 3);
    expect(hit!.rect.width).toBeCloseTo(14, 3);
    expect(hit!.rect.y + hit!.rect.height).toBeCloseTo(700, 3);
    expect(hit!.rect.height).toBeCloseTo(5 * 14, 3);
    // poppler reads the same column; it lays vertical glyph boxes out its own way (from the origin to the right, and
    // one em higher), so only the size and the offsets are compared.
    const column = (await popplerPage(file, 2)).lines.flat().find((w) => w.text === '骑缝处盖章')!;
    expect(column.y1 - column.y0).toBeCloseTo(hit!.rect.height, 0);
    expect(column.x0).toBeCloseTo(hit!.rect.x + 7, 0);
    expect(column.y1).toBeCloseTo(hit!.rect.y + hit!.rect.height + 14, 0);
  });
});
