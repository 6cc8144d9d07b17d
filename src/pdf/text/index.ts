/**
 * Keyword location (issue 3, keyword seals): where a text such as `乙方（盖章）` appears on a document's pages, as
 * rectangles in displayed page coordinates (the same as PositionPlacement: points from the lower-left corner of the
 * visible area, /Rotate applied). The rules are in docs/placement-keyword.md.
 *
 * Only the pages asked for are interpreted, one at a time, yielding to the event loop before each page and checking
 * the caller's AbortSignal; each page runs under token and byte limits, so a hostile content stream cannot hold the
 * server for longer than one page's budget.
 * Damaged content is skipped where it breaks (as viewers do) and reported in `skipped`; a page over a limit fails the
 * search with a 'too-large' error rather than silently answering "not found".
 */
import type { PdfDocument } from '../document.ts';
import type { PdfObject, PdfStream } from '../objects.ts';
import { displayedSize } from '../placement.ts';
import { SealdError } from '../../errors.ts';
import { FontCache } from './fonts.ts';
import { buildLines } from './lines.ts';
import { fold, matchLine } from './match.ts';
import { DEFAULT_TEXT_LIMITS, LimitExceeded, pageGlyphs, type TextLimits } from './page-text.ts';

export { DEFAULT_TEXT_LIMITS, type TextLimits } from './page-text.ts';
export { toDisplay } from './display.ts';

export interface TextHit {
  page: number;
  rect: { x: number; y: number; width: number; height: number };
  text: string;
  /** The line the hit is on, as drawn, cut to CONTEXT_CHARS either side of the hit (an ellipsis marks a cut). */
  context: string;
}

/** Characters of a hit's line kept on either side of it in TextHit.context. */
const CONTEXT_CHARS = 60;

export interface FindTextOptions {
  /** 1-based page numbers; all pages when absent. */
  pages?: readonly number[];
  signal?: AbortSignal;
  /** Override DEFAULT_TEXT_LIMITS (tests, operators with unusual documents). */
  limits?: Partial<TextLimits>;
}

export interface TextSearchReport {
  hits: TextHit[];
  /** What could not be read, per page: damaged streams, unsupported filters, recursive forms. */
  skipped: { page: number; reason: string }[];
}

/** Every occurrence of `needle`, in page order then reading order; [] when there is none. */
export async function findText(doc: PdfDocument, needle: string, options: FindTextOptions = {}): Promise<TextHit[]> {
  return (await searchText(doc, needle, options)).hits;
}

export async function searchText(doc: PdfDocument, needle: string, options: FindTextOptions = {}): Promise<TextSearchReport> {
  const wanted = fold(needle);
  if (wanted === '') {
    throw new SealdError('invalid-input', 'EMPTY_KEYWORD', 'the keyword is empty (or only white space): give the text to look for');
  }
  const total = doc.pageCount;
  const pages = options.pages ? [...new Set(options.pages)].sort((a, b) => a - b) : Array.from({ length: total }, (_, i) => i + 1);
  const limits = { ...DEFAULT_TEXT_LIMITS, ...options.limits };
  const cancelled = () => {
    if (options.signal?.aborted) throw new SealdError('cancelled', 'CANCELLED', 'the keyword search was cancelled');
  };
  const ctx = {
    doc,
    fonts: new FontCache((o: PdfObject | undefined) => doc.resolve(o)),
    limits,
    forms: new Map<PdfStream, Uint8Array>(),
  };
  const report: TextSearchReport = { hits: [], skipped: [] };
  for (const number of pages) {
    // One page is the unit of work: yield first, so a cancellation or deadline (timers, the client) is seen.
    await new Promise<void>((resolve) => setImmediate(resolve));
    cancelled();
    const page = doc.page(number);
    let glyphs;
    try {
      glyphs = pageGlyphs(ctx, page, (reason) => report.skipped.push({ page: number, reason }));
    } catch (e) {
      if (!(e instanceof LimitExceeded)) throw e;
      throw new SealdError(
        'too-large',
        'PAGE_CONTENT_TOO_COMPLEX',
        `page ${number} is too complex to search for text (${e.message}; limits: ${limits.maxTokensPerPage} tokens, ` +
          `${limits.maxContentBytes} bytes per page): limit the search to other pages, or use a position placement`,
      );
    }
    // Text wholly outside the visible area (cropped away) is not on the page the reader sees.
    const [width, height] = displayedSize(page);
    const visible = glyphs.filter((g) => g.box.x1 > 0 && g.box.y1 > 0 && g.box.x0 < width && g.box.y0 < height);
    const pageHits: TextHit[] = [];
    for (const line of buildLines(visible)) {
      for (const m of matchLine(line, wanted)) {
        const covered = line.slice(m.first, m.last + 1);
        const x0 = Math.min(...covered.map((g) => g.box.x0));
        const y0 = Math.min(...covered.map((g) => g.box.y0));
        const x1 = Math.max(...covered.map((g) => g.box.x1));
        const y1 = Math.max(...covered.map((g) => g.box.y1));
        const text = covered.map((g) => g.text).join('');
        const before = [...line.slice(0, m.first).map((g) => g.text).join('')];
        const after = [...line.slice(m.last + 1).map((g) => g.text).join('')];
        const context =
          (before.length > CONTEXT_CHARS ? `…${before.slice(-CONTEXT_CHARS).join('')}` : before.join('')) +
          text +
          (after.length > CONTEXT_CHARS ? `${after.slice(0, CONTEXT_CHARS).join('')}…` : after.join(''));
        pageHits.push({ page: number, rect: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, text, context: context.trim() });
      }
    }
    report.hits.push(...pageHits.sort(readingOrder));
  }
  return report;
}

/** Top to bottom; left to right within a line (boxes overlapping vertically by half the smaller height). */
function readingOrder(a: TextHit, b: TextHit): number {
  const overlap = Math.min(a.rect.y + a.rect.height, b.rect.y + b.rect.height) - Math.max(a.rect.y, b.rect.y);
  if (overlap > Math.min(a.rect.height, b.rect.height) / 2) return a.rect.x - b.rect.x;
  return b.rect.y + b.rect.height - (a.rect.y + a.rect.height);
}
