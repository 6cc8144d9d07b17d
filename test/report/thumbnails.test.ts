/**
 * The report's page thumbnails (src/report/thumbnails.ts): for each seal, the pages it marks as the signed revision
 * shows them, rendered by poppler's pdftoppm, with the seal's rectangle; a cross-page seal's pages side by side; page
 * outlines when there is no renderer or no time left. The rectangles are checked against the placement asked for and
 * the rendered pixels against the seal red that poppler draws there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationReport } from '../../src/engine/verify/report.ts';
import { verifyDocument } from '../../src/engine/verify/verify.ts';
import type { PageInfo } from '../../src/pdf/document.ts';
import { PdfDict, PdfRef } from '../../src/pdf/objects.ts';
import { displayedRectToUserSpace, userSpaceToDisplayedRect, type DisplayedRect } from '../../src/pdf/placement.ts';
import { decodePng } from '../../src/pdf/png.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { htmlReport } from '../../src/report/document-report.ts';
import { findPageRenderer, THUMBNAIL_PIXELS } from '../../src/report/page-render.ts';
import { RevisionDocuments } from '../../src/report/revision-documents.ts';
import { signatureThumbnails, type PageThumbnail } from '../../src/report/thumbnails.ts';
import { openSealer, type Sealer } from '../engine/verify/sealer.ts';
import { reportDocuments, type ReportDocuments } from './documents.ts';

let sealer: Sealer;
let docs: ReportDocuments;
const reports = new Map<keyof ReportDocuments, VerificationReport>();
const renderer = findPageRenderer(process.env);

beforeAll(async () => {
  sealer = await openSealer('seald-thumbnails-');
  docs = await reportDocuments(sealer);
  for (const name of ['twoSeals', 'crossPage'] as const) {
    reports.set(name, await verifyDocument(bufferSource(docs[name]), { trustAnchors: sealer.anchors }));
  }
}, 120_000);
afterAll(async () => {
  await sealer?.close();
});

async function thumbnailsOf(name: 'twoSeals' | 'crossPage', options: Parameters<typeof signatureThumbnails>[2]) {
  const opened = (await RevisionDocuments.open(bufferSource(docs[name])))!;
  return signatureThumbnails(opened, reports.get(name)!, options);
}

/** Seal-red pixels of a thumbnail inside a displayed rectangle (points), grown by `grow` points on each side. */
function redIn(t: PageThumbnail, r: DisplayedRect, grow = 0): number {
  const png = decodePng(Buffer.from(t.image!.split(',')[1]!, 'base64'));
  const sx = png.width / t.width;
  const sy = png.height / t.height;
  const x0 = Math.max(0, Math.floor((r.x - grow) * sx));
  const x1 = Math.min(png.width, Math.ceil((r.x + r.width + grow) * sx));
  const y0 = Math.max(0, Math.floor((t.height - r.y - r.height - grow) * sy));
  const y1 = Math.min(png.height, Math.ceil((t.height - r.y + grow) * sy));
  let red = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * png.width + x) * 3;
      if (png.rgb[i]! > 150 && png.rgb[i + 1]! < 110 && png.rgb[i + 2]! < 110) red++;
    }
  }
  return red;
}

