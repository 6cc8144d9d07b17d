/**
 * Tools to build forged and certified documents for the verifier's tests, with seald's own PDF layer: append an
 * incremental update that changes whatever an attacker would change, or a signature of any shape (broken /ByteRange,
 * no /Contents, a certification with DocMDP P=1/2/3, an unsigned "sneaky" signature widget), signed when asked with a
 * software key from test/crypto/software-signer.ts. Every fixture is built by code, from real seald output.
 */
import { createHash } from 'node:crypto';
import { createPadesCms } from '../../../src/crypto/cms.ts';
import type { Signer } from '../../../src/crypto/signer.ts';
import { PdfDocument } from '../../../src/pdf/document.ts';
import { IncrementalWriter } from '../../../src/pdf/incremental.ts';
import { PdfDict, PdfRaw, PdfRef, PdfStream, PdfString, dict, name, type PdfObject } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';

export function open(bytes: Uint8Array): PdfDocument {
  return PdfDocument.open(bufferSource(bytes));
}

/** Append one incremental update built by `edit`; returns the whole new file. */
export function appendUpdate(bytes: Uint8Array, edit: (doc: PdfDocument, w: IncrementalWriter) => void): Buffer {
  const doc = open(bytes);
  const w = new IncrementalWriter(doc);
  edit(doc, w);
  return Buffer.concat([bytes, w.write().bytes]);
}

/** Page `n` (1-based) with a new /Annots entry (the page or its indirect /Annots array updated). */
export function addAnnotation(doc: PdfDocument, w: IncrementalWriter, page: number, ...annot: PdfRef[]): void {
  const p = doc.page(page);
  const annots = p.dict.get('Annots');
  if (annots instanceof PdfRef) {
    const arr = doc.resolve(annots);
    w.update(annots, [...(Array.isArray(arr) ? arr : []), ...annot]);
    return;
  }
  const updated = p.dict.clone();
  updated.set('Annots', [...(Array.isArray(annots) ? annots : []), ...annot]);
  w.update(p.ref, updated);
}

/** Add several fields to /AcroForm /Fields in one go. */
function addFields(doc: PdfDocument, w: IncrementalWriter, fields: PdfRef[]): void {
  const catalog = doc.catalog.clone();
  const af = doc.resolveDict(catalog.get('AcroForm'))?.clone() ?? new PdfDict();
  const existing = doc.resolve(af.get('Fields'));
  af.set('Fields', [...(Array.isArray(existing) ? existing : []), ...fields]).set('SigFlags', 3);
  catalog.set('AcroForm', w.add(af));
  w.update(doc.catalogRef, catalog);
}

export function addField(doc: PdfDocument, w: IncrementalWriter, field: PdfRef, catalogExtra: Record<string, PdfObject> = {}): void {
  const catalog = doc.catalog.clone();
  const afEntry = catalog.get('AcroForm');
  const existing = doc.resolveDict(afEntry);
  const af = existing ? existing.clone() : new PdfDict();
  const fields = doc.resolve(af.get('Fields'));
  if (af.get('Fields') instanceof PdfRef) w.update(af.get('Fields') as PdfRef, [...(fields as PdfObject[]), field]);
  else af.set('Fields', [...(Array.isArray(fields) ? fields : []), field]);
  af.set('SigFlags', 3);
  const catalogChanged = Object.keys(catalogExtra).length > 0;
  for (const [k, v] of Object.entries(catalogExtra)) catalog.set(k, v);
  if (afEntry instanceof PdfRef) {
    w.update(afEntry, af);
    if (catalogChanged) w.update(doc.catalogRef, catalog);
  } else {
    catalog.set('AcroForm', w.add(af));
    w.update(doc.catalogRef, catalog);
  }
}

export interface SignatureShape {
  field: string;
  page?: number;
  rect?: [number, number, number, number];
  /** Entries of the signature dictionary; ByteRange/Contents default to correct placeholders. */
  entries?: Record<string, PdfObject | undefined>;
  /** Leave /ByteRange to `entries` (or out). */
  customByteRange?: boolean;
  /** Leave /Contents to `entries` (or out). */
  customContents?: boolean;
  /** Sign the ranges with this signer (otherwise /Contents stays zeros). */
  signer?: Signer;
  /** PAdES B-T: the signature time-stamp token (DER) to embed, given the SHA-256 of the signature value. */
  timestamp?: (imprint: Uint8Array) => Promise<Uint8Array>;
  /** Put this (hex DER) in /Contents instead, e.g. a CMS copied from another document. */
  contentsHex?: string;
  /** Make it the certification signature with DocMDP P. */
  docMdp?: 1 | 2 | 3;
  /** Sign the existing empty signature field named `field` (set its /V) instead of adding a field. */
  existing?: boolean;
  /** With `existing`: further entries set on the field being signed (e.g. /F 132: pyHanko locks the widget). */
  fieldEntries?: Record<string, PdfObject>;
  /** Write the signature dictionary direct inside its field (/V << … >>), as some writers do. */
  direct?: boolean;
  /** The field with its widget as a separate kid (an indirect /Kids array; the widget has no /Parent, as pyHanko's
   *  separate-annots-kids-indir.pdf). */
  separateKid?: boolean;
  /** A second field, named so, whose /V is the same signature dictionary (written in the same revision). */
  alsoField?: string;
  /** No /V: an unsigned signature field with a visible appearance (the sneaky-signature attack). */
  unsigned?: boolean;
  /** seald's placement record and extra marks: locked, printable /Stamp annotations in the same revision. */
  placement?: { kind: string; pages: number[] };
  marks?: { page: number; rect: [number, number, number, number] }[];
  /** Bytes reserved for /Contents (default 8192): an enveloping CMS carries the whole signed file. */
  contentsBytes?: number;
}

