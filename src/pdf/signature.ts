/**
 * The objects of one visible signature, written as one incremental update (ISO 32000-1 §12.8): the signature
 * dictionary with a /Contents placeholder, a signature field merged with its single widget (PDF 2.0 §12.7.5.5: one
 * widget per signature field), the widget's appearance (the seal image), and new versions of the page (/Annots) and of
 * the AcroForm (/Fields, /SigFlags). Page content streams are never touched.
 *
 * A seal with several marks (multi-page, cross-page, every keyword hit) is still one signature: the widget carries the
 * first mark and every other mark is a locked, printable Stamp annotation (§12.5.6.12) with its own appearance, written
 * in the same update so the one signature covers them all and removing the revision removes them all. All marks share
 * one image XObject (and its /SMask).
 */
import { isSealKindName, SEAL_KIND_KEY } from './seal-kind-record.ts';
import { PdfDict, PdfRaw, PdfRef, PdfString, dict, name, type PdfObject } from './objects.ts';
import { IncrementalWriter } from './incremental.ts';
import type { PdfDocument, PageInfo, Rect } from './document.ts';
import type { SealImage } from './image.ts';
import { Appearances, type DateStamp, type SealWindow } from './appearance.ts';
import { sealingRefusal } from './encryption/permissions.ts';
import { docMdpReference, setDocMdp, type DocMdpPermission } from './certification.ts';
import { pdfDate } from './pdf-date.ts';
import { SealdError } from '../errors.ts';

/** Where one mark goes: a rectangle on a page, in the page's default user space. */
export interface Mark {
  page: PageInfo;
  rect: Rect;
  /** The part of the seal this mark shows (a cross-page strip); the whole seal, fitted to `rect`, when absent. */
  window?: SealWindow;
}

export type { SealWindow } from './appearance.ts';

/** Which placement made the signature: recorded as /Seald_Placement in the signature dictionary. */
export type PlacementKind = 'Position' | 'MultiPage' | 'CrossPage' | 'Keyword';

export interface SignatureSpec {
  fieldName: string;
  signingTime: Date;
  /** /M's zone, minutes east of UT (pdf-date.ts utcOffsetMinutes); default 0, UT. */
  utcOffsetMinutes?: number;
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Bytes reserved for the DER CMS in /Contents. */
  contentsSize: number;
  image: SealImage;
  /** The widget's mark. */
  mark: Mark;
  /** Every other mark of the same seal: Stamp annotations in the same revision. */
  otherMarks?: readonly Mark[];
  /** Default Position. */
  placementKind?: PlacementKind;
  /** The seal's kind (official, contract, …), written as /Seald_SealKind (seal-kind-record.ts); omitted when unset. */
  sealKind?: string;
  /**
   * Make this a certification signature with this DocMDP permission (§12.8.2.2, Table 254): 1 no changes, 2 form
   * filling and signing. The caller checks checkCertifiable first.
   */
  certification?: DocMdpPermission;
  /** 24 bytes for the trailer's new /ID (IncrementalWriter); default random. */
  idEntropy?: Uint8Array;
  /** The signing date drawn under the seal on every whole mark (appearance.ts); none when absent. */
  dateStamp?: DateStamp;
}

export interface PreparedSignature {
  /** The update to append to the original document; /ByteRange is already filled in, /Contents still zeros. */
  bytes: Buffer;
  /** Length of the original document (where `bytes` starts). */
  base: number;
  byteRange: [number, number, number, number];
  /** The revision this update creates (1-based). */
  revision: number;
}

const CONTENTS = 'Contents';
const BYTE_RANGE = 'ByteRange';
// Ten digits each: room for offsets up to 9,999,999,999 bytes.
const BYTE_RANGE_PLACEHOLDER = '[0 0000000000 0000000000 0000000000]';

/**
 * Refuse what would break trust or the file before spending an HSM operation on it: an encrypted document whose
 * permissions (§7.6.3.2 Table 22) forbid signing, or a certification a new signature would break. `markCount` > 1 means stamp
 * annotations besides the widget, which a DocMDP P=2 certification does not allow (§12.8.2.2, Table 254: P=2 permits
 * filling in forms and signing; only P=3 adds annotations).
 */
export function checkSealable(doc: PdfDocument, markCount = 1): void {
  const encryption = doc.encryption;
  const refusal = encryption && sealingRefusal(encryption.permissions, encryption.ownerAuthenticated, markCount);
  if (refusal !== undefined) throw new SealdError('precondition', 'PDF_PERMISSION_DENIED', refusal);
  const p = doc.docMdpPermission();
  if (p === 1) {
    throw new SealdError(
      'precondition',
      'DOCUMENT_CERTIFIED_NO_CHANGES',
      'the document is certified with DocMDP P=1 (no changes allowed): any new signature would invalidate its certification',
    );
  }
  if (p === 2 && markCount > 1) {
    throw new SealdError(
      'precondition',
      'DOCUMENT_CERTIFIED_NO_ANNOTATIONS',
      `the document is certified with DocMDP P=2 (form filling and signing only): a seal with ${markCount} marks adds ` +
        'stamp annotations, which would invalidate its certification; seal it with a single mark',
    );
  }
}

