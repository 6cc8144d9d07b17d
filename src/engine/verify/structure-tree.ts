/**
 * The logical structure of a tagged PDF (ISO 32000-1 §14.7): the structure tree root, its /ParentTree number tree and
 * structure elements. A reader that adds an annotation or a field to a tagged document adds a structure element for
 * it and updates /K, /ParentTree and /ParentTreeNextKey (§14.7.4.4); none of it changes what a page shows. The
 * objects are found by walking from the catalog's /StructTreeRoot, never into pages, annotations or streams.
 */
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfDict, PdfRef, PdfStream, type PdfObject } from '../../pdf/objects.ts';
import type { Budget } from '../../pdf/limits.ts';

const MAX_STRUCTURE_OBJECTS = 100_000;
/** Keys of structure dictionaries that lead to more structure (not /P, the way back up, nor /Pg, /Obj, /Stm: those point at what is shown). */
const STRUCTURE_KEYS = new Set(['K', 'ParentTree', 'Kids', 'Nums', 'IDTree', 'Names', 'RoleMap', 'ClassMap']);

/** Object numbers of the structure tree of a revision (empty when it is not tagged). */
export function structureObjects(doc: PdfDocument, budget: Budget): Set<number> {
  const nums = new Set<number>();
  const visit = (o: PdfObject | undefined, depth: number): void => {
    if (depth > 64 || nums.size >= MAX_STRUCTURE_OBJECTS) return;
    if (o instanceof PdfRef) {
      if (nums.has(o.num)) return;
      const target = doc.resolve(o);
      if (target instanceof PdfStream) return;
      if (target instanceof PdfDict) {
        const type = target.name('Type');
        if (type !== undefined && type !== 'StructTreeRoot' && type !== 'StructElem') return; // a page, an annotation, an MCR/OBJR
      } else if (!Array.isArray(target)) return;
      budget.object();
      nums.add(o.num);
      visit(target, depth + 1);
    } else if (Array.isArray(o)) {
      for (const x of o.slice(0, 100_000)) visit(x, depth + 1);
    } else if (o instanceof PdfDict && !(o.name('Type') === 'MCR' || o.name('Type') === 'OBJR')) {
      for (const [k, v] of o.entries) if (STRUCTURE_KEYS.has(k)) visit(v, depth + 1);
    }
  };
  visit(doc.catalog.get('StructTreeRoot'), 0);
  return nums;
}
