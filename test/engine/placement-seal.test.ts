/**
 * Multi-page and cross-page seals on the real SoftHSM token, judged by independent tools: pdfsig (every signature
 * valid, earlier ones too), qpdf --check, and poppler's renderer (pdftoppm). The render checks compare what a reader
 * sees with expectations the test computes itself from page sizes: the strips sit at the displayed edge, their widths
 * add up to the seal's, the strips side by side reproduce the seal as a normal seal renders it, and multi-page marks
 * appear on the chosen pages and nowhere else.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealDocument } from '../../src/engine/seal.ts';
import type { Edge, Placement } from '../../src/engine/placements.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { fixture, FIXTURE_FACTS, type FixtureName } from '../fixtures/index.ts';
import { DISPLAYED_SIZES, placementFixture } from '../fixtures/placement-fixtures.ts';
import { isSealRed, pdfsig, qpdfCheck, redBounds, redPixels, renderPage, type RenderedPage } from '../support/tools.ts';
import { openOrgSeal, type OrgSeal } from './org-seal.ts';

const SEAL = 119; // the org seal's default size in points (square)
const DPI = 72;
let org: OrgSeal;
let reference: RenderedPage;
const REF_CENTRE = { x: 300, y: 400 };

beforeAll(async () => {
  org = await openOrgSeal();
  // The whole seal, as a normal seal renders it: the reference the strips must reassemble into.
  const input = fs.readFileSync(await placementFixture('one-page'));
  const file = await sealTo('reference', input, { page: 1, ...REF_CENTRE });
  reference = await renderPage(file, 1, DPI);
});

afterAll(async () => {
  await org?.close();
});

async function sealTo(name: string, input: Buffer, placement: Placement): Promise<string> {
  const out = await sealDocument(bufferSource(input), org.seal, placement);
  const file = path.join(org.dir, `${name}.pdf`);
  fs.writeFileSync(file, Buffer.concat([input, out.appended]));
  return file;
}

/** qpdf finds nothing to warn about and pdfsig calls every signature valid, the last covering the whole file. */
async function expectAccepted(file: string, signatures: number): Promise<void> {
  const check = await qpdfCheck(file);
  expect(check.status, check.output).toBe('ok');
  const report = await pdfsig(file, { trustCaPems: [org.caPem] });
  expect(report.signatures).toHaveLength(signatures);
  for (const s of report.signatures) expect(s.signatureValid, s.raw).toBe(true);
  expect(report.signatures.at(-1)!.coversWholeDocument).toBe(true);
}

/** Is the pixel under the point (x, y) (points from the lower left of the rendered page) seal red? */
function redAt(img: RenderedPage, x: number, y: number): boolean {
  const k = img.dpi / 72;
  const px = Math.floor(x * k);
  const py = Math.floor((img.heightPts - y) * k);
  if (px < 0 || py < 0 || px >= img.width || py >= img.height) return false;
  const i = (py * img.width + px) * 3;
  return isSealRed(img.rgb[i]!, img.rgb[i + 1]!, img.rgb[i + 2]!);
}

function redNear(img: RenderedPage, x: number, y: number): boolean {
  const d = 72 / img.dpi;
  for (const dx of [-d, 0, d]) for (const dy of [-d, 0, d]) if (redAt(img, x + dx, y + dy)) return true;
  return false;
}

/**
 * Where seal point (sx, sy) (points from the seal's lower-left) shows on the page carrying strip `index` of `count`,
 * computed from the displayed page size alone: strip i holds the i-th slice from the left (left/right edges) or from
 * the top (top/bottom edges), centred along the edge.
 */
function stripPoint(edge: Edge, index: number, count: number, page: RenderedPage, sx: number, sy: number): [number, number] | undefined {
  const t = SEAL / count;
  const { widthPts: w, heightPts: h } = page;
  if (edge === 'right' || edge === 'left') {
    if (sx < index * t || sx >= (index + 1) * t) return undefined;
    return [(edge === 'right' ? w - t : 0) + sx - index * t, h / 2 - SEAL / 2 + sy];
  }
  const bottom = SEAL - (index + 1) * t;
  if (sy < bottom || sy >= bottom + t) return undefined;
  return [w / 2 - SEAL / 2 + sx, (edge === 'top' ? h - t : 0) + sy - bottom];
}

