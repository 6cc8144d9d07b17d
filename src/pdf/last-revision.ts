/**
 * The last revision of a PDF, as rollback needs it (ISO 32000-1 §7.5.6): where the document before it ends, which
 * objects it defines, and the signature it adds, if any.
 *
 * Where the previous revision ends. seald's IncrementalWriter appends one `\n` of its own right after the original bytes,
 * then the revision's first object; so the document before a seald revision is exactly the bytes before that `\n`.
 * For a revision written by another tool (no such `\n`), the previous revision ends where the last one's first object
 * starts.
 */
import { PdfDict, PdfRef, PdfStream, PdfString } from './objects.ts';
import type { PdfDocument } from './document.ts';
import { SealdError } from '../errors.ts';

export interface RevisionSignature {
  ref: PdfRef;
  /** /Type: Sig or DocTimeStamp. */
  type: string;
  subFilter: string | undefined;
  byteRange: number[];
  /** The /Contents bytes (DER CMS or timestamp token, zero padded). */
  contents: Uint8Array;
  /** /T of the field whose /V it is, when found. */
  fieldName: string | undefined;
}

export interface LastRevision {
  /** 1-based number of the last revision. */
  revision: number;
  /** Offset of the first byte that belongs to the last revision. */
  start: number;
  /** Length of the document before the last revision: one value, or two when the file alone cannot tell (see above). */
  /** Length of the document before the last revision. */
  previousEnd: number;
  /** Signature dictionaries defined in the last revision. */
  signatures: RevisionSignature[];
  /** True when the last revision (re)defines the catalog's /DSS (PAdES validation data, ETSI EN 319 142-1 §5.4). */
  addsDss: boolean;
  /** Object numbers the last revision defines. */
  objects: number[];
}

const WINDOW = 64 * 1024;

export function lastRevision(doc: PdfDocument): LastRevision {
  if (doc.revisionCount < 2) {
    throw new SealdError('precondition', 'NOTHING_TO_ROLL_BACK', 'the document has a single revision: there is no seal to remove');
  }
  const newest = doc.xref.sections[0]!;
  const prevOffset = newest.trailer.get('Prev');
  if (typeof prevOffset !== 'number') throw new SealdError('invalid-input', 'PDF_MALFORMED', 'the last cross-reference section has no /Prev');
  const eofEnd = findPreviousEof(doc, newest.offset, prevOffset);

  // The last revision's objects: those whose newest xref entry points at or after the previous %%EOF.
  const objects: number[] = [];
  let firstObject = newest.offset;
  for (const [num, entry] of doc.xref.entries) {
    const at = entry.type === 'offset' ? entry.offset : entry.type === 'compressed' ? offsetOf(doc, entry.stream) : undefined;
    if (at === undefined || at < eofEnd) continue;
    objects.push(num);
    if (entry.type === 'offset') firstObject = Math.min(firstObject, entry.offset);
  }
  const start = firstObject;

  const signatures: RevisionSignature[] = [];
  const fieldNames = new Map<number, string>();
  for (const num of objects) {
    const entry = doc.xref.entries.get(num)!;
    const value = doc.getObject(new PdfRef(num, entry.type === 'offset' ? entry.gen : 0));
    const dict = value instanceof PdfStream ? undefined : value instanceof PdfDict ? value : undefined;
    if (dict === undefined) continue;
    const v = dict.get('V');
    const t = doc.resolve(dict.get('T'));
    if (v instanceof PdfRef && t instanceof PdfString) fieldNames.set(v.num, t.asText());
    const type = dict.name('Type');
    const byteRange = doc.resolve(dict.get('ByteRange'));
    const contents = doc.resolve(dict.get('Contents'));
    if ((type === 'Sig' || type === 'DocTimeStamp' || type === undefined) && Array.isArray(byteRange) && contents instanceof PdfString) {
      signatures.push({
        ref: new PdfRef(num, entry.type === 'offset' ? entry.gen : 0),
        type: type ?? 'Sig',
        subFilter: dict.name('SubFilter'),
        byteRange: byteRange.map((n) => (typeof n === 'number' ? n : NaN)),
        contents: contents.bytes,
        fieldName: undefined,
      });
    }
  }
  for (const s of signatures) s.fieldName = fieldNames.get(s.ref.num) ?? fieldNameInForm(doc, s.ref);

  const dss = doc.catalog.get('DSS');
  const addsDss = dss instanceof PdfRef ? objects.includes(dss.num) : dss !== undefined && objects.includes(doc.catalogRef.num);
  return {
    revision: doc.revisionCount,
    start,
    previousEnd: previousEnd(doc, eofEnd, start),
    signatures,
    addsDss,
    objects,
  };
}

/** Offset just after the `%%EOF` of the revision whose xref section is at `prevOffset`, searching back from `before`. */
function findPreviousEof(doc: PdfDocument, before: number, prevOffset: number): number {
  const pattern = new RegExp(`startxref\\s+${prevOffset}\\s+%%EOF`, 'g');
  for (let end = before; end > 0; end -= WINDOW - 64) {
    const from = Math.max(0, end - WINDOW);
    const text = Buffer.from(doc.reader.slice(from, end - from)).toString('latin1');
    let last: RegExpExecArray | undefined;
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) last = m;
    pattern.lastIndex = 0;
    if (last !== undefined) return from + last.index + last[0].length;
    if (from === 0) break;
  }
  throw new SealdError('precondition', 'REVISION_BOUNDARY_NOT_FOUND', 'cannot find where the previous revision ends (no startxref/%%EOF for it)');
}

function previousEnd(doc: PdfDocument, eofEnd: number, start: number): number {
  // seald's own `\n` is the gap's last byte (the gap is the original's EOL after %%EOF, if any, then that `\n`).
  return start > eofEnd && doc.reader.byte(start - 1) === 0x0a ? start - 1 : start;
}

function offsetOf(doc: PdfDocument, num: number): number | undefined {
  const entry = doc.xref.entries.get(num);
  return entry?.type === 'offset' ? entry.offset : undefined;
}

function fieldNameInForm(doc: PdfDocument, sig: PdfRef): string | undefined {
  const form = doc.resolveDict(doc.catalog.get('AcroForm'));
  const fields = doc.resolve(form?.get('Fields'));
  if (!Array.isArray(fields)) return undefined;
  for (const field of fields) {
    const d = doc.resolveDict(field);
    const v = d?.get('V');
    if (v instanceof PdfRef && v.num === sig.num) {
      const t = doc.resolve(d!.get('T'));
      return t instanceof PdfString ? t.asText() : undefined;
    }
  }
  return undefined;
}

