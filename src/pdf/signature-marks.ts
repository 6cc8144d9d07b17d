/**
 * Where a signature shows on the pages: its widget annotation (ISO 32000-1 §12.5.6.19) and, for a seal with several
 * marks as seald writes them (signature.ts: a multi-page or cross-page seal, every keyword hit), the Stamp annotations
 * (§12.5.6.12) of the same revision that draw the same seal. Those share one seal XObject with the widget's
 * appearance (appearance.ts writes it once per signature), which is how they are told from any other stamp.
 *
 * For a report a person reads: the document is hostile input, so pages and annotations examined are bounded and
 * anything unreadable is skipped, never thrown.
 */
import { findPage, pageCount, type DocumentObjects, type PageInfo, type Rect } from './page-tree.ts';
import { PdfDict, PdfRef, PdfStream, type PdfObject } from './objects.ts';
import { rectOf } from './compare.ts';

export interface SignatureMark {
  page: PageInfo;
  /** The annotation's /Rect, normalised (lower left, upper right) in default user space. */
  rect: Rect;
}

/** Pages searched for a widget that does not name its page (/P is optional, §12.5.2 Table 164). */
const MAX_PAGES_SEARCHED = 500;
const MAX_ANNOTS_PER_PAGE = 2_000;
const MAX_MARK_PAGES = 10_000;

/**
 * The marks of the signature whose merged field/widget is `widget` (`widgetRef` when it is indirect): the widget's
 * own first, then the stamps sharing its seal on `pages` (the signature's recorded pages, seald's /Seald_Placement).
 * Zero-size rectangles (an invisible signature) are no marks.
 */
export function signatureMarks(
  doc: DocumentObjects,
  widget: PdfDict,
  widgetRef: PdfRef | undefined,
  pages: readonly number[],
): SignatureMark[] {
  const marks: SignatureMark[] = [];
  try {
    const total = pageCount(doc);
    const seal = sealXObjects(doc, widget);
    const widgetPage = pageOfWidget(doc, widget, widgetRef, total);
    const rect = markRectOf(doc, widget);
    if (widgetPage !== undefined && rect !== undefined) marks.push({ page: widgetPage, rect });
    if (seal.size === 0) return marks;
    for (const number of [...new Set(pages)].slice(0, MAX_MARK_PAGES)) {
      if (!Number.isInteger(number) || number < 1 || number > total) continue;
      const page = findPage(doc, number);
      for (const entry of annotsOf(doc, page)) {
        const annot = doc.resolve(entry);
        if (!(annot instanceof PdfDict) || annot === widget || annot.name('Subtype') !== 'Stamp') continue;
        if (entry instanceof PdfRef && widgetRef !== undefined && entry.num === widgetRef.num) continue;
        const shared = [...sealXObjects(doc, annot)].some((num) => seal.has(num));
        const stampRect = shared ? markRectOf(doc, annot) : undefined;
        if (stampRect !== undefined) marks.push({ page, rect: stampRect });
      }
    }
  } catch {
    // A page tree or annotation this cannot read: the marks found so far.
  }
  return marks;
}

/** The widget's page: its /P when that is a page, else the first page whose /Annots lists it. */
function pageOfWidget(doc: DocumentObjects, widget: PdfDict, widgetRef: PdfRef | undefined, total: number): PageInfo | undefined {
  const p = widget.get('P');
  const limit = Math.min(total, MAX_PAGES_SEARCHED);
  for (let number = 1; number <= limit; number++) {
    const page = findPage(doc, number);
    if (p instanceof PdfRef && page.ref.num === p.num && page.ref.gen === p.gen) return page;
    const listed = annotsOf(doc, page).some((entry) =>
      entry instanceof PdfRef ? widgetRef !== undefined && entry.num === widgetRef.num : doc.resolve(entry) === widget,
    );
    if (listed) return page;
  }
  return undefined;
}

function annotsOf(doc: DocumentObjects, page: PageInfo): PdfObject[] {
  const annots = doc.resolve(page.dict.get('Annots'));
  return Array.isArray(annots) ? annots.slice(0, MAX_ANNOTS_PER_PAGE) : [];
}

/** The annotation's /Rect (compare.ts), or undefined when it is missing, malformed or of (near) zero area. */
function markRectOf(doc: DocumentObjects, annot: PdfDict): Rect | undefined {
  const rect = rectOf(doc, annot);
  return rect !== undefined && rect[2] - rect[0] > 0.5 && rect[3] - rect[1] > 0.5 ? rect : undefined;
}

/** Object numbers of the XObjects the annotation's normal appearance names in its /Resources (§8.10, §12.5.5). */
function sealXObjects(doc: DocumentObjects, annot: PdfDict): Set<number> {
  const found = new Set<number>();
  const ap = doc.resolveDict(annot.get('AP'));
  const normal = doc.resolve(ap?.get('N'));
  if (!(normal instanceof PdfStream)) return found;
  const resources = doc.resolveDict(normal.dict.get('Resources'));
  const xobjects = doc.resolveDict(resources?.get('XObject'));
  if (xobjects === undefined) return found;
  for (const value of [...xobjects.entries.values()].slice(0, 64)) {
    if (value instanceof PdfRef) found.add(value.num);
  }
  return found;
}
