/**
 * Where each seal sits: a thumbnail of every page a signature marks, as the signed revision shows it, with the seal's
 * rectangle drawn over it; a cross-page seal (骑缝章) gets its pages side by side, each with its strip. The page is
 * rendered by pdftoppm when the machine has it (page-render.ts), within a time budget for the whole report; otherwise
 * (no pdftoppm, budget spent, a page it cannot render) the thumbnail is the page's outline with the rectangle, which
 * still answers "which page, where on it".
 */
import type { VerificationReport } from '../engine/verify/report.ts';
import { signatureWidget } from '../pdf/appearance-image.ts';
import { Budget, DEFAULT_VERIFY_LIMITS } from '../pdf/limits.ts';
import { displayedSize, userSpaceToDisplayedRect, type DisplayedRect } from '../pdf/placement.ts';
import { signatureFields } from '../pdf/signature-fields.ts';
import { signatureMarks, type SignatureMark } from '../pdf/signature-marks.ts';
import type { PageRenderer } from './page-render.ts';
import type { RevisionDocuments } from './revision-documents.ts';

export interface PageThumbnail {
  /** 1-based page number. */
  page: number;
  /** The page as displayed (crop box turned by /Rotate), in points. */
  width: number;
  height: number;
  /** The seal's marks on this page as displayed: lower-left corner and size, in points. */
  marks: DisplayedRect[];
  /** The rendered page, `data:image/png;base64,…`; absent: drawn as an outline. */
  image?: string;
}

export interface SignatureThumbnails {
  pages: PageThumbnail[];
  /** Marked pages beyond those shown (a seal on every page of a long document). */
  morePages: number;
}

export interface ThumbnailOptions {
  /** Undefined: outlines only. */
  renderer?: PageRenderer;
  /** Rendering time for the whole report; the pages after it get outlines. Default 10 s. */
  budgetMs?: number;
  /** The caller went away: the render in flight is stopped, the rest get outlines. */
  signal?: AbortSignal;
}

/** Thumbnails shown per signature: a cross-page seal over six pages still fits one row on A4. */
export const MAX_THUMBNAILS = 6;
const PAGE_TIMEOUT_MS = 5_000;
const DEFAULT_BUDGET_MS = 10_000;

/** field name → the thumbnails of the pages its seal marks, for every signature with a visible mark. */
export async function signatureThumbnails(
  docs: RevisionDocuments,
  report: VerificationReport,
  options: ThumbnailOptions = {},
): Promise<Map<string, SignatureThumbnails>> {
  const out = new Map<string, SignatureThumbnails>();
  const budget = new Budget(DEFAULT_VERIFY_LIMITS);
  const deadline = Date.now() + (options.budgetMs ?? DEFAULT_BUDGET_MS);
  for (const signature of report.signatures) {
    let marks: SignatureMark[] = [];
    try {
      const doc = docs.at(signature.revision);
      const field = signatureFields(doc, budget).find((f) => f.name === signature.field);
      const widget = field === undefined ? undefined : signatureWidget(field.field, (o) => doc.resolve(o));
      if (field !== undefined && widget !== undefined) {
        marks = signatureMarks(doc, widget, widget === field.field ? field.fieldRef : undefined, signature.placement?.pages ?? []);
      }
    } catch {
      // Nothing to show for a signature this cannot read; the verdict does not depend on it.
    }
    const byPage = new Map<number, SignatureMark[]>();
    for (const mark of marks) byPage.set(mark.page.number, [...(byPage.get(mark.page.number) ?? []), mark]);
    if (byPage.size === 0) continue;
    const numbers = [...byPage.keys()].sort((a, b) => a - b);
    const pages: PageThumbnail[] = [];
    for (const number of numbers.slice(0, MAX_THUMBNAILS)) {
      const onPage = byPage.get(number)!;
      const page = onPage[0]!.page;
      const [width, height] = displayedSize(page);
      if (!(width > 0 && height > 0)) continue; // a degenerate crop box: nothing to draw the marks on
      const thumbnail: PageThumbnail = { page: number, width, height, marks: onPage.map((m) => userSpaceToDisplayedRect(page, m.rect)) };
      const left = deadline - Date.now();
      if (options.renderer !== undefined && left > 0 && options.signal?.aborted !== true) {
        const png = await options.renderer.render(docs.source, docs.end(signature.revision), number, Math.min(PAGE_TIMEOUT_MS, left), options.signal);
        if (png !== undefined) thumbnail.image = `data:image/png;base64,${png.toString('base64')}`;
      }
      pages.push(thumbnail);
    }
    out.set(signature.field, { pages, morePages: numbers.length - pages.length });
  }
  return out;
}
