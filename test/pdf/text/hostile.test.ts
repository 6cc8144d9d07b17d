/**
 * Content streams written to hurt: each ends (well within the test timeout) with a clear result — the text before the
 * damage still found and the damage reported in `skipped`, or a 'too-large' / 'cancelled' / 'invalid-input' error.
 */
import { describe, expect, it } from 'vitest';
import { PdfDocument } from '../../../src/pdf/document.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import { findText, searchText } from '../../../src/pdf/text/index.ts';
import { RawPdf, rawDocument, ucs2 } from '../../fixtures/text-fixtures.ts';

function stsongFont(pdf: RawPdf): string {
  const cid = pdf.add('<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /DW 1000 >>');
  const font = pdf.add(`<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [${cid} 0 R] >>`);
  return `/Font << /F1 ${font} 0 R >>`;
}

function stsongResources(pdf: RawPdf): string {
  return `<< ${stsongFont(pdf)} >>`;
}

const KEYWORD = '甲方（盖章）';
const GOOD = `BT /F1 12 Tf 72 700 Td ${ucs2(KEYWORD)} Tj ET\n`;

/** A one-page document; `build` may add objects and returns more page resources (it gets the /Font entry). */
function docWith(contents: (string | Buffer)[], build?: (pdf: RawPdf, font: string) => string, pages = 1): PdfDocument {
  const pdf = new RawPdf();
  const font = stsongFont(pdf);
  const resources = `<< ${font} ${build ? build(pdf, font) : ''} >>`;
  return PdfDocument.open(bufferSource(rawDocument(pdf, Array.from({ length: pages }, () => ({ contents, resources })))));
}

