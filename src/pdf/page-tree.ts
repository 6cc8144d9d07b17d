/**
 * The page tree (ISO 32000-1 §7.7.3) and the AcroForm field tree (§12.7.3) of a document, walked here and only here:
 * one page found by descending with /Count, inherited attributes resolved, and the fully qualified field names.
 */
import { SealdError } from '../errors.ts';
import { malformed } from './errors.ts';
import { PdfDict, PdfRef, PdfString, type PdfObject } from './objects.ts';

export type Rect = [number, number, number, number];

export interface PageInfo {
  /** 1-based. */
  number: number;
  ref: PdfRef;
  dict: PdfDict;
  mediaBox: Rect;
  /** The visible area: CropBox clipped to MediaBox (§14.11.2), MediaBox when absent. */
  cropBox: Rect;
  /** /Rotate normalised to 0, 90, 180 or 270. */
  rotate: number;
}

/** What the walks need of a document (PdfDocument has it). */
export interface DocumentObjects {
  readonly catalog: PdfDict;
  resolve(obj: PdfObject | undefined): PdfObject | undefined;
  resolveDict(obj: PdfObject | undefined): PdfDict | undefined;
}

const MAX_PAGE_TREE_DEPTH = 64;

export function pageCount(doc: DocumentObjects): number {
  const pages = doc.resolveDict(doc.catalog.get('Pages'));
  const count = doc.resolve(pages?.get('Count'));
  if (typeof count !== 'number') throw malformed('the page tree root has no /Count');
  return count;
}

/**
 * Page `number` (1-based), found by descending the page tree with /Count (so a 300-page document reads a handful
 * of nodes), with inherited attributes resolved (§7.7.3.4: Resources, MediaBox, CropBox, Rotate).
 */
export function findPage(doc: DocumentObjects, number: number): PageInfo {
  const total = pageCount(doc);
  if (!Number.isInteger(number) || number < 1 || number > total) {
    throw new SealdError(
      'invalid-input',
      'PAGE_OUT_OF_RANGE',
      `page ${number} is out of range: the document has ${total} page${total === 1 ? '' : 's'}`,
    );
  }
  let nodeRef = doc.catalog.get('Pages');
  let skip = number - 1;
  const inherited = new Map<string, PdfObject>();
  const visited = new Set<number>();
  for (let depth = 0; depth < MAX_PAGE_TREE_DEPTH; depth++) {
    if (!(nodeRef instanceof PdfRef)) throw malformed('a page tree node is not an indirect reference');
    if (visited.has(nodeRef.num)) throw malformed('the page tree has a cycle');
    visited.add(nodeRef.num);
    const node = doc.resolveDict(nodeRef);
    if (!node) throw malformed(`page tree node ${nodeRef} is missing`);
    for (const key of ['MediaBox', 'CropBox', 'Rotate']) {
      const v = node.get(key);
      if (v !== undefined) inherited.set(key, v);
    }
    const kids = doc.resolve(node.get('Kids'));
    if (node.name('Type') === 'Page' || !Array.isArray(kids)) {
      if (skip !== 0) throw malformed('the page tree /Count values do not match its pages');
      return pageInfo(doc, number, nodeRef, node, inherited);
    }
    let next: PdfObject | undefined;
    for (const kid of kids) {
      const kd = doc.resolveDict(kid);
      if (!kd) continue;
      const isLeaf = kd.name('Type') === 'Page' || !kd.has('Kids');
      const count = isLeaf ? 1 : doc.resolve(kd.get('Count'));
      if (typeof count !== 'number') throw malformed('a page tree node has no /Count');
      if (skip < count) {
        next = kid;
        break;
      }
      skip -= count;
    }
    if (next === undefined) throw malformed('the page tree /Count values do not match its pages');
    nodeRef = next;
  }
  throw malformed(`the page tree is deeper than ${MAX_PAGE_TREE_DEPTH}`);
}

function pageInfo(doc: DocumentObjects, number: number, ref: PdfRef, dict: PdfDict, inherited: Map<string, PdfObject>): PageInfo {
  const box = (key: string): Rect | undefined => {
    const v = doc.resolve(inherited.get(key));
    if (!Array.isArray(v) || v.length !== 4) return undefined;
    const n = v.map((x) => doc.resolve(x));
    if (!n.every((x) => typeof x === 'number')) return undefined;
    const [a, b, c, d] = n as number[];
    return [Math.min(a!, c!), Math.min(b!, d!), Math.max(a!, c!), Math.max(b!, d!)];
  };
  const mediaBox = box('MediaBox') ?? [0, 0, 612, 792]; // US Letter when absent, as viewers do
  const crop = box('CropBox');
  const cropBox: Rect = crop
    ? [
        Math.max(crop[0], mediaBox[0]),
        Math.max(crop[1], mediaBox[1]),
        Math.min(crop[2], mediaBox[2]),
        Math.min(crop[3], mediaBox[3]),
      ]
    : mediaBox;
  const rot = doc.resolve(inherited.get('Rotate'));
  const rotate = typeof rot === 'number' ? (((Math.round(rot / 90) * 90) % 360) + 360) % 360 : 0;
  return { number, ref, dict, mediaBox, cropBox, rotate };
}

/** The fully qualified names of the AcroForm's fields (§12.7.3.2), to keep a new field's name unique. */
export function fieldNames(doc: DocumentObjects): Set<string> {
  const names = new Set<string>();
  const acroForm = doc.resolveDict(doc.catalog.get('AcroForm'));
  const fields = doc.resolve(acroForm?.get('Fields'));
  if (!Array.isArray(fields)) return names;
  const visited = new Set<number>();
  const walk = (list: PdfObject[], prefix: string, depth: number) => {
    if (depth > 32) return;
    for (const f of list) {
      if (f instanceof PdfRef) {
        if (visited.has(f.num)) continue;
        visited.add(f.num);
      }
      const fd = doc.resolveDict(f);
      if (!fd) continue;
      const t = doc.resolve(fd.get('T'));
      const partial = t instanceof PdfString ? t.asText() : undefined;
      const full = partial === undefined ? prefix : prefix ? `${prefix}.${partial}` : partial;
      if (full) names.add(full);
      const kids = doc.resolve(fd.get('Kids'));
      if (Array.isArray(kids)) walk(kids, full, depth + 1);
    }
  };
  walk(fields, '', 0);
  return names;
}

