/**
 * What one incremental update changed (ISO 32000-1 §7.5.6), object by object against the revision before it, and
 * which class each change belongs to. Whether a class is allowed depends on the certification in force (DocMDP,
 * §12.8.2.2) and field locks (FieldMDP, §12.8.2.4); policy.ts decides that. The classes:
 *   signing     — a new signature field with its widget and appearance, seald's marks of that signature (locked,
 *                 printable /Stamp annotations named by its /Seald_Placement), /AcroForm /Fields growth, /SigFlags,
 *                 the DSS (ETSI EN 319 142-1 §5.4.2), document timestamps;
 *   form-fill   — a value of an existing form field;
 *   metadata    — the XMP /Metadata stream, the trailer's /Info, catalog /Version and /Extensions (§7.7.2, §14.3);
 *   annotation  — an annotation (not a widget) added, modified or removed, none covering a signature's appearance;
 *                 a page's /Tabs (tab order among its annotations, §12.5.1); the logical structure of a tagged
 *                 PDF updated for them (structure-tree.ts, §14.7);
 *   forbidden   — anything else: page content, resources, page objects and the page tree, catalog entries, replaced
 *                 or deleted objects, objects placed in an earlier revision's bytes (xref tricks), overlays.
 * New objects are judged through what refers to them: an object nothing old points to changes nothing shown.
 */
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfDict, PdfRef, PdfStream, type PdfObject } from '../../pdf/objects.ts';
import type { Revision } from '../../pdf/revisions.ts';
import { examinedEntries, isContainer, relisted } from './xref-entries.ts';
import { contentStreams, onlyGrown } from './page-parts.ts';
import type { Budget } from '../../pdf/limits.ts';
import { changedKeys, deepEqual, describeObject, sameValue, fieldInfo, isEmptyBox, overlaps, pageTree, rectOf, type PageEntry } from '../../pdf/compare.ts';
import { signatureFields, type SignatureField } from '../../pdf/signature-fields.ts';
import { placementOf } from '../../pdf/placement-record.ts';
import { appearanceUse, belongsToFilled, referrerIndex } from './appearance-use.ts';
import { isMarkupAnnotation, isSealMark, protectedBoxesOf } from './annotation-rules.ts';
import { structureObjects } from './structure-tree.ts';
import { fieldChange } from './field-changes.ts';
import { defaultResourceNumbers, diffAcroForm, diffCatalog, diffFields } from './form-and-catalog.ts';

import type { Add, ChangeClass } from './change-class.ts';

export type { ChangeClass } from './change-class.ts';

export interface RawChange {
  revision: number;
  class: ChangeClass;
  kind: string;
  description: string;
  /** For form-fill: the field's name (FieldMDP locks). */
  field?: string;
}

/** Page tree node entries (ISO 32000-1 §7.7.3.2 Table 29) and the attributes pages inherit (§7.7.3.4). */
const PAGE_TREE_KEYS = new Set(['Type', 'Parent', 'Kids', 'Count', 'Resources', 'MediaBox', 'CropBox', 'Rotate']);

