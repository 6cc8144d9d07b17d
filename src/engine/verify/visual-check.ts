/**
 * The visual check for shadow attacks: when the object analysis let through a change after a signature that can
 * alter what a page shows (an annotation added, modified or removed; a form field filled), render each page it
 * touches as the signed revision showed it and as the final document shows it, and compare (visual-compare.ts).
 * ISO 32000-1 §7.5.6 lets every incremental update redefine objects; EU DSS compares the signed revision's rendering
 * with the final document's for the same reason ("visual difference", its shadow-attack checks): what a signer saw
 * must still be what a reader sees, but for the annotations the change analysis reported.
 *
 * The engine renders nothing itself: the caller hands it a PageRasterizer (the CLI and the server pass pdftoppm's,
 * src/report/page-raster.ts), as it hands the seal a Signer — the engine imports neither processes nor the report.
 * Documents whose changes cannot alter a page (none, signatures, DSS, metadata) pay nothing: no renderer is started.
 */
import type { PdfDocument } from '../../pdf/document.ts';
import type { Budget } from '../../pdf/limits.ts';
import { findPage, type PageInfo } from '../../pdf/page-tree.ts';
import type { ByteSource } from '../../pdf/source.ts';
import type { Change } from './report.ts';
import { changedAnnotationAreas } from './visual-areas.ts';
import { comparePage, type PageRaster } from './visual-compare.ts';
import type { VisualCheckReport, VisualDifference } from './visual-report.ts';

export type { PageRaster } from './visual-compare.ts';
export type { VisualCheckReport, VisualCheckResult, VisualDifference } from './visual-report.ts';

/** 72 dpi: one pixel per PDF unit, enough for body text, and a quarter of the pixels of 144 dpi. */
export const VISUAL_DPI = 72;

export interface PageRasterizer {
  /**
   * Page `page` (1-based) of the first `end` bytes of `source` (the document as a revision ends), its crop box at
   * `dpi`, with or without its annotations; undefined when it cannot be rendered within `timeoutMs`, or once `signal`
   * aborts (the render is stopped).
   */
  rasterize(
    source: ByteSource,
    end: number,
    page: number,
    options: { dpi: number; hideAnnotations: boolean; timeoutMs: number; signal?: AbortSignal },
  ): Promise<PageRaster | undefined>;
}

export interface VisualCheckOptions {
  /** Undefined: every check that would be needed is SKIPPED. */
  rasterizer?: PageRasterizer;
  /** False: switched off (SKIPPED). Default true. */
  enabled?: boolean;
  /** Rendering and comparing time for the whole document, in milliseconds. Default 10 s. */
  budgetMs?: number;
  /** Pages compared in the whole document. Default 10. */
  maxPages?: number;
  /** The caller went away (a cancelled call): renders in flight are stopped, none is started. */
  signal?: AbortSignal;
}

export const DEFAULT_VISUAL_BUDGET_MS = 10_000;
export const DEFAULT_VISUAL_MAX_PAGES = 10;

/** Change kinds (changes.ts, field-changes.ts) that the object analysis may allow and that redraw part of a page. */
export const VISUAL_TRIGGERS = new Set([
  'annotation-added',
  'annotation-modified',
  'annotation-removed',
  'annotation-appearances-named',
  'form-field-filled',
  'appearance-updated',
]);

/** One document's visual checks: renders are shared between its signatures, the budget is the document's. */
export class VisualCheck {
  private readonly renders = new Map<string, Promise<PageRaster | undefined>>();
  private deadline: number | undefined;
  private pagesLeft: number;

  constructor(
    private readonly source: ByteSource,
    private readonly final: PdfDocument,
    private readonly finalEnd: number,
    private readonly options: VisualCheckOptions,
    private readonly budget: Budget,
  ) {
    this.pagesLeft = options.maxPages ?? DEFAULT_VISUAL_MAX_PAGES;
  }

