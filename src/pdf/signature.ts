/**
 * The objects of one visible signature, written as one incremental update (ISO 32000-1 §12.8): the signature
 * dictionary with a /Contents placeholder, a signature field merged with its single widget (PDF 2.0 §12.7.5.5: one
 * widget per signature field), the widget's appearance (the seal image), and new versions of the page (/Annots) and of
 * the AcroForm (/Fields, /SigFlags). Page content streams are never touched.
 */
import { PdfDict, PdfRaw, PdfRef, PdfStream, PdfString, dict, name } from './objects.ts';
import { IncrementalWriter } from './incremental.ts';
import type { PdfDocument, PageInfo, Rect } from './document.ts';
import type { SealImage } from './image.ts';
import { numberToken } from './serialize.ts';
import { SealdError } from '../errors.ts';

/** Where one mark goes: a rectangle on a page, in the page's default user space. */
export interface Mark {
  page: PageInfo;
  rect: Rect;
}

export interface SignatureSpec {
  fieldName: string;
  signingTime: Date;
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Bytes reserved for the DER CMS in /Contents. */
  contentsSize: number;
  image: SealImage;
  /** The widget's mark. */
  mark: Mark;
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

/** Refuse what would break trust or the file before spending an HSM operation on it. */
export function checkSealable(doc: PdfDocument): void {
  const p = doc.docMdpPermission();
  if (p === 1) {
    throw new SealdError(
      'precondition',
      'DOCUMENT_CERTIFIED_NO_CHANGES',
      'the document is certified with DocMDP P=1 (no changes allowed): any new signature would invalidate its certification',
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
  const w = new IncrementalWriter(doc);
  const { mark } = spec;

  const appearance = w.add(appearanceStream(w, spec.image, mark));
  const sig = w.add(
    dict({
      Type: name('Sig'),
      Filter: name('Adobe.PPKLite'),
      SubFilter: name('ETSI.CAdES.detached'),
      ...signaturePlaceholders(spec.contentsSize),
      M: new PdfString(Buffer.from(pdfDate(spec.signingTime), 'latin1')),
      Reason: spec.reason ? PdfString.text(spec.reason) : undefined,
      Location: spec.location ? PdfString.text(spec.location) : undefined,
      ContactInfo: spec.contactInfo ? PdfString.text(spec.contactInfo) : undefined,
      Prop_Build: dict({ App: dict({ Name: name('seald') }) }),
    }),
  );
  const widget = w.add(
    dict({
      Type: name('Annot'),
      Subtype: name('Widget'),
      FT: name('Sig'),
      T: PdfString.text(spec.fieldName),
      V: sig,
      // Print (bit 3) | Locked (bit 8), §12.5.3
      F: 132,
      Rect: mark.rect.map(round),
      P: mark.page.ref,
      AP: dict({ N: appearance }),
    }),
  );
  addAnnotation(doc, w, mark.page, widget);
  addField(doc, w, widget);

  return finishSignatureUpdate(doc, w, spec.contentsSize);
}

/**
 * Writes the update and fills in /ByteRange: everything but the /Contents hex string, which is left zeros (the
 * signature dictionary must carry PdfRaw placeholders with the ids CONTENTS and BYTE_RANGE).
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

/** The /ByteRange and /Contents placeholders of a signature dictionary (§12.8.1, Table 252). */
export function signaturePlaceholders(contentsSize: number): { ByteRange: PdfRaw; Contents: PdfRaw } {
  return {
    ByteRange: new PdfRaw(Buffer.from(BYTE_RANGE_PLACEHOLDER, 'latin1'), BYTE_RANGE),
    Contents: new PdfRaw(Buffer.from(`<${'0'.repeat(contentsSize * 2)}>`, 'latin1'), CONTENTS),
  };
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
 * The widget's normal appearance: a form XObject drawing the seal image, fitted (aspect kept) and centred in the
 * mark. On a rotated page, /Matrix turns the appearance with the page so the seal looks upright to the reader.
 */
function appearanceStream(w: IncrementalWriter, image: SealImage, mark: Mark): PdfStream {
  const rotate = mark.page.rotate;
  const [x0, y0, x1, y1] = mark.rect;
  // The form's own width and height are the mark's as the reader sees it.
  const quarter = rotate === 90 || rotate === 270;
  const bw = quarter ? y1 - y0 : x1 - x0;
  const bh = quarter ? x1 - x0 : y1 - y0;
  const scale = Math.min(bw / image.width, bh / image.height);
  const iw = image.width * scale;
  const ih = image.height * scale;
  const smask = image.alpha
    ? w.add(
        new PdfStream(
          dict({ Type: name('XObject'), Subtype: name('Image'), Width: image.width, Height: image.height, ColorSpace: name('DeviceGray'), BitsPerComponent: 8, Filter: name('FlateDecode') }),
          image.alpha,
        ),
      )
    : undefined;
  const img = w.add(
    new PdfStream(
      dict({
        Type: name('XObject'), Subtype: name('Image'), Width: image.width, Height: image.height,
        ColorSpace: name('DeviceRGB'), BitsPerComponent: 8, Filter: name('FlateDecode'), SMask: smask,
      }),
      image.rgb,
    ),
  );
  const n = numberToken;
  const content = `q ${n(iw)} 0 0 ${n(ih)} ${n((bw - iw) / 2)} ${n((bh - ih) / 2)} cm /Seal Do Q\n`;
  const rad = (rotate * Math.PI) / 180;
  const [c, s] = [Math.round(Math.cos(rad)), Math.round(Math.sin(rad))];
  return new PdfStream(
    dict({
      Type: name('XObject'),
      Subtype: name('Form'),
      BBox: [0, 0, round(bw), round(bh)],
      Matrix: rotate ? [c, s, -s, c, 0, 0] : undefined,
      Resources: dict({ XObject: dict({ Seal: img }) }),
    }),
    Buffer.from(content, 'latin1'),
  );
}

export function addAnnotation(doc: PdfDocument, w: IncrementalWriter, page: PageInfo, annot: PdfRef): void {
  const annots = page.dict.get('Annots');
  if (annots instanceof PdfRef) {
    const arr = doc.resolve(annots);
    w.update(annots, [...(Array.isArray(arr) ? arr : []), annot]);
    return;
  }
  const updated = page.dict.clone();
  updated.set('Annots', [...(Array.isArray(annots) ? annots : []), annot]);
  w.update(page.ref, updated);
}

/** Append the field to /AcroForm /Fields and set /SigFlags SignaturesExist|AppendOnly (§12.7.2, Table 219). */
export function addField(doc: PdfDocument, w: IncrementalWriter, field: PdfRef): void {
  const catalog = doc.catalog;
  const afEntry = catalog.get('AcroForm');
  const existing = doc.resolveDict(afEntry);
  const af = existing ? existing.clone() : new PdfDict();
  const fields = af.get('Fields');
  if (fields instanceof PdfRef) {
    const arr = doc.resolve(fields);
    w.update(fields, [...(Array.isArray(arr) ? arr : []), field]);
  } else {
    af.set('Fields', [...(Array.isArray(fields) ? fields : []), field]);
  }
  const flags = doc.resolve(af.get('SigFlags'));
  af.set('SigFlags', (typeof flags === 'number' ? flags : 0) | 3);
  if (afEntry instanceof PdfRef) {
    w.update(afEntry, af);
  } else {
    const cat = catalog.clone();
    cat.set('AcroForm', existing ? af : w.add(af));
    w.update(doc.catalogRef, cat);
  }
}

/** §7.9.4 date: D:YYYYMMDDHHmmSS+00'00' (UTC). */
export function pdfDate(d: Date): string {
  const p = (v: number, n = 2) => String(v).padStart(n, '0');
  return `D:${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+00'00'`;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

