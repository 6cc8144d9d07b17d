/**
 * The visual shadow check (src/engine/verify/visual-check.ts) on real seals (SoftHSM through the engine) and real
 * renders (poppler's pdftoppm, src/report/page-raster.ts): a later comment over blank space looks as signed outside
 * it; a later opaque annotation that paints over signed text is a shadow "hide" — allowed by the object analysis
 * (an annotation after an approval signature), refused by the pixels. pdftoppm is also run here on its own (on the
 * files, not through seald) to confirm that the text really disappears and the blank-space comment hides nothing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dict, name, PdfRef, PdfString } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { SignatureReport, VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import type { PageRasterizer, VisualCheckOptions } from '../../../src/engine/verify/visual-check.ts';
import { findPageRasterizer } from '../../../src/report/page-raster.ts';
import { fixture } from '../../fixtures/index.ts';
import { humanReport } from '../../../src/cli/commands/verify.ts';
import { htmlReport } from '../../../src/report/document-report.ts';
import { renderPage, type RenderedPage } from '../../support/render.ts';
import { comparePage } from '../../../src/engine/verify/visual-compare.ts';
import { findPage } from '../../../src/pdf/page-tree.ts';
import { addAnnotation, appendUpdate, open, stream } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let sealed: Buffer;
let dir: string;
const rasterizer = findPageRasterizer(process.env);

/** "Service Agreement", the simple fixture's title: 20 pt Helvetica-Bold at (72, 760). */
const TITLE = [66, 752, 300, 784];
/** Blank space in the middle of the page. */
const BLANK = [380, 400, 520, 460];

/** A /Square annotation with its own appearance: `paint` is the form's content over a BBox the size of `rect`. */
function square(rect: number[], paint: (w: number, h: number) => string) {
  const [w, h] = [rect[2]! - rect[0]!, rect[3]! - rect[1]!];
  const ap = stream(paint(w, h), { Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, w, h] });
  return { Type: name('Annot'), Subtype: name('Square'), Rect: rect, F: 4, Contents: PdfString.text('note'), ap };
}

function withAnnotation(bytes: Buffer, rect: number[], paint: (w: number, h: number) => string): Buffer {
  return appendUpdate(bytes, (doc, w) => {
    const { ap, ...entries } = square(rect, paint);
    addAnnotation(doc, w, 1, w.add(dict({ ...entries, AP: dict({ N: w.add(ap) }) })));
  });
}

/** Counts renders, and passes each to the real pdftoppm rasterizer. */
function counting(inner: PageRasterizer): PageRasterizer & { calls: number } {
  const wrapper = {
    calls: 0,
    rasterize: (...args: Parameters<PageRasterizer['rasterize']>) => {
      wrapper.calls++;
      return inner.rasterize(...args);
    },
  };
  return wrapper;
}

const verify = (bytes: Uint8Array, visual: VisualCheckOptions = { rasterizer }): Promise<VerificationReport> =>
  verifyDocument(bufferSource(bytes), { trustAnchors: sealer.anchors, visual });
const seal1 = (r: VerificationReport): SignatureReport => r.signatures.find((s) => s.revision === 2)!;

/** Dark pixels (any channel under 128) in a rectangle of PDF points, rendered independently by pdftoppm. */
function darkPixels(img: RenderedPage, [x0, y0, x1, y1]: number[]): number {
  const s = img.dpi / 72;
  let n = 0;
  for (let y = Math.floor((img.heightPts - y1!) * s); y < Math.ceil((img.heightPts - y0!) * s); y++) {
    for (let x = Math.floor(x0! * s); x < Math.ceil(x1! * s); x++) {
      const i = (y * img.width + x) * 3;
      if (img.rgb[i]! < 128 || img.rgb[i + 1]! < 128 || img.rgb[i + 2]! < 128) n++;
    }
  }
  return n;
}

async function rendered(bytes: Buffer, file: string): Promise<RenderedPage> {
  const p = path.join(dir, file);
  fs.writeFileSync(p, bytes);
  return renderPage(p, 1, 72);
}

