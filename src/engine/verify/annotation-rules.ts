/**
 * Annotations in the difference analysis (ISO 32000-1 §12.5): which ones a reader may add, edit or delete after an
 * approval signature (markup, not widgets, not seal marks), and the signature widgets on a page no annotation may cover.
 */
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfDict, PdfRef, type PdfObject } from '../../pdf/objects.ts';
import { isEmptyBox, rectOf, type Box } from '../../pdf/compare.ts';
import type { SignatureField } from '../../pdf/signature-fields.ts';

/**
 * The rectangles of earlier signatures' widgets on one page (its /Annots in the signed revision, or the widget's /P):
 * no annotation may cover them. A rectangle on another page covers nothing here.
 */
export function protectedBoxesOf(prev: PdfDocument, signatureFields: SignatureField[], page: PdfDict, pageRef: PdfRef): Box[] {
  const annots = prev.resolve(page.get('Annots'));
  const onPage = new Set((Array.isArray(annots) ? annots : []).filter((a): a is PdfRef => a instanceof PdfRef).map((a) => a.num));
  const out: Box[] = [];
  for (const f of signatureFields) {
    const kids = prev.resolve(f.field.get('Kids'));
    const widgets: [PdfRef | undefined, PdfDict | undefined][] = Array.isArray(kids)
      ? kids.slice(0, 64).map((k) => [k instanceof PdfRef ? k : undefined, prev.resolveDict(k)])
      : [[f.fieldRef, f.field]];
    for (const [ref, w] of widgets) {
      if (!w) continue;
      const p = w.get('P');
      if (!(ref !== undefined && onPage.has(ref.num)) && !(p instanceof PdfRef && p.num === pageRef.num)) continue;
      const box = rectOf(prev, w);
      if (box && !isEmptyBox(box)) out.push(box);
    }
  }
  return out;
}

/** An annotation that is not a widget (§12.5.6): what a reader adds, edits and deletes as a comment or markup. */
export function isMarkupAnnotation(o: PdfObject): o is PdfDict {
  return o instanceof PdfDict && o.has('Subtype') && o.name('Subtype') !== 'Widget';
}

/** seald's own marks of a seal: locked, printable /Stamp annotations (F = Print | Locked). */
export function isSealMark(o: PdfDict): boolean {
  const f = o.get('F');
  return o.name('Subtype') === 'Stamp' && typeof f === 'number' && (f & 132) === 132;
}