describe('page thumbnails with the seal marked', () => {
  it('two seals: each on page 3 where it was placed, rendered as its own revision shows the page', async () => {
    expect(renderer, 'pdftoppm (poppler-utils) is a test dependency').toBeDefined();
    const thumbnails = await thumbnailsOf('twoSeals', { renderer });
    const [first, second] = reports.get('twoSeals')!.signatures.map((s) => thumbnails.get(s.field)!);
    for (const [t, centreX] of [[first!, 180], [second!, 420]] as const) {
      expect(t.morePages).toBe(0);
      expect(t.pages.map((p) => p.page)).toEqual([3]);
      const page = t.pages[0]!;
      expect(page.marks).toHaveLength(1);
      const mark = page.marks[0]!;
      expect(mark.x + mark.width / 2).toBeCloseTo(centreX, 0);
      expect(mark.y + mark.height / 2).toBeCloseTo(200, 0);
      const png = decodePng(Buffer.from(page.image!.split(',')[1]!, 'base64'));
      expect(Math.max(png.width, png.height)).toBe(THUMBNAIL_PIXELS);
      expect(png.width / png.height).toBeCloseTo(page.width / page.height, 1);
      expect(redIn(page, mark)).toBeGreaterThan(100);
    }
    // 甲方's thumbnail is the page as 甲方 signed it: 乙方's seal, added in the next revision, is not on it.
    const second3 = second!.pages[0]!;
    expect(redIn(first!.pages[0]!, second3.marks[0]!)).toBe(0);
    expect(redIn(second3, first!.pages[0]!.marks[0]!)).toBeGreaterThan(100);
  }, 60_000);

  it('a cross-page seal: one strip on each page, at its right edge, side by side in the page', async () => {
    const report = reports.get('crossPage')!;
    const t = (await thumbnailsOf('crossPage', { renderer })).get(report.signatures[0]!.field)!;
    expect(t.pages.map((p) => p.page)).toEqual([1, 2, 3]);
    let total = 0;
    for (const page of t.pages) {
      expect(page.marks).toHaveLength(1);
      const strip = page.marks[0]!;
      expect(strip.x + strip.width).toBeCloseTo(page.width, 0);
      expect(strip.width).toBeLessThan(60);
      const red = redIn(page, strip, 2);
      expect(red).toBeGreaterThan(20);
      // Nothing red elsewhere on the page: the strip is all of the seal there.
      expect(redIn(page, { x: 0, y: 0, width: page.width, height: page.height })).toBe(red);
      total += strip.width;
    }
    expect(total).toBeGreaterThan(100); // the strips add up to a whole seal's width (119 pt)

    const page = await htmlReport(bufferSource(docs.crossPage), report, { language: 'zh', documentName: 'c.pdf', pageRenderer: renderer });
    expect(page.match(/<div class="thumbnail">/g)).toHaveLength(3);
    expect(page.match(/<img class="page-image" src="data:image\/png;base64,/g)).toHaveLength(3);
    expect(page).toContain('骑缝章：各页上的部分并排显示');
    expect(page).not.toContain('页面未能渲染');
  }, 60_000);

  it('without a renderer, or with no time left: page outlines with the rectangles, and the page says so', async () => {
    const report = reports.get('twoSeals')!;
    for (const options of [{}, { renderer, budgetMs: 0 }]) {
      const thumbnails = await thumbnailsOf('twoSeals', options);
      const pages = [...thumbnails.values()].flatMap((t) => t.pages);
      expect(pages).toHaveLength(2);
      expect(pages.every((p) => p.image === undefined && p.marks.length === 1)).toBe(true);
    }
    const page = await htmlReport(bufferSource(docs.twoSeals), report, { language: 'en', documentName: 'a.pdf' });
    expect(page.match(/<div class="page page-outline"/g)).toHaveLength(2);
    expect(page).toContain('The page could not be rendered: its outline, with the position of the seal.');
    expect(page).toMatch(/<span class="seal-rect" style="left: [\d.]+%; top: [\d.]+%; width: [\d.]+%; height: [\d.]+%"><\/span>/);
  });

  it('a rectangle on a rotated, cropped page comes back as the reader sees it', () => {
    for (const rotate of [0, 90, 180, 270]) {
      const page: PageInfo = { number: 1, ref: new PdfRef(1, 0), dict: new PdfDict(), mediaBox: [0, 0, 612, 792], cropBox: [20, 30, 600, 780], rotate };
      const shown = { x: 50, y: 70, width: 120, height: 80 };
      const back = userSpaceToDisplayedRect(page, displayedRectToUserSpace(page, shown));
      for (const key of ['x', 'y', 'width', 'height'] as const) expect(back[key], `${rotate} ${key}`).toBeCloseTo(shown[key], 6);
    }
  });
});
