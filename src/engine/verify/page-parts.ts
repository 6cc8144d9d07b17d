/**
 * Parts of a page and of the form that changes.ts judges by what they hold rather than by their object: a page's
 * content streams (ISO 32000-1 §7.7.3.3 /Contents) and the form's default resources (§12.7.2 /DR).
 */
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfRef, type PdfObject } from '../../pdf/objects.ts';
import type { Budget } from '../../pdf/limits.ts';
import { deepEqual, type PageEntry } from '../../pdf/compare.ts';

const contentIndex = new WeakMap<PdfDocument, Map<number, number>>();

/** Page content streams of a revision (§7.7.3.3 /Contents: a stream or an array of streams) → 0-based page. */
export function contentStreams(doc: PdfDocument, tree: { pages: PageEntry[] }): Map<number, number> {
  let map = contentIndex.get(doc);
  if (!map) {
    map = new Map();
    for (const [i, p] of tree.pages.entries()) {
      const c = p.dict.get('Contents');
      const arr = c instanceof PdfRef ? doc.resolve(c) : c;
      for (const x of Array.isArray(arr) ? arr.slice(0, 10_000) : [c]) if (x instanceof PdfRef && !map.has(x.num)) map.set(x.num, i);
    }
    contentIndex.set(doc, map);
  }
  return map;
}


/**
 * A default-resources dictionary (§12.7.2 /DR) that only gained entries: every old entry kept, and in every old
 * sub-dictionary (/Font, /XObject …) every old name keeps its value. A signer adds the font of its appearance so;
 * re-pointing a name could change how a viewer regenerates other fields' appearances, and is not this.
 */
export function onlyGrown(prev: PdfDocument, cur: PdfDocument, old: PdfObject | undefined, now: PdfObject | undefined, budget: Budget): boolean {
  const a = prev.resolveDict(old);
  const b = cur.resolveDict(now);
  if (!a || !b) return false;
  for (const [k, v] of a.entries) {
    if (!b.has(k)) return false;
    const w = b.get(k);
    const x = prev.resolveDict(v);
    const y = cur.resolveDict(w);
    if (x && y && !(v instanceof PdfRef && w instanceof PdfRef && v.num === w.num)) {
      for (const [n, r] of x.entries) if (!y.has(n) || !deepEqual(r, y.get(n), budget)) return false;
    } else if (!deepEqual(v, w, budget)) {
      return false;
    }
  }
  return true;
}
