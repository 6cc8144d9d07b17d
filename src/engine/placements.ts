/**
 * Placement planning: from what a caller asks (one position, the same spot on many pages, a cross-page seal cut into
 * strips, a keyword) to the marks a seal writes, each a rectangle on one page plus the part of the seal it shows.
 * Sealing and the Locate preview run exactly this code, so a preview shows what a seal would do.
 *
 * Every position is in PDF points on the page as the reader sees it: the visible area (CropBox) after /Rotate, from
 * its lower-left corner. Conversions to default user space happen in src/pdf/placement.ts.
 */
import { PdfDocument, type PageInfo } from '../pdf/document.ts';
import type { ByteSource } from '../pdf/source.ts';
import { resolvePageSpec } from '../pdf/page-spec.ts';
import {
  anchoredCentre,
  centredMarkRect,
  displayedRectToUserSpace,
  displayedSize,
  type Anchor,
  type DisplayedRect,
  type Length,
} from '../pdf/placement.ts';
import type { Mark, PlacementKind } from '../pdf/signature.ts';
import type { TextHit } from '../pdf/text/index.ts';
import { SealdError } from '../errors.ts';

/** 普通签章: one mark centred on (x, y) of one page. */
export interface PositionPlacement {
  kind?: 'position';
  /** 1-based page number. */
  page: number;
  x: number;
  y: number;
  width?: number;
  height?: number;
}

/** 多页签章: the same mark, centred on (x, y), on every page of a page spec (`1-3,5`, `-1`, `all`, `odd`, `even`). */
export interface MultiPagePlacement {
  kind: 'multi-page';
  pages: string;
  x: number;
  y: number;
  width?: number;
  height?: number;
}

export type Edge = 'right' | 'left' | 'top' | 'bottom';

/** 骑缝章: the seal cut into strips, one per page, at a page edge; stacked pages show the whole seal. */
export interface CrossPagePlacement {
  kind: 'cross-page';
  /** Page spec of the pages to seal across; default all. */
  pages?: string;
  /** Default right. */
  edge?: Edge;
  /** Centre of the seal along the edge (y for left/right, x for top/bottom), in points; default each page's middle. */
  along?: number;
  /** The most pages one seal spans; more pages start further full seals. Default: as many as the strip width allows. */
  maxPages?: number;
  /** The least strip width in points (a seal is never cut thinner); default MIN_STRIP_POINTS. */
  minStripWidth?: number;
  /** Leave out the document's first page (a cover) / last page. */
  skipFirst?: boolean;
  skipLast?: boolean;
  width?: number;
  height?: number;
}

/**
 * Which hits of a keyword get a mark: every one, the first, the last, the n-th (1-based), or the chosen ones
 * (1-based numbers in the list Locate shows: page order, then reading order).
 */
export type Occurrence = 'all' | 'first' | 'last' | number | { hits: readonly number[] };

/** 关键字签章: a mark centred on a text found in the document, moved by (dx, dy). */
export interface KeywordPlacement {
  kind: 'keyword';
  keyword: string;
  /** Default first. */
  occurrence?: Occurrence;
  /** Page spec to search; default every page. */
  pages?: string;
  dx?: number;
  dy?: number;
  width?: number;
  height?: number;
}

/**
 * A mark on every page of a page spec at an anchor of the page as displayed plus margins (src/pdf/placement.ts
 * anchoredCentre): `bottom-right` with 20 mm margins is 20 mm from the right and bottom edges of every page, whatever
 * its size, rotation or crop box.
 */
export interface RelativePlacement {
  kind: 'relative';
  pages: string;
  anchor: Anchor;
  marginX?: Length;
  marginY?: Length;
  width?: number;
  height?: number;
}

export type { Anchor, Length };

export type Placement = PositionPlacement | MultiPagePlacement | CrossPagePlacement | KeywordPlacement | RelativePlacement;

/** The seal's default mark size, in points. */
export interface SealSize {
  defaultWidth: number;
  defaultHeight: number;
}

export interface PlannedMark extends Mark {
  /** Where the mark is on the page as displayed. */
  displayed: DisplayedRect;
  /** For a cross-page seal: which strip of its group (0-based, left to right or top to bottom) and how many. */
  strip?: { index: number; count: number };
  /** For a cross-page seal: which full seal (0-based) the strip belongs to. */
  group?: number;
}

export interface PlacementPlan {
  kind: PlacementKind;
  marks: PlannedMark[];
  /** For a keyword: every hit on the searched pages, in the order their numbers count, and whether a mark is on it. */
  hits?: (TextHit & { chosen: boolean })[];
}

/** Default least strip width: 3 mm. Thinner strips are hard to match up by eye. */
export const MIN_STRIP_POINTS = (3 / 25.4) * 72;

