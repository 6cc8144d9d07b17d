/**
 * Where a page may look different between the revision a signature covers and the final document: the rectangles of
 * the annotations that differ (added, removed, or rewritten — the annotation dictionary or anything its /AP reaches),
 * page by page. A difference there is expected of the changes the object analysis allowed (a comment, a filled field's
 * widget, a later seal's widget); a difference anywhere else is not (visual-check.ts).
 *
 * An annotation's appearance is drawn into its /Rect (ISO 32000-1 §12.5.5, Algorithm 8.1: the form's /BBox, clipped,
 * mapped onto the /Rect), so the rectangle bounds what the change can show.
 */
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfDict, PdfRef, PdfStream, type PdfObject } from '../../pdf/objects.ts';
import { pageTree, rectOf, type Box } from '../../pdf/compare.ts';
import type { Budget } from '../../pdf/limits.ts';

export interface PageAreas {
  /** 1-based page number. */
  page: number;
  /** Annotation rectangles in default user space where a difference is expected. */
  areas: Box[];
}

/** Objects followed from an annotation to decide whether it was rewritten (its /AP, /MK, their streams' resources). */
const MAX_REACHED = 256;

/**
 * The pages whose annotations differ between `signed` and `final`, with those annotations' rectangles (old and new).
 * Pages are matched by position; a page added or removed is a forbidden change already (changes.ts).
 */
export function changedAnnotationAreas(signed: PdfDocument, final: PdfDocument, budget: Budget): PageAreas[] {
  const before = pageTree(signed, budget).pages;
  const after = pageTree(final, budget).pages;
  const out: PageAreas[] = [];
  for (let i = 0; i < Math.min(before.length, after.length); i++) {
    const old = annotationsOf(signed, before[i]!.dict);
    const now = annotationsOf(final, after[i]!.dict);
    const areas: Box[] = [];
    const oldByNum = new Map(old.filter((a) => a.ref !== undefined).map((a) => [a.ref!.num, a]));
    const nowNums = new Set(now.filter((a) => a.ref !== undefined).map((a) => a.ref!.num));
    for (const a of now) {
      const was = a.ref === undefined ? undefined : oldByNum.get(a.ref.num);
      if (was !== undefined && !rewritten(signed, final, a.ref!, budget)) continue;
      for (const box of [rectOf(final, a.dict), was && rectOf(signed, was.dict)]) if (box) areas.push(box);
    }
    for (const a of old) {
      if (a.ref !== undefined && nowNums.has(a.ref.num)) continue;
      const box = rectOf(signed, a.dict);
      if (box) areas.push(box); // removed (or a direct annotation, compared as if new)
    }
    if (areas.length > 0 || old.length !== now.length) out.push({ page: i + 1, areas });
  }
  return out;
}

function annotationsOf(doc: PdfDocument, page: PdfDict): { ref: PdfRef | undefined; dict: PdfDict }[] {
  const annots = doc.resolve(page.get('Annots'));
  if (!Array.isArray(annots)) return [];
  const out: { ref: PdfRef | undefined; dict: PdfDict }[] = [];
  for (const a of annots.slice(0, 10_000)) {
    const dict = doc.resolveDict(a);
    if (dict) out.push({ ref: a instanceof PdfRef ? a : undefined, dict });
  }
  return out;
}

/**
 * True when the annotation object, or an object reachable from it through /AP and /MK (appearance streams and their
 * resources), has another cross-reference entry in `final` than in `signed`: the bytes that define it were written
 * again. Re-written unchanged (another writer's full compression) counts too: it only widens the expected area.
 */
function rewritten(signed: PdfDocument, final: PdfDocument, ref: PdfRef, budget: Budget): boolean {
  if (!sameEntry(signed, final, ref.num)) return true;
  const annotation = final.resolveDict(ref);
  const seen = new Set<number>([ref.num]);
  const queue: PdfObject[] = [annotation?.get('AP'), annotation?.get('MK')].filter((o): o is PdfObject => o !== undefined);
  while (queue.length > 0) {
    if (seen.size >= MAX_REACHED) return true;
    const o = queue.pop();
    if (o instanceof PdfRef) {
      if (seen.has(o.num)) continue;
      seen.add(o.num);
      budget.object();
      if (!sameEntry(signed, final, o.num)) return true;
      const value = final.resolve(o);
      if (value !== undefined) queue.push(value);
    } else if (o instanceof PdfStream) {
      queue.push(o.dict);
    } else if (o instanceof PdfDict) {
      for (const [, v] of o.entries) queue.push(v);
    } else if (Array.isArray(o)) {
      queue.push(...(o as PdfObject[]));
    }
  }
  return false;
}

function sameEntry(signed: PdfDocument, final: PdfDocument, num: number): boolean {
  const a = signed.xref.entries.get(num);
  const b = final.xref.entries.get(num);
  if (a === undefined || b === undefined) return a === b;
  if (a.type === 'offset' && b.type === 'offset') return a.offset === b.offset && a.gen === b.gen;
  if (a.type === 'compressed' && b.type === 'compressed') return a.stream === b.stream && a.index === b.index && sameEntry(signed, final, a.stream);
  return a.type === b.type;
}
