/** Helpers over parsed objects for comparing revisions: deep equality, page lists, rectangles, descriptions. */
import type { PdfDocument } from './document.ts';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfObject } from './objects.ts';
import type { Budget } from './limits.ts';
import type { DocumentObjects } from './page-tree.ts';

const MAX_EQUAL_DEPTH = 64;

/** Same value, with references compared by number and generation (not followed). */
export function deepEqual(a: PdfObject | undefined, b: PdfObject | undefined, budget: Budget, depth = 0): boolean {
  if (depth > MAX_EQUAL_DEPTH) return false;
  if (a === b) return true;
  if (a instanceof PdfRef && b instanceof PdfRef) return a.num === b.num && a.gen === b.gen;
  if (a instanceof PdfName || b instanceof PdfName) return false; // interned: equal names are ===
  if (a instanceof PdfString && b instanceof PdfString) return Buffer.from(a.bytes).equals(Buffer.from(b.bytes));
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i], budget, depth + 1));
  }
  if (a instanceof PdfStream && b instanceof PdfStream) {
    if (!deepEqual(a.dict, b.dict, budget, depth + 1)) return false;
    const x = a.encoded();
    const y = b.encoded();
    budget.stream(x.length + y.length);
    return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  }
  if (a instanceof PdfDict && b instanceof PdfDict) {
    if (a.entries.size !== b.entries.size) return false;
    for (const [k, v] of a.entries) if (!b.has(k) || !deepEqual(v, b.get(k), budget, depth + 1)) return false;
    return true;
  }
  return false;
}

/** Stream dictionary keys that say how the bytes are stored, not what they are (ISO 32000-1 §7.3.8.2 Table 5). */
const ENCODING_KEYS = new Set(['Length', 'Filter', 'DecodeParms', 'DL']);

/**
 * Same value, as deepEqual, except that two streams are also equal when they hold the same decoded bytes under the
 * same other entries: a writer that re-compresses an unchanged stream, or writes its /Length direct, changes nothing
 * a reader sees. A stream that cannot be decoded (an unsupported filter, a damaged one) is compared as stored.
 */
export function sameValue(
  a: PdfObject | undefined,
  b: PdfObject | undefined,
  budget: Budget,
  decodeA: (s: PdfStream) => Uint8Array,
  decodeB: (s: PdfStream) => Uint8Array,
): boolean {
  if (deepEqual(a, b, budget)) return true;
  if (!(a instanceof PdfStream && b instanceof PdfStream)) return false;
  const keys = new Set([...a.dict.entries.keys(), ...b.dict.entries.keys()]);
  for (const k of keys) if (!ENCODING_KEYS.has(k) && !deepEqual(a.dict.get(k), b.dict.get(k), budget)) return false;
  let x: Uint8Array;
  let y: Uint8Array;
  try {
    x = decodeA(a);
    y = decodeB(b);
  } catch {
    return false;
  }
  budget.stream(x.length + y.length);
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
}

/** Keys whose values differ between two dictionaries (added, removed or changed). */
export function changedKeys(a: PdfDict, b: PdfDict, budget: Budget): string[] {
  const keys = new Set([...a.entries.keys(), ...b.entries.keys()]);
  return [...keys].filter((k) => !deepEqual(a.get(k), b.get(k), budget));
}

export interface PageEntry {
  ref: PdfRef;
  dict: PdfDict;
}

export interface PageTree {
  pages: PageEntry[];
  /** Object numbers of intermediate /Pages nodes. */
  nodes: Set<number>;
}

const MAX_TREE_DEPTH = 64;

const trees = new WeakMap<PdfDocument, PageTree>();

/** Every page in order, walking /Kids (cycles and depth bounded); computed once per document. */
export function pageTree(doc: PdfDocument, budget: Budget): PageTree {
  let tree = trees.get(doc);
  if (!tree) {
    tree = walkPageTree(doc, budget);
    trees.set(doc, tree);
  }
  return tree;
}

function walkPageTree(doc: PdfDocument, budget: Budget): PageTree {
  const pages: PageEntry[] = [];
  const nodes = new Set<number>();
  const visited = new Set<number>();
  const walk = (ref: PdfObject | undefined, depth: number): void => {
    if (!(ref instanceof PdfRef) || depth > MAX_TREE_DEPTH || visited.has(ref.num)) return;
    visited.add(ref.num);
    budget.object();
    const node = doc.resolveDict(ref);
    if (!node) return;
    const kids = doc.resolve(node.get('Kids'));
    if (node.name('Type') === 'Pages' || (node.name('Type') !== 'Page' && Array.isArray(kids))) {
      nodes.add(ref.num);
      if (Array.isArray(kids)) for (const kid of kids) walk(kid, depth + 1);
      return;
    }
    pages.push({ ref, dict: node });
  };
  walk(doc.catalog.get('Pages'), 0);
  return { pages, nodes };
}

export type Box = [number, number, number, number];

/** An annotation's /Rect (ISO 32000-1 §12.5.2: any two diagonally opposite corners), normalised; undefined when malformed. */
export function rectOf(doc: Pick<DocumentObjects, 'resolve'>, dict: PdfDict): Box | undefined {
  const r = doc.resolve(dict.get('Rect'));
  if (!Array.isArray(r) || r.length !== 4) return undefined;
  const n = r.map((x) => doc.resolve(x));
  if (!n.every((x) => typeof x === 'number' && Number.isFinite(x))) return undefined;
  const [a, b, c, d] = n as number[];
  return [Math.min(a!, c!), Math.min(b!, d!), Math.max(a!, c!), Math.max(b!, d!)];
}

export function overlaps(a: Box, b: Box): boolean {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

export function isEmptyBox(a: Box | undefined): boolean {
  return a === undefined || a[2] - a[0] <= 0 || a[3] - a[1] <= 0;
}

/** `object 12 (/XObject /Image)` for messages. */
export function describeObject(num: number, value: PdfObject | undefined): string {
  const dict = value instanceof PdfStream ? value.dict : value instanceof PdfDict ? value : undefined;
  const kind = [dict?.name('Type'), dict?.name('Subtype')].filter((x) => x !== undefined).map((x) => `/${x}`).join(' ');
  const what = value instanceof PdfStream ? 'stream' : Array.isArray(value) ? 'array' : dict ? 'dictionary' : 'object';
  return `object ${num} (${kind ? `${kind} ` : ''}${what})`;
}

/** A field's fully qualified name and type, following /Parent (§12.7.3.1). */
export function fieldInfo(doc: PdfDocument, dict: PdfDict): { name: string; ft: string | undefined } {
  const parts: string[] = [];
  let ft: string | undefined;
  let cur: PdfDict | undefined = dict;
  for (let i = 0; cur && i < 32; i++) {
    const t = doc.resolve(cur.get('T'));
    if (t instanceof PdfString) parts.unshift(t.asText());
    ft ??= cur.name('FT');
    cur = doc.resolveDict(cur.get('Parent'));
  }
  return { name: parts.join('.'), ft };
}