/** A field name not yet used in the document: `Seal1`, `Seal2`… */
export function uniqueFieldName(doc: PdfDocument, wanted?: string): string {
  const names = doc.fieldNames();
  if (wanted !== undefined) {
    if (!wanted || /[.\x00-\x1f]/.test(wanted)) {
      throw new SealdError('invalid-input', 'BAD_FIELD_NAME', `field name "${wanted}" is not allowed (no dots or control characters)`);
    }
    if (names.has(wanted)) {
      throw new SealdError('invalid-input', 'FIELD_EXISTS', `the document already has a field named "${wanted}"`);
    }
    return wanted;
  }
  for (let i = 1; ; i++) if (!names.has(`Seal${i}`)) return `Seal${i}`;
}

export function prepareSignature(doc: PdfDocument, spec: SignatureSpec): PreparedSignature {
  if (spec.sealKind !== undefined && !isSealKindName(spec.sealKind)) {
    throw new SealdError('invalid-input', 'BAD_SEAL_KIND', `"${spec.sealKind}" is not a seal kind name`);
  }
  const w = new IncrementalWriter(doc, spec.idEntropy);
  const { mark } = spec;
  const others = spec.otherMarks ?? [];
  const appearances = new Appearances(w, spec.image, spec.dateStamp);

  const pages = [...new Set([mark, ...others].map((m) => m.page.number))].sort((a, b) => a - b);
  const sig = w.add(
    dict({
      Type: name('Sig'),
      Filter: name('Adobe.PPKLite'),
      SubFilter: name('ETSI.CAdES.detached'),
      ...signaturePlaceholders(spec.contentsSize),
      M: new PdfString(Buffer.from(pdfDate(spec.signingTime, spec.utcOffsetMinutes), 'latin1')),
      Reason: spec.reason ? PdfString.text(spec.reason) : undefined,
      Location: spec.location ? PdfString.text(spec.location) : undefined,
      ContactInfo: spec.contactInfo ? PdfString.text(spec.contactInfo) : undefined,
      Prop_Build: dict({ App: dict({ Name: name('seald') }) }),
      // Readers and validators ignore dictionary keys they do not know; seald's verifier reports the placement.
      Seald_Placement: dict({ Kind: name(spec.placementKind ?? 'Position'), Pages: pages }),
      [SEAL_KIND_KEY]: spec.sealKind === undefined ? undefined : name(spec.sealKind),
      Reference: spec.certification === undefined ? undefined : [docMdpReference(spec.certification)],
    }),
  );
  const widget = w.add(
    signatureWidget({ fieldName: spec.fieldName, sig, page: mark.page, rect: mark.rect.map(round), appearance: appearances.of(mark) }),
  );
  const annotations: [PageInfo, PdfRef][] = [[mark.page, widget]];
  for (const other of others) {
    const stamp = w.add(
      dict({
        Type: name('Annot'),
        Subtype: name('Stamp'),
        F: 132,
        Rect: other.rect.map(round),
        P: other.page.ref,
        AP: dict({ N: appearances.of(other) }),
      }),
    );
    annotations.push([other.page, stamp]);
  }
  addAnnotations(doc, w, annotations);
  addField(doc, w, widget, spec.certification === undefined ? undefined : (catalog) => setDocMdp(doc, w, catalog, sig));
  return finishSignatureUpdate(doc, w, spec.contentsSize);
}

/**
 * A signature field merged with its single widget annotation (§12.7.5.5, §12.5.6.19): /T, /V the signature
 * dictionary, Print (bit 3) | Locked (bit 8) (§12.5.3); invisible when `rect` is zero and there is no appearance.
 */
export function signatureWidget(field: {
  fieldName: string;
  sig: PdfRef;
  page: PageInfo;
  rect: number[];
  appearance?: PdfRef;
}): PdfDict {
  return dict({
    Type: name('Annot'),
    Subtype: name('Widget'),
    FT: name('Sig'),
    T: PdfString.text(field.fieldName),
    V: field.sig,
    F: 132,
    Rect: field.rect,
    P: field.page.ref,
    AP: field.appearance === undefined ? undefined : dict({ N: field.appearance }),
  });
}

/** The /ByteRange and /Contents placeholders of a signature dictionary (§12.8.1, Table 252). */
export function signaturePlaceholders(contentsSize: number): { ByteRange: PdfRaw; Contents: PdfRaw } {
  return {
    ByteRange: new PdfRaw(Buffer.from(BYTE_RANGE_PLACEHOLDER, 'latin1'), BYTE_RANGE),
    Contents: new PdfRaw(Buffer.from(`<${'0'.repeat(contentsSize * 2)}>`, 'latin1'), CONTENTS),
  };
}

