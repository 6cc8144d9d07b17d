/**
 * Where the signed revision uses an object (changes.ts judges a redefined object by all of them): a reverse index of
 * references, the annotations whose appearance (/AP, ISO 32000-1 §12.5.5) shows an object, and whether an annotation
 * belongs to a field filled in the update being judged.
 */
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfDict, PdfRef, PdfStream, type PdfObject } from '../../pdf/objects.ts';
import type { Budget } from '../../pdf/limits.ts';

function refOf(doc: PdfDocument, num: number): PdfRef {
  const e = doc.xref.entries.get(num);
  return new PdfRef(num, e?.type === 'offset' ? e.gen : 0);
}

/** Where an object is referred to from: the referring object and the key path inside it. */
export type Referrers = Map<number, { from: number; path: string[] }[]>;

const MAX_REF_DEPTH = 16;

/** Every reference between the objects of a revision (dictionaries and stream dictionaries, not stream data). */
export function referrerIndex(doc: PdfDocument, budget: Budget): Referrers {
  const index: Referrers = new Map();
  const walk = (from: number, o: PdfObject | undefined, path: string[]): void => {
    if (path.length > MAX_REF_DEPTH) return;
    if (o instanceof PdfRef) {
      let list = index.get(o.num);
      if (!list) index.set(o.num, (list = []));
      list.push({ from, path });
    } else if (Array.isArray(o)) {
      for (const x of o) walk(from, x, path);
    } else if (o instanceof PdfStream) {
      walk(from, o.dict, path);
    } else if (o instanceof PdfDict) {
      for (const [k, v] of o.entries) walk(from, v, [...path, k]);
    }
  };
  for (const [num, e] of doc.xref.entries) {
    if (num === 0 || e.type === 'free') continue;
    budget.object();
    let o: PdfObject;
    try {
      o = doc.getObject(refOf(doc, num));
    } catch {
      continue; // an unreadable object refers to nothing
    }
    walk(num, o, []);
  }
  return index;
}

/**
 * How an earlier revision uses an object: the annotations whose /AP shows it (through an indirect /AP dictionary or
 * appearance sub-dictionary too, §12.5.5), and every other referrer. `appearance` is true when the object is itself
 * an appearance dictionary or stream of some annotation.
 */
export function appearanceUse(doc: PdfDocument, num: number, referrers: Referrers): { widgets: number[]; other: number[]; appearance: boolean } {
  const widgets = new Set<number>();
  const other = new Set<number>();
  const seen = new Set<number>();
  const visit = (n: number, depth: number): void => {
    if (seen.has(n) || depth > 3) return;
    seen.add(n);
    for (const { from, path } of referrers.get(n) ?? []) {
      const holder = doc.getObject(refOf(doc, from));
      const dict = holder instanceof PdfDict ? holder : undefined;
      if (dict && path[0] === 'AP' && dict.has('Subtype')) widgets.add(from);
      else if (dict && ['N', 'D', 'R'].includes(path[0] ?? '') && !dict.has('Type') && !dict.has('Subtype')) visit(from, depth + 1);
      else if (dict && path.length === 1 && !dict.has('Type') && !dict.has('Subtype')) visit(from, depth + 1); // e.g. a state sub-dictionary /On, /Off
      else other.add(from);
    }
  };
  visit(num, 0);
  return { widgets: [...widgets], other: [...other].filter((o) => !seen.has(o)), appearance: widgets.size > 0 };
}

/** The annotation is a widget of a field (or is the field) that this update fills or signs. */
export function belongsToFilled(doc: PdfDocument, widget: number, filled: ReadonlySet<number>): boolean {
  let cur: PdfObject | undefined = refOf(doc, widget);
  for (let i = 0; i < 32 && cur instanceof PdfRef; i++) {
    if (filled.has(cur.num)) return true;
    cur = doc.resolveDict(cur)?.get('Parent');
  }
  return false;
}