beforeAll(async () => {
  if (rasterizer === undefined) throw new Error('pdftoppm (poppler-utils) is required: scripts/test-tools.mjs installs it');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-visual-'));
  sealer = await openSealer();
  sealed = await sealer.seal(fs.readFileSync(await fixture('simple')), 'org', { page: 1, x: 200, y: 200 });
});
afterAll(async () => {
  await sealer?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the visual check', () => {
  it('a comment over blank space: SAME, the signature VALID', async () => {
    const commented = withAnnotation(sealed, BLANK, (w, h) => `1 0 0 RG 2 w 1 1 ${w - 2} ${h - 2} re S`);
    const report = await verify(commented);
    expect(report.verdict).toBe('VALID');
    const visual = seal1(report).visualCheck!;
    expect(visual).toMatchObject({ result: 'SAME', pages: [1], differences: [] });
    // Independently: the comment drew ink where the page was blank, and the title is untouched.
    const [before, after] = [await rendered(sealed, 'sealed.pdf'), await rendered(commented, 'commented.pdf')];
    expect(darkPixels(before, BLANK)).toBe(0);
    expect(darkPixels(after, BLANK)).toBeGreaterThan(50);
    expect(darkPixels(after, TITLE)).toBe(darkPixels(before, TITLE));
  });

  it('an opaque annotation painted over the signed title: DIFFERENT, the signature INVALID', async () => {
    const attacked = withAnnotation(sealed, TITLE, (w, h) => `1 1 1 rg 0 0 ${w} ${h} re f`);
    // The object analysis alone allows it: an annotation after an approval signature, over no signature.
    const objectsOnly = await verify(attacked, {});
    expect(objectsOnly.verdict).toBe('VALID');
    expect(seal1(objectsOnly).visualCheck?.result).toBe('SKIPPED');

    const report = await verify(attacked);
    expect(report.verdict).toBe('INVALID');
    expect(report.indication).toBe('TOTAL-FAILED');
    const s = seal1(report);
    expect(s.changesAfter).toBe('NOT_ALLOWED');
    expect(s.changes.filter((c) => !c.allowed).map((c) => c.kind)).toEqual(['visual-difference']);
    expect(s.visualCheck?.result).toBe('DIFFERENT');
    const [difference] = s.visualCheck!.differences;
    expect(difference).toMatchObject({ page: 1, kind: 'hides-signed-content' });
    // The rectangle lies on the title (PDF units).
    const [x0, y0, x1, y1] = difference!.rect;
    expect(x0).toBeGreaterThanOrEqual(TITLE[0]!);
    expect(x1).toBeLessThanOrEqual(TITLE[2]!);
    expect(y0).toBeGreaterThanOrEqual(TITLE[1]!);
    expect(y1).toBeLessThanOrEqual(TITLE[3]!);
    expect(s.reasons.join(' ')).toMatch(/painted over by a later annotation/);
    // Independently: pdftoppm shows the title in the signed revision and nothing there in the final document.
    const [before, after] = [await rendered(sealed, 'sealed.pdf'), await rendered(attacked, 'attacked.pdf')];
    expect(darkPixels(before, TITLE)).toBeGreaterThan(100);
    expect(darkPixels(after, TITLE)).toBe(0);
    // What people read: the CLI's table and the HTML report (both languages) say so.
    expect(humanReport('attacked.pdf', report)).toMatch(/visual check\s+│?\s*DIFFERENT: page 1: signed content in \[/);
    const en = await htmlReport(bufferSource(attacked), report, { language: 'en', documentName: 'attacked.pdf' });
    expect(en).toContain('sealed content is covered or shows differently (a shadow attack)');
    expect(en).toContain('visualCheck DIFFERENT: page 1');
    const zh = await htmlReport(bufferSource(attacked), report, { language: 'zh', documentName: 'attacked.pdf' });
    expect(zh).toContain('签章时的内容被遮盖或显示不同（影子攻击）');
  });

  it('a highlight-like translucent annotation over the title hides nothing: SAME', async () => {
    const highlighted = appendUpdate(sealed, (doc, w) => {
      const [wd, ht] = [TITLE[2]! - TITLE[0]!, TITLE[3]! - TITLE[1]!];
      const gs = dict({ Type: name('ExtGState'), BM: name('Multiply') });
      const ap = stream(`/G gs 1 1 0 rg 0 0 ${wd} ${ht} re f`, { Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, wd, ht], Resources: dict({ ExtGState: dict({ G: gs }) }) });
      addAnnotation(doc, w, 1, w.add(dict({ Type: name('Annot'), Subtype: name('Highlight'), Rect: TITLE, F: 4, QuadPoints: [66, 784, 300, 784, 66, 752, 300, 752], AP: dict({ N: w.add(ap) }) })));
    });
    const report = await verify(highlighted);
    expect(seal1(report).visualCheck?.result).toBe('SAME');
    expect(report.verdict).toBe('VALID');
  });

  it('a form field filled after the seal, its own appearance regenerated: SAME, VALID', async () => {
    // The acroform fixture's "amount" field: its widget is given an appearance, the document sealed, then the value
    // changed and that same appearance stream rewritten in place (form-field-filled, appearance-updated).
    const page1Widget = (doc: ReturnType<typeof open>) =>
      (doc.resolve(doc.page(1).dict.get('Annots')) as PdfRef[]).find((a) => {
        const parent = doc.resolveDict(doc.resolveDict(a)!.get('Parent'));
        return (parent?.get('T') as PdfString | undefined)?.asText() === 'amount';
      })!;
    const shows = (value: string) => stream(`/Tx BMC BT /Helv 10 Tf 2 4 Td (${value}) Tj ET EMC`, { Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 200, 20] });
    let appearance!: PdfRef;
    const prepared = appendUpdate(fs.readFileSync(await fixture('acroform')), (doc, w) => {
      const widget = page1Widget(doc);
      w.update(widget, doc.resolveDict(widget)!.clone().set('AP', dict({ N: (appearance = w.add(shows('12,000.00 EUR'))) })));
    });
    const signed = await sealer.seal(prepared, 'org', { page: 1, x: 400, y: 150 });
    const filled = appendUpdate(signed, (doc, w) => {
      const field = doc.resolveDict(page1Widget(doc))!.get('Parent') as PdfRef;
      w.update(field, doc.resolveDict(field)!.clone().set('V', PdfString.text('13,000.00 EUR')));
      w.update(appearance, shows('13,000.00 EUR'));
    });
    const report = await verify(filled);
    expect(report.signatures[0]!.changes.map((c) => [c.kind, c.allowed])).toEqual([['form-field-filled', true], ['appearance-updated', true]]);
    expect(report.signatures[0]!.visualCheck).toMatchObject({ result: 'SAME', pages: [1] });
    expect(report.verdict).toBe('VALID');
  });

  it('no renderer, or switched off: SKIPPED with the reason', async () => {
    const commented = withAnnotation(sealed, BLANK, (w, h) => `0 0 1 RG 1 1 ${w - 2} ${h - 2} re S`);
    expect(seal1(await verify(commented, {})).visualCheck).toMatchObject({ result: 'SKIPPED', reason: expect.stringMatching(/no page renderer/) });
    const off = counting(rasterizer!);
    expect(seal1(await verify(commented, { rasterizer: off, enabled: false })).visualCheck).toMatchObject({ result: 'SKIPPED', reason: expect.stringMatching(/switched off/) });
    expect(off.calls).toBe(0);
  });

  it('a budget too small: BUDGET_EXCEEDED, never a guess', async () => {
    const attacked = withAnnotation(sealed, TITLE, (w, h) => `1 1 1 rg 0 0 ${w} ${h} re f`);
    const timed = seal1(await verify(attacked, { rasterizer, budgetMs: 1 })).visualCheck!;
    expect(timed.result).toBe('BUDGET_EXCEEDED');
    expect(timed.reason).toMatch(/time budget \(1 ms\)/);
    const paged = seal1(await verify(attacked, { rasterizer, maxPages: 0 })).visualCheck!;
    expect(paged.result).toBe('BUDGET_EXCEEDED');
    expect(paged.reason).toMatch(/page budget/);
  });

  it('a document whose later changes cannot alter a page pays nothing: NOT_NEEDED, no render', async () => {
    const twice = await sealer.seal(sealed, 'personal', { page: 1, x: 420, y: 200 });
    const watched = counting(rasterizer!);
    const report = await verify(twice, { rasterizer: watched });
    expect(report.verdict).toBe('VALID');
    expect(report.signatures.map((s) => s.visualCheck?.result)).toEqual(['NOT_NEEDED', 'NOT_NEEDED']);
    expect(watched.calls).toBe(0);
  });
});