/**
 * Writes the update and fills in /ByteRange: everything but the /Contents hex string, which stays zeros until
 * embedCms (the signature dictionary carries the placeholders of signaturePlaceholders).
 */
export function finishSignatureUpdate(doc: PdfDocument, w: IncrementalWriter, contentsSize: number): PreparedSignature {
  const section = w.write();
  const contentsStart = section.marks.get(CONTENTS)!;
  const contentsEnd = contentsStart + contentsSize * 2 + 2;
  const total = doc.source.size + section.bytes.length;
  const byteRange: [number, number, number, number] = [0, contentsStart, contentsEnd, total - contentsEnd];
  const base = doc.source.size;
  const text = `[${byteRange.join(' ')}]`.padEnd(BYTE_RANGE_PLACEHOLDER.length, ' ');
  section.bytes.write(text, section.marks.get(BYTE_RANGE)! - base, 'latin1');
  return { bytes: section.bytes, base, byteRange, revision: doc.revisionCount + 1 };
}

/** Write the DER CMS into the /Contents placeholder (hex, zero padded, §12.8.1). */
export function embedCms(prepared: PreparedSignature, cms: Uint8Array): void {
  const [, start, end] = prepared.byteRange;
  const capacity = (end - start - 2) / 2;
  if (cms.length > capacity) {
    throw new SealdError('internal', 'CONTENTS_TOO_SMALL', `the signature (${cms.length} bytes) does not fit the reserved ${capacity} bytes`);
  }
  prepared.bytes.write(Buffer.from(cms).toString('hex'), start - prepared.base + 1, 'latin1');
}

/**
 * Add annotations to their pages' /Annots: one new version per page (or per indirect /Annots array), however many
 * marks land on it.
 */
export function addAnnotations(doc: PdfDocument, w: IncrementalWriter, annotations: readonly [PageInfo, PdfRef][]): void {
  const byPage = new Map<number, { page: PageInfo; refs: PdfRef[] }>();
  for (const [page, ref] of annotations) {
    const entry = byPage.get(page.ref.num) ?? { page, refs: [] };
    entry.refs.push(ref);
    byPage.set(page.ref.num, entry);
  }
  const arrays = new Map<number, { ref: PdfRef; items: PdfObject[] }>();
  for (const { page, refs } of byPage.values()) {
    const annots = page.dict.get('Annots');
    // An /Annots reference to an object the document lacks reads as null (§7.3.10): the page gets a direct array.
    if (annots instanceof PdfRef && Array.isArray(doc.resolve(annots))) {
      let shared = arrays.get(annots.num);
      if (shared === undefined) {
        const arr = doc.resolve(annots);
        shared = { ref: annots, items: [...(Array.isArray(arr) ? arr : [])] };
        arrays.set(annots.num, shared);
      }
      shared.items.push(...refs);
      continue;
    }
    const updated = page.dict.clone();
    const direct = doc.resolve(annots);
    updated.set('Annots', [...(Array.isArray(direct) ? direct : []), ...refs]);
    w.update(page.ref, updated);
  }
  for (const { ref, items } of arrays.values()) w.update(ref, items);
}

/**
 * Append the field to /AcroForm /Fields and set /SigFlags SignaturesExist|AppendOnly (§12.7.2, Table 219).
 * `changeCatalog`, when given, edits the catalog's new version (which is then always written).
 */
export function addField(doc: PdfDocument, w: IncrementalWriter, field: PdfRef, changeCatalog?: (catalog: PdfDict) => void): void {
  const catalog = doc.catalog;
  const afEntry = catalog.get('AcroForm');
  const existing = doc.resolveDict(afEntry);
  const af = existing ? existing.clone() : new PdfDict();
  const fields = af.get('Fields');
  const list = doc.resolve(fields);
  // References that lead nowhere (an /AcroForm or /Fields object the file lost: a null, §7.3.10) are replaced by
  // new objects rather than written at their dangling number (found by test/fuzz).
  if (fields instanceof PdfRef && Array.isArray(list)) {
    w.update(fields, [...list, field]);
  } else {
    af.set('Fields', [...(Array.isArray(list) ? list : []), field]);
  }
  const flags = doc.resolve(af.get('SigFlags'));
  af.set('SigFlags', (typeof flags === 'number' ? flags : 0) | 3);
  const cat = catalog.clone();
  // A dangling /AcroForm reference (found by test/fuzz) gets a new object rather than an update at its number.
  const inPlace = afEntry instanceof PdfRef && existing !== undefined;
  if (inPlace) w.update(afEntry, af);
  else cat.set('AcroForm', existing ? af : w.add(af));
  changeCatalog?.(cat);
  if (changeCatalog !== undefined || !inPlace) w.update(doc.catalogRef, cat);
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