/**
 * Reassemble the seal from the rendered strips and compare it with the reference render, pixel by pixel with a
 * one-pixel tolerance (strip boundaries fall between pixels): the share of red pixels of either image with no red
 * counterpart in the other.
 */
function reassemblyMismatch(edge: Edge, pages: RenderedPage[]): number {
  const step = 72 / DPI;
  let red = 0;
  let missing = 0;
  for (let sy = step / 2; sy < SEAL; sy += step) {
    for (let sx = step / 2; sx < SEAL; sx += step) {
      const refX = REF_CENTRE.x - SEAL / 2 + sx;
      const refY = REF_CENTRE.y - SEAL / 2 + sy;
      let at: [RenderedPage, number, number] | undefined;
      pages.forEach((img, i) => {
        const p = stripPoint(edge, i, pages.length, img, sx, sy);
        if (p) at = [img, p[0], p[1]];
      });
      if (!at) continue;
      const [img, x, y] = at;
      const a = redAt(reference, refX, refY);
      const b = redAt(img, x, y);
      if (a || b) red++;
      if ((a && !redNear(img, x, y)) || (b && !redNear(reference, refX, refY))) missing++;
    }
  }
  return missing / red;
}

describe('cross-page seals (骑缝章)', () => {
  const cases: [keyof typeof DISPLAYED_SIZES, Edge][] = [
    ['rotations', 'right'],
    ['rotations', 'top'],
    ['cropped', 'left'],
    ['cropped', 'bottom'],
    ['mixed-sizes', 'right'],
  ];
  for (const [name, edge] of cases) {
    it(`${name}, ${edge} edge: strips at the edge the reader sees, adding up to the seal and reassembling it`, async () => {
      const input = fs.readFileSync(await placementFixture(name));
      const file = await sealTo(`cross-${name}-${edge}`, input, { kind: 'cross-page', edge });
      await expectAccepted(file, 1);
      const count = DISPLAYED_SIZES[name].length;
      const pages = await Promise.all(Array.from({ length: count }, (_, i) => renderPage(file, i + 1, DPI)));
      const t = SEAL / count;
      const px = 72 / DPI;
      let across = 0;
      pages.forEach((img, i) => {
        const [w, h] = DISPLAYED_SIZES[name][i]!;
        expect([img.widthPts, img.heightPts]).toEqual([expect.closeTo(w, 1), expect.closeTo(h, 1)]);
        const b = redBounds(img)!;
        expect(b, `page ${i + 1}`).toBeDefined();
        // At the edge, no thicker than the strip, centred along the edge.
        if (edge === 'right') expect(b.x + b.w).toBeGreaterThan(w - 2 * px);
        if (edge === 'left') expect(b.x).toBeLessThan(2 * px);
        if (edge === 'top') expect(b.y + b.h).toBeGreaterThan(h - 2 * px);
        if (edge === 'bottom') expect(b.y).toBeLessThan(2 * px);
        const vertical = edge === 'left' || edge === 'right';
        expect(vertical ? b.w : b.h).toBeLessThanOrEqual(t + 2 * px);
        expect(vertical ? b.y + b.h / 2 : b.x + b.w / 2).toBeCloseTo(vertical ? h / 2 : w / 2, -1);
        // Nothing red outside the strip's band.
        const band = vertical
          ? { x: edge === 'right' ? w - t - px : 0, y: 0, w: t + px, h }
          : { x: 0, y: edge === 'top' ? h - t - px : 0, w, h: t + px };
        expect(redPixels(img, band).outside).toBe(0);
        across += vertical ? b.w : b.h;
      });
      // The strips' red extents add up to the seal's red extent, within a pixel or two per strip.
      const whole = redBounds(reference)!;
      const vertical = edge === 'left' || edge === 'right';
      expect(Math.abs(across - (vertical ? whole.w : whole.h))).toBeLessThanOrEqual(2 * px * count);
      expect(reassemblyMismatch(edge, pages)).toBeLessThan(0.02);
    });
  }

  it('the same strips reassemble wrongly when put in the wrong order (the check has teeth)', async () => {
    const input = fs.readFileSync(await placementFixture('rotations'));
    const file = await sealTo('cross-teeth', input, { kind: 'cross-page' });
    const pages = await Promise.all([1, 2, 3, 4].map((n) => renderPage(file, n, DPI)));
    expect(reassemblyMismatch('right', [pages[1]!, pages[0]!, pages[3]!, pages[2]!])).toBeGreaterThan(0.2);
  });

  it('120 pages: several full seals, each spread over its group, every signature valid', async () => {
    const input = fs.readFileSync(await placementFixture('pages-120'));
    const file = await sealTo('cross-120', input, { kind: 'cross-page', maxPages: 25, minStripWidth: 4 });
    await expectAccepted(file, 1);
    // 120 pages, at most 25 per seal (strips of 4 pt or more allow 29) → 5 groups of 24 pages: strips of 119/24 pt.
    const t = SEAL / 24;
    for (const n of [1, 24, 25, 120]) {
      const img = await renderPage(file, n, 144);
      const b = redBounds(img)!;
      expect(b.x + b.w).toBeGreaterThan(595.28 - 1);
      expect(b.w).toBeLessThanOrEqual(t + 1);
    }
    // Page 24 ends a group (the seal's rightmost slice), page 25 starts the next (its leftmost slice): both are the
    // seal's outer ring, so they render little red compared with a middle strip.
    const middle = redPixels(await renderPage(file, 12, 144)).total;
    for (const n of [24, 25]) expect(redPixels(await renderPage(file, n, 144)).total).toBeLessThan(middle);
    const update = fs.readFileSync(file).subarray(input.length).toString('latin1');
    expect(update).toMatch(/\/Seald_Placement <<\/Kind \/CrossPage\n\/Pages \[1 2 3 [\d ]+ 119 120\]/);
    // One widget, 119 stamps, and one seal drawing (the demo seal's vector form, src/pdf/appearance.ts) shared by all
    // 120 marks.
    expect(update.match(/\/Subtype \/Widget/g)).toHaveLength(1);
    expect(update.match(/\/Subtype \/Stamp/g)).toHaveLength(119);
    expect(update.match(/\/BBox \[0 0 2000 2000\]\s\/Matrix \[0\.0005 0 0 0\.0005 0 0\]/g)).toHaveLength(1);
    expect(update.match(/\/Subtype \/Image/g)).toBeNull();
  });

  it('seal twice (cross-page, then multi-page): both signatures stay valid, page contents untouched', async () => {
    const input = fs.readFileSync(await placementFixture('mixed-sizes'));
    const once = await sealTo('twice-1', input, { kind: 'cross-page' });
    const onceBytes = fs.readFileSync(once);
    const twice = await sealTo('twice-2', onceBytes, { kind: 'multi-page', pages: '1,3', x: 150, y: 150 });
    await expectAccepted(twice, 2);
    const before = PdfDocument.open(bufferSource(input));
    const after = PdfDocument.open(bufferSource(fs.readFileSync(twice)));
    for (let n = 1; n <= 4; n++) {
      expect(after.page(n).dict.get('Contents')).toEqual(before.page(n).dict.get('Contents'));
    }
    const mark = { x: 150 - SEAL / 2, y: 150 - SEAL / 2, w: SEAL, h: SEAL };
    for (let n = 1; n <= 4; n++) {
      const img = await renderPage(twice, n, DPI);
      const inMark = redPixels(img, mark);
      if (n === 1 || n === 3) expect(inMark.inside, `page ${n}`).toBeGreaterThan(500);
      else expect(inMark.inside, `page ${n}`).toBe(0);
    }
  });
});