export async function planPlacement(
  doc: PdfDocument,
  placement: Placement,
  size: SealSize,
  signal?: AbortSignal,
): Promise<PlacementPlan> {
  switch (placement.kind) {
    case undefined:
    case 'position': {
      const page = doc.page(placement.page);
      return { kind: 'Position', marks: [centredMark(page, placement.x, placement.y, sealSize(placement, size))] };
    }
    case 'multi-page': {
      const pages = resolvePageSpec(placement.pages, doc.pageCount);
      const wh = sealSize(placement, size);
      return { kind: 'MultiPage', marks: pages.map((n) => centredMark(doc.page(n), placement.x, placement.y, wh)) };
    }
    case 'cross-page':
      return { kind: 'CrossPage', marks: crossPageMarks(doc, placement, sealSize(placement, size)) };
    case 'keyword':
      return { kind: 'Keyword', ...(await keywordMarks(doc, placement, sealSize(placement, size), signal)) };
    case 'relative': {
      const pages = resolvePageSpec(placement.pages, doc.pageCount);
      const [width, height] = sealSize(placement, size);
      checkSize(width, height);
      const zero: Length = { value: 0, unit: 'pt' };
      const margin = { x: placement.marginX ?? zero, y: placement.marginY ?? zero };
      const marks = pages.map((n) => {
        const page = doc.page(n);
        const centre = anchoredCentre(page, placement.anchor, margin, width, height);
        return centredMark(page, centre.x, centre.y, [width, height]);
      });
      return { kind: pages.length === 1 ? 'Position' : 'MultiPage', marks };
    }
  }
}

/** The Locate preview: the marks a seal with this placement would write, without signing anything. */
export async function locateMarks(
  source: ByteSource,
  placement: Placement,
  size: SealSize,
  signal?: AbortSignal,
): Promise<{ plan: PlacementPlan; pageCount: number }> {
  const doc = PdfDocument.open(source);
  const plan = await planPlacement(doc, placement, size, signal);
  return { plan, pageCount: doc.pageCount };
}

function sealSize(p: { width?: number; height?: number }, size: SealSize): [number, number] {
  return [p.width ?? size.defaultWidth, p.height ?? size.defaultHeight];
}

function centredMark(page: PageInfo, x: number, y: number, [width, height]: [number, number]): PlannedMark {
  const rect = centredMarkRect(page, { x, y, width, height });
  return { page, rect, displayed: { x: x - width / 2, y: y - height / 2, width, height } };
}

// --- 骑缝章 -----------------------------------------------------------------------------------------------------------

/**
 * How many pages each full seal spans: `count` pages spread evenly over as few groups as `maxPerGroup` allows, the
 * larger groups first (10 pages, at most 4 per seal → 4, 3, 3, never 4, 4, 2). A group of one page would be no
 * cross-page seal at all, so a split that needs one is refused.
 */
export function groupSizes(count: number, maxPerGroup: number): number[] {
  const groups = Math.ceil(count / maxPerGroup);
  const base = Math.floor(count / groups);
  if (count < 2 || maxPerGroup < 2 || base < 2) {
    throw new SealdError(
      'invalid-input',
      'CROSS_PAGE_SPLIT_IMPOSSIBLE',
      `cannot spread ${count} page${count === 1 ? '' : 's'} over cross-page seals of 2 to ${maxPerGroup} pages each: ` +
        'allow more pages per seal (max pages, or a smaller least strip width) or select other pages',
    );
  }
  const extra = count % groups;
  return Array.from({ length: groups }, (_, i) => base + (i < extra ? 1 : 0));
}

function crossPageMarks(doc: PdfDocument, p: CrossPagePlacement, [width, height]: [number, number]): PlannedMark[] {
  const pageCount = doc.pageCount;
  let pages = resolvePageSpec(p.pages ?? 'all', pageCount);
  if (p.skipFirst) pages = pages.filter((n) => n !== 1);
  if (p.skipLast) pages = pages.filter((n) => n !== pageCount);
  if (pages.length < 2) {
    throw new SealdError(
      'invalid-input',
      'CROSS_PAGE_NEEDS_PAGES',
      `a cross-page seal spans at least 2 pages, but ${pages.length === 0 ? 'no page' : `only page ${pages[0]}`} ` +
        `of the document's ${pageCount} page${pageCount === 1 ? '' : 's'} is selected`,
    );
  }
  checkSize(width, height);
  const edge = p.edge ?? 'right';
  const vertical = edge === 'right' || edge === 'left';
  // The seal is cut across the edge: vertical slices for left/right, horizontal ones for top/bottom.
  const cut = vertical ? width : height;
  const minStrip = p.minStripWidth ?? MIN_STRIP_POINTS;
  if (!(minStrip > 0)) throw badPlacement('the least strip width must be a positive number of points');
  const byWidth = Math.floor(cut / minStrip + 1e-9);
  if (p.maxPages !== undefined && (!Number.isInteger(p.maxPages) || p.maxPages < 2)) {
    throw badPlacement(`max pages per cross-page seal must be an integer of 2 or more, not ${p.maxPages}`);
  }
  const maxPerGroup = Math.min(p.maxPages ?? Infinity, byWidth);
  const sizes = groupSizes(pages.length, maxPerGroup);

  const marks: PlannedMark[] = [];
  let next = 0;
  sizes.forEach((count, group) => {
    const thickness = cut / count;
    for (let index = 0; index < count; index++) {
      const page = doc.page(pages[next++]!);
      const [dw, dh] = displayedSize(page);
      const edgeLength = vertical ? dh : dw;
      const depth = vertical ? dw : dh;
      const span = vertical ? height : width;
      const centre = p.along ?? edgeLength / 2;
      if (!Number.isFinite(centre) || centre - span / 2 < -1e-6 || centre + span / 2 > edgeLength + 1e-6 || thickness > depth) {
        throw badPlacement(
          `the cross-page seal (${round(width)}×${round(height)} pt) centred at ${round(centre)} pt along the ${edge} edge ` +
            `does not fit page ${page.number}, which is ${round(dw)}×${round(dh)} pt as displayed`,
        );
      }
      const displayed: DisplayedRect = vertical
        ? { x: edge === 'right' ? dw - thickness : 0, y: centre - height / 2, width: thickness, height }
        : { x: centre - width / 2, y: edge === 'top' ? dh - thickness : 0, width, height: thickness };
      // Strip i shows the i-th slice: from the left for left/right edges, from the top for top/bottom ones.
      const window = vertical
        ? { sealWidth: width, sealHeight: height, x: index * thickness, y: 0, width: thickness, height }
        : { sealWidth: width, sealHeight: height, x: 0, y: height - (index + 1) * thickness, width, height: thickness };
      marks.push({
        page,
        rect: displayedRectToUserSpace(page, displayed),
        window,
        displayed,
        strip: { index, count },
        group,
      });
    }
  });
  return marks;
}