export function analyseRevision(prev: PdfDocument, cur: PdfDocument, rev: Revision, budget: Budget): RawChange[] {
  const out: RawChange[] = [];
  const add = (cls: ChangeClass, kind: string, description: string, field?: string): void => {
    out.push({ revision: rev.number, class: cls, kind, description, ...(field === undefined ? {} : { field }) });
  };

  // The trailer's /Root re-pointed to another catalog object. Some writers write the catalog anew in every update
  // (e-Szigno's MscPDFLib: DSS's pades-ocsp-sign-cert.pdf, objects 1 → 39 → 55), so the re-pointing is judged by
  // value: the new catalog against the old one, entry by entry, by the rules of a catalog updated in place
  // (form-and-catalog.ts diffCatalog, ISO 32000-1 §7.7.2). Equal or allowed content (a /DSS, /Extensions, a grown
  // /AcroForm) is `catalog-moved`; a changed /Pages, /OpenAction, /Names, /AcroForm field set … is `root-repointed`.
  if (cur.catalogRef.num !== prev.catalogRef.num || cur.catalogRef.gen !== prev.catalogRef.gen) {
    const found: RawChange[] = [];
    diffCatalog(prev, cur, prev.catalog, cur.getObject(cur.catalogRef), budget, (cls, kind, description, field) => {
      found.push({ revision: rev.number, class: cls, kind, description, ...(field === undefined ? {} : { field }) });
    });
    const what = `the trailer /Root now points to object ${cur.catalogRef.num} instead of ${prev.catalogRef.num}`;
    if (found.some((c) => c.class === 'forbidden')) add('forbidden', 'root-repointed', `${what}, a catalog that differs from the old one in what the document shows or does`);
    else add('metadata', 'catalog-moved', `${what}, a new catalog object equal to the old one${found.length > 0 ? ' but for allowed changes' : ''}`);
    out.push(...found);
  }
  // §7.5.6: an update's /Prev is the previous revision's startxref; another value reads a different history. /Prev
  // counts from `%PDF-` (as every offset written in the file, §7.5.2), startxref here from the file's first byte.
  const trailerPrev = cur.xref.sections[0]?.trailer.get('Prev');
  const prevOffset = typeof trailerPrev === 'number' ? trailerPrev + cur.xref.headerOffset : trailerPrev;
  // A revision written over a repaired original stands for its broken table instead of chaining to it (repaired-base.ts).
  if (prevOffset !== prev.xref.startxref && rev.afterRepairedBase !== true) {
    add('forbidden', 'xref-out-of-place', `revision ${rev.number} chains to offset ${String(prevOffset)}, not to revision ${rev.number - 1}'s cross-reference section at ${prev.xref.startxref}`);
  }
  for (const s of rev.sections) {
    if (s.offset < rev.start || s.offset >= rev.eofEnd) {
      add('forbidden', 'xref-out-of-place', `a cross-reference section at offset ${s.offset} lies outside its revision`);
    }
  }

  // Roles of the old objects that an update may legitimately touch.
  const prevTree = pageTree(prev, budget);
  const curTree = pageTree(cur, budget);
  const pageIndex = new Map(prevTree.pages.map((p, i) => [p.ref.num, i]));
  const annotsArrays = new Map<number, number>();
  prevTree.pages.forEach((p, i) => {
    const a = p.dict.get('Annots');
    if (a instanceof PdfRef) annotsArrays.set(a.num, i);
  });
  const prevCatalog = prev.catalog;
  const acroFormRef = prevCatalog.get('AcroForm');
  const prevAcroForm = prev.resolveDict(acroFormRef);
  const fieldsRef = prevAcroForm?.get('Fields');
  const dssNums = dssObjectNumbers(prev);
  const drNums = defaultResourceNumbers(prev, prevAcroForm);

  const prevSigs = signatureFields(prev, budget);
  const curSigs = signatureFields(cur, budget);
  const prevSigNames = new Set(prevSigs.map((s) => s.name));
  const newSigs = curSigs.filter((s) => !prevSigNames.has(s.name) && (!s.sigRef || !existed(prev, s.sigRef.num)));
  for (const s of newSigs) {
    const what = s.sig.name('Type') === 'DocTimeStamp' ? 'document timestamp' : 'signature';
    add('signing', what === 'document timestamp' ? 'timestamp-added' : 'signature-added', `${what} "${s.name}" added`);
  }
  const markPages = new Map<number, string>(); // 1-based page → signature that may place marks there
  for (const s of newSigs) for (const p of placementOf(cur, s.sig)?.pages ?? []) markPages.set(p, s.name);

  // Pages: the same page objects, in the same order.
  const samePages =
    prevTree.pages.length === curTree.pages.length && prevTree.pages.every((p, i) => curTree.pages[i]!.ref.num === p.ref.num);
  if (!samePages) {
    add('forbidden', 'pages-changed', `pages added, removed or reordered (${prevTree.pages.length} → ${curTree.pages.length} pages)`);
  }

  const infoRef = prev.trailer.get('Info');
  const infoNum = infoRef instanceof PdfRef ? infoRef.num : undefined;
  const xmpRef = prevCatalog.get('Metadata');
  const structureNums = structureObjects(prev, budget);
  const extensionsRef = prevCatalog.get('Extensions');
  const extensionsNum = extensionsRef instanceof PdfRef ? extensionsRef.num : undefined;
  const metadataNums = new Set([infoNum, xmpRef instanceof PdfRef ? xmpRef.num : undefined].filter((n): n is number => n !== undefined));
  // Annotations of the signed revision by object number → 1-based page, for modifications.
  const annotationPages = new Map<number, number>();
  prevTree.pages.forEach((p, i) => {
    const arr = prev.resolve(p.dict.get('Annots'));
    if (Array.isArray(arr)) for (const a of arr.slice(0, 10_000)) if (a instanceof PdfRef) annotationPages.set(a.num, i + 1);
  });

  const pagesToDiffAnnots = new Set<number>();
  const filledFields = new Set<number>();
  const otherChanged: { num: number; old: PdfObject }[] = [];
  for (const [num, entry] of examinedEntries(prev, cur, rev)) {
    budget.object();
    if (num === 0) continue;
    const prevEntry = prev.xref.entries.get(num);
    const hadObject = existed(prev, num);
    if (entry.type === 'free') {
      if (hadObject) add('forbidden', 'object-deleted', `${describeObject(num, prev.getObject(refOf(prev, num)))} deleted`);
      continue;
    }
    // Some writers re-list unchanged objects at their old places in every update (a 法大大 contract's update lists
    // object 1 at offset 17). An entry that says exactly what the previous revision said changes nothing; one that
    // points anywhere else in earlier bytes (an older version of the object, a hidden one) rewrites history.
    if (relisted(prev, rev, num, entry)) continue;
    if (entry.type === 'offset' && (entry.offset < rev.start || entry.offset >= rev.eofEnd)) {
      add('forbidden', 'xref-points-outside-revision', `object ${num} is placed at offset ${entry.offset}, outside the bytes of revision ${rev.number}`);
      continue;
    }
    if (entry.type === 'compressed' && rev.entries.get(entry.stream)?.type !== 'offset') {
      add('forbidden', 'xref-points-outside-revision', `object ${num} is placed in object stream ${entry.stream}, which revision ${rev.number} did not write`);
      continue;
    }
    const value = cur.getObject(new PdfRef(num, entry.type === 'offset' ? entry.gen : 0));
    const old = hadObject && prevEntry !== undefined ? prev.getObject(refOf(prev, num)) : undefined;
    // Container streams carry no content of their own; the objects in them are compared one by one (examinedEntries).
    // Only a container replacing a container: an old content stream re-typed /ObjStm still shows on its page.
    if (isContainer(value) && (old === undefined || isContainer(old))) continue;
    if (old === undefined) continue; // a new object: judged through what refers to it
    // Written again unchanged — where another writer put it (an object stream) and however it encodes it.
    if (sameValue(old, value, budget, (x) => prev.decode(x), (x) => cur.decode(x))) continue;

    if (num === prev.catalogRef.num) {
      diffCatalog(prev, cur, old, value, budget, add);
    } else if (acroFormRef instanceof PdfRef && num === acroFormRef.num) {
      diffAcroForm(prev, cur, old, value, budget, add);
    } else if (fieldsRef instanceof PdfRef && num === fieldsRef.num) {
      diffFields(cur, old, value, add);
    } else if (pageIndex.has(num)) {
      const i = pageIndex.get(num)!;
      const keys = old instanceof PdfDict && value instanceof PdfDict ? changedKeys(old, value, budget) : ['(type)'];
      for (const k of keys) {
        // A page entry re-pointed to a new object of the same value changes nothing a reader sees: a writer that
        // writes the page's resources anew, equal, in every update (SecCommerce: DSS's Signature-P-DE_SCI-4.pdf,
        // 17 → 35 → 51), or its /Contents, /Annots, /MediaBox … Compared one level down, by value (streams by decoded
        // bytes); the objects the value refers to are the same ones, and each of those an update redefines is judged
        // where it stands (examinedEntries).
        if (k !== '(type)' && samePageEntry(prev, cur, (old as PdfDict).get(k), (value as PdfDict).get(k), budget)) continue;
        if (k === 'Annots') pagesToDiffAnnots.add(i);
        else if (k === 'StructParents') add('annotation', 'structure-updated', `page ${i + 1}: /StructParents set (tagged PDF, §14.7.4.4)`);
        else if (k === 'Tabs') add('annotation', 'page-tab-order', `page ${i + 1}: the tab order of its annotations (/Tabs) set`);
        else if (k === 'Contents') add('forbidden', 'page-content-changed', `the content of page ${i + 1} was replaced`);
        else if (k === 'Resources') add('forbidden', 'page-resources-changed', `the resources of page ${i + 1} were replaced`);
        else add('forbidden', 'page-changed', `page ${i + 1}: /${k} changed`);
      }
    } else if (annotsArrays.has(num)) {
      pagesToDiffAnnots.add(annotsArrays.get(num)!);
    } else if (prevTree.nodes.has(num)) {
      const keys = old instanceof PdfDict && value instanceof PdfDict ? changedKeys(old, value, budget) : ['(type)'];
      // A writer's private mark on a page tree node (iText adds /ITXT to the root: DSS's pkcs7_sha1.pdf) shows nothing;
      // the keys of Table 29 and the inheritable page attributes (§7.7.3.4) do.
      if (keys.every((k) => !PAGE_TREE_KEYS.has(k) && k !== '(type)')) add('metadata', 'writer-mark', `page tree node ${num}: ${keys.map((k) => `/${k}`).join(', ')} set (a key no page attribute uses)`);
      else add('forbidden', 'page-tree-changed', `page tree node ${num} changed (/Kids or /Count)`);
    } else if (drNums.has(num) && onlyGrown(prev, cur, old, value, budget)) {
      // An indirect /DR (or one of its resource dictionaries) that only gains names: a page may share the object,
      // so a name re-pointed here is judged as any other change (otherChanged), an added one shows nowhere yet.
      add('signing', 'form-resources-added', `/AcroForm /DR: resources added (none changed) in object ${num}`);
    } else if (dssNums.has(num)) {
      add('signing', 'dss-updated', 'the DSS (validation data) was updated');
    } else if (structureNums.has(num)) {
      add('annotation', 'structure-updated', `the logical structure (tagged PDF, §14.7) was updated: ${describeObject(num, old)}`);
    } else if (metadataNums.has(num)) {
      add('metadata', 'metadata-updated', `the document's ${num === infoNum ? 'information dictionary (/Info)' : 'XMP metadata stream'} was updated`);
    } else if (annotationPages.has(num) && isMarkupAnnotation(old) && isMarkupAnnotation(value)) {
      const page = annotationPages.get(num)!;
      const box = rectOf(cur, value);
      const pageEntry = prevTree.pages[page - 1]!;
      if (box && protectedBoxesOf(prev, prevSigs, pageEntry.dict, pageEntry.ref).some((p) => overlaps(p, box))) {
        add('forbidden', 'overlay-on-signature', `a /${value.name('Subtype') ?? '?'} annotation on page ${page} was moved or changed to cover an earlier signature's appearance`);
      } else {
        add('annotation', 'annotation-modified', `a /${value.name('Subtype') ?? '?'} annotation on page ${page} was modified`);
      }
    } else {
      const filled = fieldChange(prev, cur, num, old, value, newSigs.map((s) => s.sigRef?.num), budget);
      if (filled) {
        add(filled.cls, filled.kind, filled.description, filled.field);
        filledFields.add(num);
      } else {
        otherChanged.push({ num, old });
      }
    }
  }

  // Every other redefined object is judged by every place that refers to it in the earlier revision, however the
  // update reached it (a table, an xref stream, an object stream): an appearance stream or /AP dictionary may be
  // rewritten only when every widget that shows it belongs to a field filled (or signed) in this very update.
  if (otherChanged.length > 0) {
    const referrers = referrerIndex(prev, budget);
    for (const { num, old } of otherChanged) {
      const use = appearanceUse(prev, num, referrers);
      const own = use.widgets.length > 0 && use.other.length === 0 && use.widgets.every((w) => belongsToFilled(prev, w, filledFields));
      const refs = referrers.get(num) ?? [];
      if (num === extensionsNum && refs.every((r) => r.from === prev.catalogRef.num && r.path.join('/') === 'Extensions')) {
        // The catalog's /Extensions (§7.12) written in place, reached from nowhere else (pyHanko's extensions-update-indirect).
        add('metadata', 'metadata-updated', `catalog /Extensions updated (${describeObject(num, old)})`);
      } else if (own) {
        add('form-fill', 'appearance-updated', `the appearance of filled field "${fieldInfo(prev, prev.resolveDict(refOf(prev, use.widgets[0]!))!).name}" was rewritten (${describeObject(num, old)})`);
      } else if (use.widgets.length > 0 || use.appearance) {
        const users = [...use.widgets.filter((w) => !belongsToFilled(prev, w, filledFields)).map((w) => `annotation ${w}`), ...use.other.map((o) => `object ${o}`)];
        add('forbidden', 'shared-appearance-changed',
          `${describeObject(num, old)}, an appearance shown by ${users.slice(0, 4).join(', ')}${users.length > 4 ? ` and ${users.length - 4} more` : ''}, was rewritten: it changes what something other than the filled field shows`);
      } else if (contentStreams(prev, prevTree).has(num)) {
        add('forbidden', 'page-content-changed', `the content of page ${contentStreams(prev, prevTree).get(num)! + 1} was rewritten (${describeObject(num, old)})`);
      } else {
        const subtype = old instanceof PdfStream ? old.dict.name('Subtype') : undefined;
        // A seal is drawn as an image or, from vector seal images, as a form XObject of paths (pdf/svg-seal.ts).
        const kind = subtype === 'Image' ? 'image-replaced' : subtype === 'Form' ? 'form-replaced' : 'object-changed';
        add('forbidden', kind, `${describeObject(num, old)} was changed`);
      }
    }
  }

  if (samePages) {
    for (const i of pagesToDiffAnnots) {
      diffAnnots(prev, cur, i, prevTree.pages[i]!, curTree.pages[i]!.dict, prevSigs, newSigs, markPages, add);
    }
  }
  return out;
}


