/**
 * Placement planning without a token: page specs, how cross-page seals split pages into groups, and the marks planned
 * on real documents (rotated, cropped, mixed sizes, 120 pages), including the refusals a caller must see.
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { groupSizes, planPlacement, MIN_STRIP_POINTS, type Placement } from '../../src/engine/placements.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import { resolvePageSpec } from '../../src/pdf/page-spec.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { SealdError } from '../../src/errors.ts';
import { fixture, FIXTURE_FACTS, type FixtureName } from '../fixtures/index.ts';
import { popplerKeywordBoxes } from '../support/pdftotext.ts';
import { DISPLAYED_SIZES, placementFixture, type PlacementFixture } from '../fixtures/placement-fixtures.ts';

const SIZE = { defaultWidth: 119, defaultHeight: 119 };

function caught(f: () => unknown): SealdError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SealdError);
    return e as SealdError;
  }
  throw new Error('no error');
}

async function open(name: PlacementFixture): Promise<PdfDocument> {
  return PdfDocument.open(bufferSource(fs.readFileSync(await placementFixture(name))));
}

async function planError(doc: PdfDocument, placement: Placement): Promise<SealdError> {
  const e = await planPlacement(doc, placement, SIZE).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SealdError);
  return e as SealdError;
}

describe('page specs', () => {
  it('resolve lists, ranges, negative pages, all, odd and even to sorted distinct pages', () => {
    expect(resolvePageSpec('1-3,5', 10)).toEqual([1, 2, 3, 5]);
    expect(resolvePageSpec('5, 1-3, 2', 10)).toEqual([1, 2, 3, 5]);
    expect(resolvePageSpec('-1', 10)).toEqual([10]);
    expect(resolvePageSpec('-3--1', 10)).toEqual([8, 9, 10]);
    expect(resolvePageSpec('2--2', 5)).toEqual([2, 3, 4]);
    expect(resolvePageSpec('all', 3)).toEqual([1, 2, 3]);
    expect(resolvePageSpec('odd', 6)).toEqual([1, 3, 5]);
    expect(resolvePageSpec('EVEN', 5)).toEqual([2, 4]);
    expect(resolvePageSpec('1,-1', 1)).toEqual([1]);
  });

  it('refuse bad tokens, naming the token and the page count', () => {
    const cases: [string, number, RegExp][] = [
      ['0', 5, /"0": page 0 does not exist \(the document has 5 pages\)/],
      ['1-7', 5, /"1-7".*page 7 does not exist.*5 pages/],
      ['-6', 5, /page -6 does not exist/],
      ['3-1', 5, /"3-1": the range runs backwards/],
      ['1,x', 5, /"x": expected N/],
      ['1.5', 5, /"1.5"/],
      ['', 5, /empty/],
      ['even', 1, /selects no page.*1 page\)/],
    ];
    for (const [spec, count, message] of cases) {
      const e = caught(() => resolvePageSpec(spec, count));
      expect(e.code).toBe('BAD_PAGE_SPEC');
      expect(e.category).toBe('invalid-input');
      expect(e.message).toMatch(message);
    }
  });
});

describe('cross-page groups', () => {
  it('spread pages evenly over as few seals as the maximum allows, never leaving a sliver', () => {
    expect(groupSizes(4, 20)).toEqual([4]);
    expect(groupSizes(10, 4)).toEqual([4, 3, 3]);
    expect(groupSizes(9, 8)).toEqual([5, 4]);
    expect(groupSizes(120, 14)).toEqual([14, 14, 14, 13, 13, 13, 13, 13, 13]);
    for (const [count, max] of [[17, 5], [2, 2], [100, 7], [31, 30]] as const) {
      const sizes = groupSizes(count, max);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(count);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(max);
      expect(Math.min(...sizes)).toBeGreaterThanOrEqual(2);
      expect(sizes.length).toBe(Math.ceil(count / max));
    }
  });

  it('refuse a split that would need a one-page group', () => {
    expect(caught(() => groupSizes(3, 2)).code).toBe('CROSS_PAGE_SPLIT_IMPOSSIBLE');
    expect(caught(() => groupSizes(5, 1)).code).toBe('CROSS_PAGE_SPLIT_IMPOSSIBLE');
  });
});

describe('planned marks', () => {
  it('a one-page document asked for a cross-page seal is an INVALID_ARGUMENT naming the page count', async () => {
    const e = await planError(await open('one-page'), { kind: 'cross-page' });
    expect(e.category).toBe('invalid-input');
    expect(e.code).toBe('CROSS_PAGE_NEEDS_PAGES');
    expect(e.message).toMatch(/at least 2 pages, but only page 1 of the document's 1 page is selected/);
    const skipped = await planError(await open('rotations'), { kind: 'cross-page', pages: '1-2', skipFirst: true });
    expect(skipped.message).toMatch(/only page 2 of the document's 4 pages/);
  });

  it('120 pages: several groups of even size, strips that add up to the seal in each, at the right edge', async () => {
    const doc = await open('pages-120');
    const plan = await planPlacement(doc, { kind: 'cross-page' }, SIZE);
    expect(plan.kind).toBe('CrossPage');
    expect(plan.marks.map((m) => m.page.number)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    const perGroup = Math.floor(119 / MIN_STRIP_POINTS);
    const groups = Math.ceil(120 / perGroup);
    expect(groups).toBeGreaterThan(1);
    const sizes = new Map<number, number>();
    for (const m of plan.marks) sizes.set(m.group!, (sizes.get(m.group!) ?? 0) + 1);
    expect(sizes.size).toBe(groups);
    expect(Math.max(...sizes.values()) - Math.min(...sizes.values())).toBeLessThanOrEqual(1);
    for (const [group, count] of sizes) {
      const strips = plan.marks.filter((m) => m.group === group);
      expect(strips.map((m) => m.strip!.index)).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(strips.reduce((sum, m) => sum + m.displayed.width, 0)).toBeCloseTo(119, 6);
      for (const m of strips) {
        expect(m.displayed.x + m.displayed.width).toBeCloseTo(595.28, 6);
        expect(m.displayed.width).toBeGreaterThanOrEqual(MIN_STRIP_POINTS - 1e-9);
      }
    }
    const limited = await planPlacement(doc, { kind: 'cross-page', maxPages: 50, skipFirst: true, skipLast: true }, SIZE);
    expect(limited.marks).toHaveLength(118);
    expect(limited.marks[0]!.page.number).toBe(2);
    expect(new Set(limited.marks.map((m) => m.group)).size).toBe(Math.ceil(118 / Math.min(50, perGroup)));
    const wide = await planPlacement(doc, { kind: 'cross-page', pages: '1-10', maxPages: 4, minStripWidth: 1 }, SIZE);
    expect(wide.marks.map((m) => m.strip!.count)).toEqual([4, 4, 4, 4, 3, 3, 3, 3, 3, 3]);
  });

  it('cross-page strips sit at the displayed edge of each page, whatever its size, crop or rotation', async () => {
    for (const name of ['rotations', 'cropped', 'mixed-sizes'] as const) {
      const doc = await open(name);
      const sizes = DISPLAYED_SIZES[name];
      for (const edge of ['right', 'left', 'top', 'bottom'] as const) {
        const plan = await planPlacement(doc, { kind: 'cross-page', edge, width: 100, height: 60 }, SIZE);
        expect(plan.marks).toHaveLength(sizes.length);
        plan.marks.forEach((m, i) => {
          const [w, h] = sizes[i]!;
          const d = m.displayed;
          const thickness = (edge === 'left' || edge === 'right' ? 100 : 60) / sizes.length;
          if (edge === 'right') expect([d.x + d.width, d.width, d.y + d.height / 2]).toEqual([w, thickness, h / 2].map(near));
          if (edge === 'left') expect([d.x, d.width, d.y + d.height / 2]).toEqual([0, thickness, h / 2].map(near));
          if (edge === 'top') expect([d.y + d.height, d.height, d.x + d.width / 2]).toEqual([h, thickness, w / 2].map(near));
          if (edge === 'bottom') expect([d.y, d.height, d.x + d.width / 2]).toEqual([0, thickness, w / 2].map(near));
          // Inside the visible area (CropBox) in user space.
          const [cx0, cy0, cx1, cy1] = m.page.cropBox;
          const [x0, y0, x1, y1] = m.rect;
          expect(x0).toBeGreaterThanOrEqual(cx0 - 1e-6);
          expect(y0).toBeGreaterThanOrEqual(cy0 - 1e-6);
          expect(x1).toBeLessThanOrEqual(cx1 + 1e-6);
          expect(y1).toBeLessThanOrEqual(cy1 + 1e-6);
        });
      }
    }
  });

  it('multi-page marks: the same displayed spot on each page of the spec, and nowhere else', async () => {
    const doc = await open('rotations');
    const plan = await planPlacement(doc, { kind: 'multi-page', pages: '-3--1', x: 100, y: 120 }, SIZE);
    expect(plan.kind).toBe('MultiPage');
    expect(plan.marks.map((m) => m.page.number)).toEqual([2, 3, 4]);
    for (const m of plan.marks) expect(m.displayed).toEqual({ x: 100 - 59.5, y: 120 - 59.5, width: 119, height: 119 });
    const e = await planError(doc, { kind: 'multi-page', pages: '2-9', x: 100, y: 100 });
    expect(e.code).toBe('BAD_PAGE_SPEC');
    expect(e.message).toMatch(/"2-9".*4 pages/);
  });

  it('refuses a seal that does not fit along the edge, and a strip width the seal cannot give', async () => {
    const doc = await open('cropped');
    const along = await planError(doc, { kind: 'cross-page', along: 20 });
    expect(along.code).toBe('BAD_PLACEMENT');
    expect(along.message).toMatch(/does not fit page 1, which is 400×500 pt/);
    const thin = await planError(doc, { kind: 'cross-page', minStripWidth: 80 });
    expect(thin.code).toBe('CROSS_PAGE_SPLIT_IMPOSSIBLE');
    const max = await planError(doc, { kind: 'cross-page', maxPages: 1 });
    expect(max.message).toMatch(/max pages.*2 or more/);
  });

  it('a single position still plans exactly one mark', async () => {
    const doc = PdfDocument.open(bufferSource(fs.readFileSync(await fixture('pages-300'))));
    const plan = await planPlacement(doc, { page: 300, x: 100, y: 100 }, SIZE);
    expect(plan.kind).toBe('Position');
    expect(plan.marks.map((m) => m.page.number)).toEqual([300]);
  });
});

describe('keyword marks on the fixture set, against pdftotext', () => {
  const names: FixtureName[] = ['simple', 'cjk-contract', 'xref-stream', 'linearized', 'hybrid', 'acroform', 'signed-by-other', 'pages-300'];
  for (const name of names) {
    it(`${name}: the mark is centred on poppler's box of the fixture's text`, async () => {
      const file = await fixture(name);
      const { text, textPage = 1 } = FIXTURE_FACTS[name];
      const doc = PdfDocument.open(bufferSource(fs.readFileSync(file)));
      const boxes = await popplerKeywordBoxes(file, textPage, text!);
      expect(boxes.length).toBeGreaterThan(0);
      const plan = await planPlacement(doc, { kind: 'keyword', keyword: text!, pages: String(textPage), occurrence: 1 }, { defaultWidth: 40, defaultHeight: 40 });
      expect(plan.kind).toBe('Keyword');
      const [m] = plan.marks;
      expect(m!.page.number).toBe(textPage);
      const b = boxes[0]!;
      expect(Math.abs(m!.displayed.x + 20 - (b.x + b.width / 2))).toBeLessThan(1.5);
      expect(Math.abs(m!.displayed.y + 20 - (b.y + b.height / 2))).toBeLessThan(1.5);
    });
  }
});

function near(v: number) {
  return expect.closeTo(v, 6);
}
