/**
 * The signature fields of a document (ISO 32000-1 §12.7.4.5, §12.8.1): every field of /AcroForm /Fields (and their
 * /Kids) whose /FT, possibly inherited, is /Sig and whose /V is a signature dictionary; plus where that dictionary's
 * /Contents string sits in the file, which the /ByteRange gap must be exactly.
 */
import type { PdfDocument } from './document.ts';
import { PdfDict, PdfName, PdfRef, PdfString, type PdfObject } from './objects.ts';
import { Parser } from './parser.ts';
import type { Budget } from './limits.ts';

export interface SignatureField {
  name: string;
  field: PdfDict;
  fieldRef: PdfRef | undefined;
  /** The signature dictionary (/V), parsed on first use: its /Contents is kilobytes of hex. */
  readonly sig: PdfDict;
  sigRef: PdfRef | undefined;
}

const MAX_FIELD_DEPTH = 32;
const found = new WeakMap<PdfDocument, SignatureField[]>();

/** The signature fields of a document, computed once per document (revisions are compared pairwise). */
export function signatureFields(doc: PdfDocument, budget: Budget): SignatureField[] {
  let fields = found.get(doc);
  if (!fields) {
    fields = findSignatureFields(doc, budget);
    found.set(doc, fields);
  }
  return fields;
}

function findSignatureFields(doc: PdfDocument, budget: Budget): SignatureField[] {
  const out: SignatureField[] = [];
  const acroForm = doc.resolveDict(doc.catalog.get('AcroForm'));
  const fields = doc.resolve(acroForm?.get('Fields'));
  if (!Array.isArray(fields)) return out;
  const visited = new Set<number>();
  const walk = (list: PdfObject[], prefix: string, inheritedFt: string | undefined, depth: number): void => {
    if (depth > MAX_FIELD_DEPTH) return;
    for (const item of list) {
      budget.object();
      if (item instanceof PdfRef) {
        if (visited.has(item.num)) continue;
        visited.add(item.num);
      }
      const field = doc.resolveDict(item);
      if (!field) continue;
      const t = doc.resolve(field.get('T'));
      const partial = t instanceof PdfString ? t.asText() : undefined;
      const name = partial === undefined ? prefix : prefix ? `${prefix}.${partial}` : partial;
      const ft = field.name('FT') ?? inheritedFt;
      const kids = doc.resolve(field.get('Kids'));
      if (Array.isArray(kids) && kids.some((k) => doc.resolveDict(k)?.has('T'))) {
        walk(kids, name, ft, depth + 1);
        continue;
      }
      if (ft !== 'Sig') continue;
      const v = field.get('V');
      if (v instanceof PdfRef) {
        const entry = doc.xref.entries.get(v.num);
        if (!entry || entry.type === 'free') continue;
      } else if (!(v instanceof PdfDict)) continue;
      let sig: PdfDict | undefined;
      out.push({
        name,
        field,
        fieldRef: item instanceof PdfRef ? item : undefined,
        get sig(): PdfDict {
          sig ??= doc.resolveDict(v) ?? new PdfDict();
          return sig;
        },
        sigRef: v instanceof PdfRef ? v : undefined,
      });
    }
  };
  walk(fields, '', undefined, 0);
  return out;
}

/**
 * Where the value of /Contents is written in the file: [start, end) of the hex string, delimiters included. The
 * signature dictionary is the indirect object `sigRef`, or — written direct inside its field, as some writers do
 * (ISO 32000-1 §12.7.4.5 allows /V to be direct) — the /V of the indirect field object `fieldRef`.
 */
export function locateContents(doc: PdfDocument, sigRef: PdfRef | undefined, fieldRef?: PdfRef): [number, number] | undefined {
  const holder = sigRef ?? fieldRef;
  if (!holder) return undefined;
  const entry = doc.xref.entries.get(holder.num);
  if (!entry || entry.type !== 'offset') return undefined; // in an object stream: not where a ByteRange can point
  try {
    const p = new Parser(doc.reader, entry.offset);
    p.readToken();
    p.readToken();
    if (!p.tryKeyword('obj')) return undefined;
    return contentsIn(doc, p, sigRef ? [] : ['V']);
  } catch {
    return undefined;
  }
}

/** The /Contents hex string of the dictionary at the parser's position, after descending through `path`'s keys. */
function contentsIn(doc: PdfDocument, p: Parser, path: string[]): [number, number] | undefined {
  p.skipWhitespace();
  if (p.reader.byte(p.pos) !== 0x3c || p.reader.byte(p.pos + 1) !== 0x3c) return undefined;
  p.pos += 2;
  let found: [number, number] | undefined;
  for (let i = 0; i < 10_000; i++) {
    p.skipWhitespace();
    if (p.reader.byte(p.pos) === 0x3e && p.reader.byte(p.pos + 1) === 0x3e) return found;
    const key = p.parseObject();
    if (!(key instanceof PdfName)) return undefined;
    p.skipWhitespace();
    const start = p.pos;
    if (path.length > 0 && key.name === path[0]) {
      // A repeated key makes "the" value ambiguous: refuse to pick one.
      if (found) return undefined;
      found = contentsIn(doc, p, path.slice(1));
      if (!found) return undefined;
      p.pos = start;
      p.parseObject(1);
      continue;
    }
    if (path.length === 0 && key.name === 'Contents') {
      // A second /Contents key would make "the" value ambiguous: refuse to pick one. The value must be a hex
      // string; its end is found by scanning (kilobytes of hex need no parsing to be located).
      if (found || p.reader.byte(start) !== 0x3c || p.reader.byte(start + 1) === 0x3c) return undefined;
      const close = indexOfByte(doc, start + 1, 0x3e);
      if (close < 0) return undefined;
      found = [start, close + 1];
      p.pos = close + 1;
      continue;
    }
    p.parseObject(1);
  }
  return undefined;
}

const SCAN = 64 * 1024;
const MAX_SCAN = 32 * 1024 * 1024;

/** Offset of the next `byte` at or after `from`, or -1 (within MAX_SCAN bytes). */
function indexOfByte(doc: PdfDocument, from: number, byte: number): number {
  for (let at = from; at < doc.reader.size && at - from < MAX_SCAN; at += SCAN) {
    const window = doc.reader.slice(at, SCAN);
    const i = window.indexOf(byte);
    if (i >= 0) return at + i;
  }
  return -1;
}