function existed(doc: PdfDocument, num: number): boolean {
  const e = doc.xref.entries.get(num);
  if (!e || e.type === 'free') return false;
  return doc.getObject(refOf(doc, num)) !== null;
}

function refOf(doc: PdfDocument, num: number): PdfRef {
  const e = doc.xref.entries.get(num);
  return new PdfRef(num, e?.type === 'offset' ? e.gen : 0);
}

function dssObjectNumbers(doc: PdfDocument): Set<number> {
  const nums = new Set<number>();
  const dss = doc.catalog.get('DSS');
  if (dss instanceof PdfRef) nums.add(dss.num);
  const dict = doc.resolveDict(dss);
  for (const key of ['Certs', 'OCSPs', 'CRLs', 'VRI']) {
    const v = dict?.get(key);
    if (v instanceof PdfRef) nums.add(v.num);
  }
  // The VRI entries of each signature and their /Cert, /CRL, /OCSP arrays (ETSI EN 319 142-1 §5.4.2.3), which a
  // later LTV update extends in place (DSS's wrong-digest-algo.pdf).
  const vri = doc.resolveDict(dict?.get('VRI'));
  for (const [, entry] of [...(vri?.entries ?? [])].slice(0, 10_000)) {
    if (entry instanceof PdfRef) nums.add(entry.num);
    const e = doc.resolveDict(entry);
    for (const key of ['Cert', 'CRL', 'OCSP', 'TS']) {
      const v = e?.get(key);
      if (v instanceof PdfRef) nums.add(v.num);
    }
  }
  return nums;
}