const CONTENTS_BYTES = 8192;
const BR_PLACEHOLDER = '[0 0000000000 0000000000 0000000000]';

/** Append a signature (field + widget + dictionary) in a new revision; signed when `shape.signer` is given. */
export async function appendSignature(bytes: Uint8Array, shape: SignatureShape): Promise<Buffer> {
  const doc = open(bytes);
  const w = new IncrementalWriter(doc);
  const rect = shape.rect ?? [300, 100, 400, 160];
  const appearance = w.add(
    new PdfStream(dict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, rect[2] - rect[0], rect[3] - rect[1]] }),
      Buffer.from('0 0 1 rg 0 0 100 60 re f\n', 'latin1')),
  );
  const sigEntries: Record<string, PdfObject | undefined> = {
    Type: name('Sig'),
    Filter: name('Adobe.PPKLite'),
    SubFilter: name('ETSI.CAdES.detached'),
    M: new PdfString(Buffer.from(pdfDateNow(), 'latin1')),
  };
  if (!shape.customByteRange) sigEntries.ByteRange = new PdfRaw(Buffer.from(BR_PLACEHOLDER, 'latin1'), 'BR');
  if (!shape.customContents) sigEntries.Contents = new PdfRaw(Buffer.from(`<${'0'.repeat((shape.contentsBytes ?? CONTENTS_BYTES) * 2)}>`, 'latin1'), 'CT');
  if (shape.docMdp !== undefined) {
    sigEntries.Reference = [
      dict({ Type: name('SigRef'), TransformMethod: name('DocMDP'), TransformParams: dict({ Type: name('TransformParams'), P: shape.docMdp, V: name('1.2') }) }),
    ];
  }
  if (shape.placement) sigEntries.Seald_Placement = dict({ Kind: name(shape.placement.kind), Pages: shape.placement.pages });
  Object.assign(sigEntries, shape.entries ?? {});
  const sig = shape.unsigned ? undefined : shape.direct ? dict(sigEntries) : w.add(dict(sigEntries));
  if (shape.existing && sig) {
    const af = doc.resolveDict(doc.catalog.get('AcroForm'))!;
    const ref = (doc.resolve(af.get('Fields')) as PdfRef[]).find((f) => (doc.resolveDict(f)!.get('T') as PdfString).asText() === shape.field)!;
    const updated = doc.resolveDict(ref)!.clone().set('V', sig);
    for (const [k, v] of Object.entries(shape.fieldEntries ?? {})) updated.set(k, v);
    w.update(ref, updated);
    return finishSignature(bytes, w, shape);
  }
  const page = doc.page(shape.page ?? 1);
  const widget = w.add(
    dict({
      Type: name('Annot'), Subtype: name('Widget'), FT: name('Sig'), T: PdfString.text(shape.field), V: sig, F: 132,
      Rect: rect, P: page.ref, AP: dict({ N: appearance }),
    }),
  );
  const byPage = new Map<number, PdfRef[]>([[page.number, [widget]]]);
  for (const mark of shape.marks ?? []) {
    const ap = w.add(new PdfStream(dict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 10, 10] }), Buffer.from('1 0 0 rg 0 0 10 10 re f\n', 'latin1')));
    const stamp = w.add(dict({ Type: name('Annot'), Subtype: name('Stamp'), F: 132, Rect: mark.rect, P: doc.page(mark.page).ref, AP: dict({ N: ap }) }));
    byPage.set(mark.page, [...(byPage.get(mark.page) ?? []), stamp]);
  }
  if (shape.separateKid) {
    const kid = w.add(dict({ Type: name('Annot'), Subtype: name('Widget'), F: 4, Rect: rect, P: page.ref, AP: dict({ N: appearance }) }));
    const field = w.add(dict({ FT: name('Sig'), T: PdfString.text(shape.field), V: sig, Kids: w.add([kid]) }));
    addAnnotation(doc, w, page.number, kid);
    addField(doc, w, field);
    return finishSignature(bytes, w, shape);
  }
  if (shape.alsoField !== undefined) {
    const twin = w.add(dict({ Type: name('Annot'), Subtype: name('Widget'), FT: name('Sig'), T: PdfString.text(shape.alsoField), V: sig, F: 132, Rect: [0, 0, 0, 0], P: page.ref }));
    byPage.get(page.number)!.push(twin);
    for (const [n, refs] of byPage) addAnnotation(doc, w, n, ...refs);
    addFields(doc, w, [widget, twin]);
    return finishSignature(bytes, w, shape);
  }
  for (const [n, refs] of byPage) addAnnotation(doc, w, n, ...refs);
  addField(doc, w, widget, shape.docMdp !== undefined && sig instanceof PdfRef ? { Perms: dict({ DocMDP: sig }) } : {});
  return finishSignature(bytes, w, shape);
}