describe('multi-page seals (多页签章) on the fixture set', () => {
  const names: FixtureName[] = ['simple', 'cjk-contract', 'xref-stream', 'linearized', 'hybrid', 'acroform', 'signed-by-other', 'pages-300', 'rotated'];
  for (const name of names) {
    it(`${name}: a mark on every chosen page and nowhere else; pdfsig and qpdf accept it`, async () => {
      const input = fs.readFileSync(await fixture(name));
      const count = FIXTURE_FACTS[name].pages!;
      const spec = count === 1 ? '-1' : count > 10 ? '1,-2--1' : 'odd';
      const chosen = count === 1 ? [1] : count > 10 ? [1, count - 1, count] : Array.from({ length: count }, (_, i) => i + 1).filter((n) => n % 2 === 1);
      const file = await sealTo(`multi-${name}`, input, { kind: 'multi-page', pages: spec, x: 130, y: 130 });
      await expectAccepted(file, (FIXTURE_FACTS[name].signatures ?? 0) + 1);
      const rendered = count > 10 ? [1, 2, count - 1, count] : Array.from({ length: count }, (_, i) => i + 1);
      const mark = { x: 130 - SEAL / 2, y: 130 - SEAL / 2, w: SEAL, h: SEAL };
      for (const n of rendered) {
        const img = await renderPage(file, n, DPI);
        const red = redPixels(img, mark);
        if (chosen.includes(n)) {
          expect(red.inside, `page ${n}`).toBeGreaterThan(500);
          expect(red.outside, `page ${n}`).toBe(0);
        } else {
          expect(red.total, `page ${n}`).toBe(0);
        }
      }
      expect(fs.readFileSync(file).toString('latin1')).toContain(`/Seald_Placement <</Kind /MultiPage\n/Pages [${chosen.join(' ')}]`);
    });
  }
});