describe('hostile and damaged content', () => {
  it('an unterminated string: the text before it is found, the damage reported', async () => {
    const doc = docWith([`${GOOD}BT /F1 12 Tf 72 600 Td (never closed ${'x'.repeat(10_000)}`]);
    const report = await searchText(doc, KEYWORD);
    expect(report.hits).toHaveLength(1);
    expect(report.skipped).toEqual([{ page: 1, reason: expect.stringMatching(/unterminated string/) }]);
  });

  it('stray delimiters and a too-deep array are skipped, text after them still found', async () => {
    const deep = '['.repeat(200) + ']'.repeat(200);
    const doc = docWith([`) ] } > ${deep} 1 2 Tj\n${GOOD}`]);
    const report = await searchText(doc, KEYWORD);
    expect(report.hits).toHaveLength(1);
    expect(report.skipped.length).toBeGreaterThan(0);
  });

  it('a content stream that does not inflate is skipped; the page’s other streams are searched', async () => {
    const pdf = new RawPdf();
    const resources = stsongResources(pdf);
    const broken = pdf.add(`<< /Length 20 /Filter /FlateDecode >>\nstream\n${'not zlib at all!!!!!'}\nendstream`);
    const good = pdf.stream('', GOOD, true);
    const page = pdf.reserve();
    const pages = pdf.add(`<< /Type /Pages /Kids [${page} 0 R] /Count 1 >>`);
    pdf.set(page, `<< /Type /Page /Parent ${pages} 0 R /MediaBox [0 0 595 842] /Resources ${resources} /Contents [${broken} 0 R ${good} 0 R] >>`);
    const doc = PdfDocument.open(bufferSource(pdf.finish(pdf.add(`<< /Type /Catalog /Pages ${pages} 0 R >>`))));
    const report = await searchText(doc, KEYWORD);
    expect(report.hits).toHaveLength(1);
    expect(report.skipped).toEqual([{ page: 1, reason: expect.stringMatching(/content stream 1: .*does not inflate/) }]);
  });

  it('a huge TJ array ends in PAGE_CONTENT_TOO_COMPLEX (elements count as tokens)', async () => {
    const doc = docWith([`BT /F1 12 Tf [${'1 '.repeat(1_500_000)}] TJ ET`]);
    await expect(findText(doc, KEYWORD, { limits: { maxTokensPerPage: 1_000_000 } })).rejects.toMatchObject({ category: 'too-large', code: 'PAGE_CONTENT_TOO_COMPLEX' });
  });

  it('an operator flood ends in PAGE_CONTENT_TOO_COMPLEX under the default limits', async () => {
    const doc = docWith([GOOD + 'q Q '.repeat(3_000_000)]);
    await expect(findText(doc, KEYWORD)).rejects.toMatchObject({ category: 'too-large', code: 'PAGE_CONTENT_TOO_COMPLEX' });
  });

  it('a stream that inflates beyond the byte limit ends in PAGE_CONTENT_TOO_COMPLEX', async () => {
    const doc = docWith([Buffer.alloc(80 * 1024 * 1024, 0x20)]);
    await expect(findText(doc, KEYWORD, { limits: { maxContentBytes: 16 * 1024 * 1024 } })).rejects.toMatchObject({
      code: 'PAGE_CONTENT_TOO_COMPLEX',
    });
  });

  it('a form drawn over and over counts its bytes each time', async () => {
    const doc = docWith([GOOD + '/Big Do '.repeat(2_000)], (pdf) => {
      const big = pdf.add(formBody(`% ${'x'.repeat(1024 * 1024)}\n`, ''));
      return `/XObject << /Big ${big} 0 R >>`;
    });
    await expect(findText(doc, KEYWORD, { limits: { maxContentBytes: 8 * 1024 * 1024 } })).rejects.toMatchObject({
      code: 'PAGE_CONTENT_TOO_COMPLEX',
    });
  });

  it('forms that draw themselves, directly or in a cycle, or nest too deep, are cut off with a reason', async () => {
    const doc = docWith([`/Fself Do /Fa Do /D0 Do`], (pdf, font) => {
      const self = pdf.reserve();
      pdf.set(self, formBody(`${GOOD} /Fself Do`, `${font} /XObject << /Fself ${self} 0 R >>`));
      const a = pdf.reserve();
      const b = pdf.reserve();
      pdf.set(a, formBody('/Fb Do', `/XObject << /Fb ${b} 0 R >>`));
      pdf.set(b, formBody('/Fa Do', `/XObject << /Fa ${a} 0 R >>`));
      // a chain of 20 distinct forms, the last one holding text
      let next = pdf.add(formBody(`BT /F1 12 Tf 72 500 Td ${ucs2('深处')} Tj ET`, font));
      for (let i = 0; i < 19; i++) next = pdf.add(formBody('/Dn Do', `/XObject << /Dn ${next} 0 R >>`));
      return `/XObject << /Fself ${self} 0 R /Fa ${a} 0 R /D0 ${next} 0 R >>`;
    });
    const report = await searchText(doc, KEYWORD);
    expect(report.hits).toHaveLength(1);
    expect(report.skipped.some((s) => /draws itself/.test(s.reason))).toBe(true);
    expect(report.skipped.some((s) => /nested deeper than 12/.test(s.reason))).toBe(true);
    expect(await findText(doc, '深处')).toEqual([]);
  });

  it('an aborted signal stops the search with CANCELLED', async () => {
    const doc = docWith([GOOD]);
    const controller = new AbortController();
    controller.abort();
    await expect(findText(doc, KEYWORD, { signal: controller.signal })).rejects.toMatchObject({ category: 'cancelled', code: 'CANCELLED' });
  });

  it('an abort from the event loop while pages are searched stops the search', async () => {
    const doc = docWith([GOOD + 'q Q '.repeat(200_000)], undefined, 50);
    const controller = new AbortController();
    let ticks = 0;
    const search = findText(doc, KEYWORD, { signal: controller.signal });
    // Abort from the event loop, as a client cancellation or a deadline timer would, once a page or two is done.
    const timer = setInterval(() => {
      ticks++;
      if (ticks === 2) controller.abort();
    }, 0);
    await expect(search).rejects.toMatchObject({ category: 'cancelled', code: 'CANCELLED' });
    clearInterval(timer);
  });

  it('an empty keyword is invalid input; a page outside the document is PAGE_OUT_OF_RANGE', async () => {
    const doc = docWith([GOOD]);
    await expect(findText(doc, '')).rejects.toMatchObject({ category: 'invalid-input', code: 'EMPTY_KEYWORD' });
    await expect(findText(doc, ' \u3000\n')).rejects.toMatchObject({ code: 'EMPTY_KEYWORD' });
    await expect(findText(doc, KEYWORD, { pages: [2] })).rejects.toMatchObject({ code: 'PAGE_OUT_OF_RANGE' });
  });
});

function formBody(content: string, resources: string): string {
  const data = Buffer.from(content, 'latin1');
  return `<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << ${resources} >> /Length ${data.length} >>\nstream\n${content}\nendstream`;
}