/** Write the section, fix the /ByteRange, and sign (or fill /Contents) as the shape asks. */
async function finishSignature(bytes: Uint8Array, w: IncrementalWriter, shape: SignatureShape): Promise<Buffer> {
  const section = w.write();
  const out = Buffer.concat([bytes, section.bytes]);
  const ct = section.marks.get('CT');
  const br = section.marks.get('BR');
  if (ct !== undefined && br !== undefined) {
    const end = ct + (shape.contentsBytes ?? CONTENTS_BYTES) * 2 + 2;
    const range: [number, number, number, number] = [0, ct, end, out.length - end];
    out.write(`[${range.join(' ')}]`.padEnd(BR_PLACEHOLDER.length, ' '), br, 'latin1');
    if (shape.contentsHex !== undefined) out.write(shape.contentsHex, ct + 1, 'latin1');
    if (shape.signer) {
      const digest = createHash('sha256').update(out.subarray(0, ct)).update(out.subarray(end)).digest();
      const timestamp = shape.timestamp;
      const cms = await createPadesCms({ signer: shape.signer, documentDigest: digest, ...(timestamp ? { timestamp: (imprint: Uint8Array) => timestamp(imprint) } : {}) });
      out.write(Buffer.from(cms).toString('hex'), ct + 1, 'latin1');
    }
  }
  return out;
}

function pdfDateNow(): string {
  const d = new Date();
  const p = (v: number, n = 2) => String(v).padStart(n, '0');
  return `D:${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+00'00'`;
}

/** The first signature widget's rectangle and its appearance's image XObject (seald's seal image). */
export function sealParts(bytes: Uint8Array): { rect: number[]; image: PdfRef; page: number } {
  const doc = open(bytes);
  const af = doc.resolveDict(doc.catalog.get('AcroForm'))!;
  const fields = doc.resolve(af.get('Fields')) as PdfRef[];
  const widget = doc.resolveDict(fields[fields.length - 1])!;
  const ap = doc.resolveDict(widget.get('AP'))!;
  const n = doc.resolve(ap.get('N')) as PdfStream;
  const res = doc.resolveDict(n.dict.get('Resources'))!;
  const xo = doc.resolveDict(res.get('XObject'))!;
  const image = [...xo.entries.values()][0] as PdfRef;
  const pageRef = widget.get('P') as PdfRef;
  let page = 1;
  for (let i = 1; i <= doc.pageCount; i++) if (doc.page(i).ref.num === pageRef.num) page = i;
  return { rect: doc.resolve(widget.get('Rect')) as number[], image, page };
}

export function stream(text: string, entries: Record<string, PdfObject | undefined> = {}): PdfStream {
  return new PdfStream(dict(entries), Buffer.from(text, 'latin1'));
}

/** The hex of a signature's DER CMS (without the zero padding) and where its /Contents gap is. */
export function signatureContents(bytes: Buffer, index = 0): { hex: string; gap: [number, number] } {
  const matches = [...bytes.toString('latin1').matchAll(/\/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
  const m = matches[index]!;
  const [b, c] = [Number(m[1]), Number(m[2])];
  const hex = bytes.toString('latin1', b + 1, c - 1);
  // DER SEQUENCE with a two-byte length (30 82 LL LL): the CMS is 4 + LLLL bytes.
  const length = 4 + parseInt(hex.slice(4, 8), 16);
  return { hex: hex.slice(0, length * 2), gap: [b, c] };
}

/** Object number of page 1's (first) content stream: /Contents is a reference or an array of them. */
export function firstContents(doc: PdfDocument): number {
  const c = doc.page(1).dict.get('Contents');
  const first = Array.isArray(c) ? c[0] : c;
  if (!(first instanceof PdfRef)) throw new Error('page 1 has no indirect content stream');
  return first.num;
}

/** A copy with one bit of the signed bytes flipped: inside the original's /Creator string, before every signature. */
export function flipSignedByte(pdf: Buffer): Buffer {
  const copy = Buffer.from(pdf);
  const at = copy.indexOf('/Creator <') + 14;
  if (at <= 14) throw new Error('no /Creator string to change');
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}