// --- 关键字签章 -------------------------------------------------------------------------------------------------------

async function keywordMarks(
  doc: PdfDocument,
  p: KeywordPlacement,
  wh: [number, number],
  signal: AbortSignal | undefined,
): Promise<{ marks: PlannedMark[]; hits: (TextHit & { chosen: boolean })[] }> {
  if (p.keyword.trim() === '') throw badPlacement('the keyword is empty');
  const pageCount = doc.pageCount;
  const pages = p.pages === undefined ? undefined : resolvePageSpec(p.pages, pageCount);
  // Loaded on first use: the text finder (content streams, fonts, CMaps) is no part of the other placements' path.
  const { findText } = await import('../pdf/text/index.ts');
  const hits = await findText(doc, p.keyword, { ...(pages ? { pages } : {}), ...(signal ? { signal } : {}) });
  const searched = p.pages === undefined ? `any of the document's ${pageCount} page${pageCount === 1 ? '' : 's'}` : `pages ${p.pages} (of ${pageCount})`;
  if (hits.length === 0) {
    throw new SealdError('not-found', 'KEYWORD_NOT_FOUND', `the keyword "${p.keyword}" is not on ${searched}`);
  }
  // Page order, then reading order within a page (the sort is stable): the order hit numbers count in.
  const ordered = [...hits].sort((a, b) => a.page - b.page);
  const chosen = chooseHits(ordered, p.occurrence ?? 'first', p.keyword, searched);
  const dx = p.dx ?? 0;
  const dy = p.dy ?? 0;
  const marks = [...chosen].sort((a, b) => a - b).map((i) => {
    const hit = ordered[i]!;
    return centredMark(doc.page(hit.page), hit.rect.x + hit.rect.width / 2 + dx, hit.rect.y + hit.rect.height / 2 + dy, wh);
  });
  return { marks, hits: ordered.map((hit, i) => ({ ...hit, chosen: chosen.has(i) })) };
}

/** The 0-based indexes in `ordered` that an occurrence chooses. */
function chooseHits(ordered: readonly TextHit[], occurrence: Occurrence, keyword: string, searched: string): Set<number> {
  if (occurrence === 'all') return new Set(ordered.keys());
  if (occurrence === 'first') return new Set([0]);
  if (occurrence === 'last') return new Set([ordered.length - 1]);
  const numbers = typeof occurrence === 'number' ? [occurrence] : occurrence.hits;
  if (numbers.length === 0) throw badPlacement('choose at least one hit of the keyword');
  const chosen = new Set<number>();
  for (const n of numbers) {
    if (!Number.isInteger(n) || n < 1) throw badPlacement(`occurrence must be all, first, last or a number ≥ 1, not ${n}`);
    if (n > ordered.length) {
      throw new SealdError(
        'not-found',
        'KEYWORD_NOT_FOUND',
        `the keyword "${keyword}" occurs ${ordered.length} time${ordered.length === 1 ? '' : 's'} on ${searched}, so there is no occurrence ${n}`,
      );
    }
    chosen.add(n - 1);
  }
  return chosen;
}

function checkSize(width: number, height: number): void {
  if (!(width > 0 && height > 0 && width <= 14400 && height <= 14400)) {
    throw badPlacement(`seal size ${width}×${height} pt is not between 0 and 14400`);
  }
}

function badPlacement(message: string): SealdError {
  return new SealdError('invalid-input', 'BAD_PLACEMENT', message);
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