function diffAnnots(
  prev: PdfDocument,
  cur: PdfDocument,
  pageIndex: number,
  oldEntry: PageEntry,
  newPage: PdfDict,
  earlierSignatureFields: SignatureField[],
  newSigs: { name: string; field: PdfDict }[],
  markPages: Map<number, string>,
  add: Add,
): void {
  const page = pageIndex + 1;
  const oldPage = oldEntry.dict;
  const oldAnnots = prev.resolve(oldPage.get('Annots'));
  const newAnnots = cur.resolve(newPage.get('Annots'));
  const before = Array.isArray(oldAnnots) ? oldAnnots : [];
  const after = Array.isArray(newAnnots) ? newAnnots : [];
  const key = (o: PdfObject): string => (o instanceof PdfRef ? `${o.num} ${o.gen}` : `direct ${JSON.stringify(String(o))}`);
  const afterKeys = new Set(after.map(key));
  for (const a of before) {
    if (afterKeys.has(key(a))) continue;
    const removed = prev.resolveDict(a);
    // A widget (a field's, a signature's) or a seal mark is part of the form or of a signature: removing it is not an
    // annotation change. Other annotations may be removed after an approval signature (as pyHanko and DSS allow).
    if (removed && isMarkupAnnotation(removed) && !isSealMark(removed)) {
      add('annotation', 'annotation-removed', `a /${removed.name('Subtype') ?? '?'} annotation was removed from page ${page}`);
    } else {
      add('forbidden', 'annotation-removed', `${removed?.name('Subtype') === 'Widget' ? 'a widget' : 'a seal mark or unreadable annotation'} was removed from page ${page}`);
    }
  }
  const beforeKeys = new Set(before.map(key));

  // The appearances of earlier signatures on this page: nothing new may cover them.
  const protectedBoxes = protectedBoxesOf(prev, earlierSignatureFields, oldPage, oldEntry.ref);

  for (const a of after) {
    if (beforeKeys.has(key(a))) continue;
    const annot = cur.resolveDict(a);
    if (!annot) continue;
    const subtype = annot.name('Subtype') ?? '?';
    const box = rectOf(cur, annot);
    // A widget is the new signature's when it is the field itself, a kid that names it as /Parent, or a kid its
    // /Kids lists without a /Parent back (pyHanko's separate-annots-kids-indir.pdf; §12.7.3.1 wants the /Parent).
    const listedKid = (s: { field: PdfDict }): boolean => {
      const kids = cur.resolve(s.field.get('Kids'));
      return a instanceof PdfRef && Array.isArray(kids) && kids.some((k) => k instanceof PdfRef && k.num === a.num);
    };
    const newSig = newSigs.find((s) => s.field === annot || fieldInfo(cur, annot).name === s.name || listedKid(s));
    if (subtype === 'Widget') {
      const info = fieldInfo(cur, annot);
      if ((info.ft === 'Sig' || (newSig && listedKid(newSig))) && newSig) {
        add('signing', 'signature-widget-added', `the widget of signature "${newSig.name}" on page ${page}`);
      } else if (info.ft === 'Sig' && isEmptyBox(box)) {
        add('signing', 'signature-field-added', `an empty, invisible signature field "${info.name}" on page ${page}`);
      } else {
        add('forbidden', info.ft === 'Sig' ? 'unsigned-signature-widget' : 'form-field-added',
          `a visible ${info.ft === 'Sig' ? 'signature widget that belongs to no signature' : 'form field widget'} ("${info.name}") added on page ${page}`);
      }
      continue;
    }
    const flags = cur.resolve(annot.get('F'));
    const locked = typeof flags === 'number' && (flags & 132) === 132;
    if (subtype === 'Stamp' && locked && markPages.has(page)) {
      add('signing', 'seal-mark-added', `a mark of seal "${markPages.get(page)}" on page ${page}`);
      continue;
    }
    if (box && protectedBoxes.some((p) => overlaps(p, box))) {
      add('forbidden', 'overlay-on-signature', `a /${subtype} annotation added on page ${page} covers an earlier signature's appearance`);
      continue;
    }
    add('annotation', 'annotation-added', `a /${subtype} annotation added on page ${page}`);
  }
}

/** A page entry's old and new values, each resolved in its own revision, are the same value (compare.ts sameValue). */
function samePageEntry(prev: PdfDocument, cur: PdfDocument, a: PdfObject | undefined, b: PdfObject | undefined, budget: Budget): boolean {
  if (a === undefined || b === undefined) return false;
  return sameValue(prev.resolve(a), cur.resolve(b), budget, (x) => prev.decode(x), (x) => cur.decode(x));
}