describe('comparePage on real renders', () => {
  it('a difference outside every expected area is reported with its rectangle; inside one it is not', async () => {
    // Page content redrawn by a later revision (a forbidden change the object analysis refuses on its own): here it
    // stands for whatever a renderer shows that the object analysis did not see.
    const redrawn = appendUpdate(sealed, (doc, w) => {
      const page = doc.page(1);
      const extra = w.add(stream('BT /F9 14 Tf 380 420 Td (Pay Mallory) Tj ET', {}));
      const font = w.add(dict({ Type: name('Font'), Subtype: name('Type1'), BaseFont: name('Helvetica') }));
      const resources = doc.resolveDict(page.dict.get('Resources'))!.clone();
      resources.set('Font', dict({ ...Object.fromEntries(doc.resolveDict(resources.get('Font'))?.entries ?? []), F9: font }));
      const contents = page.dict.get('Contents');
      w.update(page.ref, page.dict.clone().set('Contents', [...(Array.isArray(contents) ? contents : [contents!]), extra]).set('Resources', resources));
    });
    const raster = (bytes: Buffer, hide: boolean) => rasterizer!.rasterize(bufferSource(bytes), bytes.length, 1, { dpi: 72, hideAnnotations: hide, timeoutMs: 10_000 });
    const [s, c, f] = [await raster(sealed, false), await raster(sealed, true), await raster(redrawn, false)];
    const page = findPage(open(redrawn), 1);
    const [difference, ...more] = comparePage(page, [], s!, c!, f!);
    expect(more).toEqual([]);
    expect(difference).toMatchObject({ page: 1, kind: 'outside-changes' });
    const [x0, y0, x1, y1] = difference!.rect;
    expect(x0).toBeGreaterThanOrEqual(378);
    expect(y0).toBeGreaterThanOrEqual(414);
    expect(x1).toBeLessThanOrEqual(480);
    expect(y1).toBeLessThanOrEqual(436);
    // Expected there (as if an annotation there had changed): nothing to report.
    expect(comparePage(page, [BLANK as [number, number, number, number]], s!, c!, f!)).toEqual([]);
    // And the same page compared with itself: nothing.
    expect(comparePage(page, [], s!, c!, s!)).toEqual([]);
  });
});
