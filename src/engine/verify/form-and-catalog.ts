/**
 * Changes to the catalog and the interactive form that an update may make (ISO 32000-1 §7.7.2, §12.7.2): which
 * catalog entries describe the document (metadata), which belong to signing (/AcroForm /Fields, /SigFlags, /DSS),
 * what /AcroForm /DR may gain, and the named annotation appearances of /Names /AP. changes.ts asks.
 */
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfDict, PdfRef, type PdfObject } from '../../pdf/objects.ts';
import type { Budget } from '../../pdf/limits.ts';
import { changedKeys, fieldInfo } from '../../pdf/compare.ts';
import { onlyGrown } from './page-parts.ts';
import type { Add } from './change-class.ts';

/** Keys of /AcroForm a signing revision may add or change (§12.7.2 Table 218). */
const ACROFORM_SIGNING_KEYS = new Set(['Fields', 'SigFlags']);
/** Keys it may add when absent before (a signer's default resources for its appearance). */
const ACROFORM_ADDABLE_KEYS = new Set(['DR', 'DA']);
/** Catalog entries that describe the document without changing what it shows or does (§7.7.2 Table 28, §14.3.2). */
const CATALOG_METADATA_KEYS = new Set(['Metadata', 'Version', 'Extensions']);

export function diffCatalog(prev: PdfDocument, cur: PdfDocument, old: PdfObject, value: PdfObject, budget: Budget, add: Add): void {
  if (!(old instanceof PdfDict) || !(value instanceof PdfDict)) {
    add('forbidden', 'catalog-changed', 'the catalog was replaced by something else');
    return;
  }
  for (const k of changedKeys(old, value, budget)) {
    if (k === 'AcroForm') diffAcroForm(prev, cur, prev.resolve(old.get(k)) ?? null, cur.resolve(value.get(k)) ?? null, budget, add);
    else if (k === 'DSS') add('signing', 'dss-updated', 'the DSS (validation data) was added or updated');
    else if (k === 'StructTreeRoot' || k === 'MarkInfo') add('annotation', 'structure-updated', `catalog /${k} ${old.has(k) ? 'updated' : 'added'} (tagged PDF, §14.7)`);
    else if (CATALOG_METADATA_KEYS.has(k)) add('metadata', 'metadata-updated', `catalog /${k} ${old.has(k) ? (value.has(k) ? 'updated' : 'removed') : 'added'}`);
    else if (k === 'Names' && onlyNamedAppearances(prev, cur, old.get(k), value.get(k), budget)) {
      // §7.7.4 Table 31 /AP: a name tree of annotation appearance streams (a viewer's comment icons, DSS's
      // pades-signed-annot-added.pdf); the other trees (/JavaScript, /EmbeddedFiles …) stay as they were.
      add('annotation', 'annotation-appearances-named', 'the document name dictionary\'s /AP tree (named annotation appearances) set');
    } else add('forbidden', 'catalog-changed', `catalog entry /${k} ${old.has(k) ? (value.has(k) ? 're-pointed' : 'removed') : 'added'}`);
  }
}

function onlyNamedAppearances(prev: PdfDocument, cur: PdfDocument, old: PdfObject | undefined, now: PdfObject | undefined, budget: Budget): boolean {
  const a = prev.resolveDict(old) ?? new PdfDict();
  const b = cur.resolveDict(now);
  return b !== undefined && changedKeys(a, b, budget).every((key) => key === 'AP');
}

export function diffAcroForm(prev: PdfDocument, cur: PdfDocument, old: PdfObject, value: PdfObject, budget: Budget, add: Add): void {
  if (!(value instanceof PdfDict)) {
    add('forbidden', 'acroform-changed', 'the interactive form (/AcroForm) was removed or replaced');
    return;
  }
  const before = old instanceof PdfDict ? old : new PdfDict();
  for (const k of changedKeys(before, value, budget)) {
    if (k === 'Fields') diffFields(cur, prev.resolve(before.get(k)) ?? [], cur.resolve(value.get(k)) ?? null, add);
    else if (ACROFORM_SIGNING_KEYS.has(k)) continue;
    else if (ACROFORM_ADDABLE_KEYS.has(k) && !before.has(k)) add('signing', 'form-resources-added', `/AcroForm /${k} added`);
    else if (k === 'DR' && onlyGrown(prev, cur, before.get(k), value.get(k), budget)) add('signing', 'form-resources-added', '/AcroForm /DR: resources added (none changed)');
    // /DR holds the resources a viewer uses to draw appearances it generates (§12.7.3.3); appearance streams already
    // in the file carry their own /Resources. Its fonts may only grow: a field without an appearance is drawn with
    // them, so a re-pointed font could change what it shows. Other resources (PDFBox re-points /DR /XObject /FRM at
    // every signature: DSS's PAdES-LT.pdf) feed no /DA — unless the viewer is told to redraw every field (/NeedAppearances).
    else if (k === 'DR' && !needAppearances(cur, value) && fontsOnlyGrown(prev, cur, before.get(k), value.get(k), budget)) {
      add('signing', 'form-resources-changed', '/AcroForm /DR: default resources other than fonts changed (appearances drawn later)');
    }
    else add('forbidden', 'acroform-changed', `/AcroForm /${k} changed`);
  }
}

/** The indirect objects of /AcroForm /DR: the dictionary and its resource-type subdictionaries (§12.7.3.3). */
export function defaultResourceNumbers(doc: PdfDocument, acroForm: PdfDict | undefined): Set<number> {
  const out = new Set<number>();
  const dr = acroForm?.get('DR');
  if (dr instanceof PdfRef) out.add(dr.num);
  const d = doc.resolveDict(dr);
  for (const [, v] of d?.entries ?? []) if (v instanceof PdfRef) out.add(v.num);
  return out;
}

function fontsOnlyGrown(prev: PdfDocument, cur: PdfDocument, oldDr: PdfObject | undefined, newDr: PdfObject | undefined, budget: Budget): boolean {
  const before = prev.resolveDict(prev.resolveDict(oldDr)?.get('Font'));
  const after = cur.resolveDict(cur.resolveDict(newDr)?.get('Font'));
  return before === undefined || (after !== undefined && onlyGrown(prev, cur, before, after, budget));
}

function needAppearances(doc: PdfDocument, acroForm: PdfDict): boolean {
  return doc.resolve(acroForm.get('NeedAppearances')) === true;
}

/** /Fields may only grow, and only by signature fields (§12.7.4.5). */
export function diffFields(cur: PdfDocument, old: PdfObject, value: PdfObject, add: Add): void {
  if (!Array.isArray(value)) {
    add('forbidden', 'fields-changed', '/AcroForm /Fields is no longer an array');
    return;
  }
  const before = Array.isArray(old) ? old : [];
  const key = (o: PdfObject): string => (o instanceof PdfRef ? `${o.num} ${o.gen}` : 'direct');
  const now = new Set(value.map(key));
  for (const f of before) if (!now.has(key(f))) add('forbidden', 'field-removed', `form field ${key(f)} removed from /Fields`);
  const had = new Set(before.map(key));
  for (const f of value) {
    if (had.has(key(f))) continue;
    const dict = cur.resolveDict(f);
    const info = dict ? fieldInfo(cur, dict) : { name: '?', ft: undefined };
    if (info.ft !== 'Sig') add('forbidden', 'form-field-added', `form field "${info.name}" (${info.ft ?? 'no type'}) added`);
  }
}