  /** The check for a signature covering `signed` (ending at `signedEnd`), given the judged changes after it. */
  async check(signed: PdfDocument, signedEnd: number, after: readonly Change[]): Promise<{ report: VisualCheckReport; change?: Change }> {
    const started = Date.now();
    const done = (result: VisualCheckReport['result'], reason: string, pages: number[] = [], differences: VisualDifference[] = []): VisualCheckReport =>
      ({ result, pages, differences, reason, millis: Date.now() - started });
    const triggers = after.filter((c) => c.allowed && VISUAL_TRIGGERS.has(c.kind));
    if (triggers.length === 0) return { report: done('NOT_NEEDED', 'no change after it can alter what a page shows') };
    if (after.some((c) => !c.allowed)) return { report: done('SKIPPED', 'the changes after it are already not allowed') };
    if (this.options.enabled === false) return { report: done('SKIPPED', 'the visual check is switched off') };
    if (this.options.rasterizer === undefined) return { report: done('SKIPPED', 'no page renderer (pdftoppm) is available') };
    const pages = changedAnnotationAreas(signed, this.final, this.budget);
    if (pages.length === 0) return { report: done('NOT_NEEDED', 'the changes after it alter no annotation on a page') };
    if (pages.length > this.pagesLeft) {
      return { report: done('BUDGET_EXCEEDED', `${pages.length} pages would be compared, more than the ${this.pagesLeft} left of the page budget; not checked`) };
    }
    this.pagesLeft -= pages.length;
    this.deadline ??= Date.now() + (this.options.budgetMs ?? DEFAULT_VISUAL_BUDGET_MS);
    const differences: VisualDifference[] = [];
    for (const { page, areas } of pages) {
      const [before, content, now] = await Promise.all([
        this.render(signedEnd, page, false),
        this.render(signedEnd, page, true),
        this.render(this.finalEnd, page, false),
      ]);
      if (before === undefined || content === undefined || now === undefined) {
        return Date.now() >= this.deadline
          ? { report: done('BUDGET_EXCEEDED', `the time budget (${this.options.budgetMs ?? DEFAULT_VISUAL_BUDGET_MS} ms) ran out at page ${page}; not checked`, pages.map((p) => p.page)) }
          : { report: done('SKIPPED', `page ${page} could not be rendered`, pages.map((p) => p.page)) };
      }
      let info: PageInfo;
      try {
        info = findPage(this.final, page);
      } catch {
        // A page tree whose /Count disagrees with its /Kids: the object analysis judges that; here, no answer.
        return { report: done('SKIPPED', `page ${page} cannot be located through the page tree`, pages.map((p) => p.page)) };
      }
      differences.push(...comparePage(info, areas, before, content, now));
    }
    const compared = pages.map((p) => p.page);
    if (differences.length === 0) return { report: done('SAME', `page${compared.length > 1 ? 's' : ''} ${compared.join(', ')} look as signed but for the annotations that changed`, compared) };
    const first = differences[0]!;
    const description =
      first.kind === 'hides-signed-content'
        ? `page ${first.page}: signed content in [${first.rect.join(' ')}] is painted over by a later annotation (visual check)`
        : `page ${first.page} looks different from the signed revision in [${first.rect.join(' ')}], outside every annotation that changed (visual check)`;
    const revision = Math.max(...triggers.map((c) => c.revision));
    return {
      report: done('DIFFERENT', description, compared, differences),
      change: { revision, allowed: false, kind: 'visual-difference', description },
    };
  }

  private render(end: number, page: number, hideAnnotations: boolean): Promise<PageRaster | undefined> {
    const key = `${end}:${page}:${hideAnnotations}`;
    let render = this.renders.get(key);
    if (render === undefined) {
      const timeoutMs = Math.max(0, this.deadline! - Date.now());
      render = timeoutMs === 0 ? Promise.resolve(undefined) : this.options.rasterizer!.rasterize(this.source, end, page, {
              dpi: VISUAL_DPI,
              hideAnnotations,
              timeoutMs,
              ...(this.options.signal === undefined ? {} : { signal: this.options.signal }),
            });
      this.renders.set(key, render);
    }
    return render;
  }
}