describe('cross-page seals on the fixture set', () => {
  const multiPage: FixtureName[] = ['cjk-contract', 'xref-stream', 'linearized', 'pages-300', 'rotated'];
  for (const name of multiPage) {
    it(`${name}: strips on every page, pdfsig and qpdf accept it`, async () => {
      const input = fs.readFileSync(await fixture(name));
      const count = FIXTURE_FACTS[name].pages!;
      const file = await sealTo(`cross-${name}`, input, { kind: 'cross-page' });
      await expectAccepted(file, 1);
      for (const n of [1, count]) {
        const img = await renderPage(file, n, DPI);
        const b = redBounds(img)!;
        expect(b, `page ${n}`).toBeDefined();
        expect(b.x + b.w, `page ${n}`).toBeGreaterThan(img.widthPts - 2);
        expect(b.w, `page ${n}`).toBeLessThanOrEqual(SEAL / 2 + 2);
      }
    });
  }

  it('one-page fixtures are refused with CROSS_PAGE_NEEDS_PAGES before anything is signed', async () => {
    for (const name of ['simple', 'hybrid', 'acroform', 'signed-by-other'] as const) {
      const input = fs.readFileSync(await fixture(name));
      const e = await sealDocument(bufferSource(input), org.seal, { kind: 'cross-page' }).catch((err: unknown) => err);
      expect((e as { code?: string }).code, name).toBe('CROSS_PAGE_NEEDS_PAGES');
    }
  });
});

describe('certified documents', () => {
  it('DocMDP P=2 takes a single-mark seal but refuses marks that are stamp annotations', async () => {
    const input = fs.readFileSync(await placementFixture('certified-p2'));
    const one = await sealDocument(bufferSource(input), org.seal, { page: 1, x: 200, y: 200 });
    expect(one.pages).toEqual([1]);
    // The one page says "Certified document…" and "…the certification": two hits, so two marks.
    const twice = { kind: 'keyword', keyword: 'ertifi', occurrence: 'all' } as const;
    const e = await sealDocument(bufferSource(input), org.seal, twice).catch((err: unknown) => err);
    expect(e).toMatchObject({ category: 'precondition', code: 'DOCUMENT_CERTIFIED_NO_ANNOTATIONS' });
  });
});
