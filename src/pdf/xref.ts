/**
 * The cross-reference chain (ISO 32000-1 §7.5.4–§7.5.8), read lazily from `startxref` back through /Prev.
 * Entries of newer sections win. A hybrid-reference file's table trailer names an xref stream in /XRefStm whose
 * entries are consulted after the table's own and before /Prev (§7.5.8.4).
 */
import { PdfDict, PdfRef, PdfStream } from './objects.ts';
import { ByteReader, Parser } from './parser.ts';
import { decodeStream } from './filters.ts';
import { malformed } from './errors.ts';
import { SealdError } from '../errors.ts';

export type XrefEntry =
  | { type: 'free' }
  | { type: 'offset'; offset: number; gen: number }
  | { type: 'compressed'; stream: number; index: number };

export type XrefKind = 'table' | 'stream';

export interface XrefSection {
  offset: number;
  kind: XrefKind;
  trailer: PdfDict;
  /** The entries this section itself lists (for a hybrid table, with its /XRefStm's), before newer ones override. */
  own: Map<number, XrefEntry>;
}

export interface XrefChain {
  entries: Map<number, XrefEntry>;
  /** Newest first. */
  sections: XrefSection[];
  startxref: number;
}

const TAIL_WINDOW = 1024;
const MAX_SECTIONS = 10_000;

/** Offset given by the last `startxref` of the file (§7.5.5). */
export function findStartxref(reader: ByteReader): number {
  const from = Math.max(0, reader.size - TAIL_WINDOW);
  const tail = Buffer.from(reader.slice(from, reader.size - from)).toString('latin1');
  const at = tail.lastIndexOf('startxref');
  if (at < 0 || !/%%EOF/.test(tail.slice(at))) {
    throw new SealdError(
      'invalid-input',
      'PDF_TRUNCATED',
      'the PDF is truncated or damaged: no startxref/%%EOF at its end; send the complete file',
    );
  }
  const m = /^startxref\s+(\d+)/.exec(tail.slice(at));
  if (!m) throw malformed('startxref is not followed by an offset');
  return Number(m[1]);
}

/**
 * The chain from the file's last startxref through every /Prev. `base`: the chain already read from a prefix of
 * these very bytes (an incremental update's original): reached at its startxref, it is taken as read instead of
 * parsed again.
 */
export function readXrefChain(reader: ByteReader, base?: XrefChain): XrefChain {
  const startxref = findStartxref(reader);
  const entries = new Map<number, XrefEntry>();
  const sections: XrefSection[] = [];
  const seen = new Set<number>();
  let offset: number | undefined = startxref;
  while (offset !== undefined) {
    if (base !== undefined && offset === base.startxref && sections.length > 0) {
      for (const [num, e] of base.entries) if (!entries.has(num)) entries.set(num, e);
      sections.push(...base.sections);
      break;
    }
    if (seen.has(offset) || sections.length > MAX_SECTIONS) throw malformed(`the /Prev chain loops at offset ${offset}`);
    seen.add(offset);
    if (offset < 0 || offset >= reader.size) throw malformed(`cross-reference offset ${offset} is outside the file`);
    const section = readSection(reader, offset, entries);
    sections.push(section);
    const prev = section.trailer.get('Prev');
    offset = typeof prev === 'number' ? prev : undefined;
  }
  return { entries, sections, startxref };
}

function readSection(reader: ByteReader, offset: number, entries: Map<number, XrefEntry>): XrefSection {
  const p = new Parser(reader, offset);
  if (p.tryKeyword('xref')) {
    const own = readTable(p);
    if (!p.tryKeyword('trailer')) throw malformed(`no trailer after the xref table at offset ${offset}`);
    const trailer = p.parseObject();
    if (!(trailer instanceof PdfDict)) throw malformed('trailer is not a dictionary');
    for (const [num, e] of own) if (!entries.has(num)) entries.set(num, e);
    const xrefStm = trailer.get('XRefStm');
    if (typeof xrefStm === 'number') {
      // Hybrid-reference file: the stream fills in what the table leaves out.
      const stm = readStreamSection(reader, xrefStm);
      for (const [num, e] of stm.own) {
        if (!entries.has(num)) entries.set(num, e);
        if (!own.has(num)) own.set(num, e);
      }
    }
    return { offset, kind: 'table', trailer, own };
  }
  const { own, trailer } = readStreamSection(reader, offset);
  for (const [num, e] of own) if (!entries.has(num)) entries.set(num, e);
  return { offset, kind: 'stream', trailer, own };
}

/*
 * Classic table, §7.5.4:
 *   xref
 *   0 6
 *   0000000000 65535 f
 *   0000000017 00000 n
 * Entries are meant to be 20 bytes, but real files use 19 or 21 (bad EOLs); we read them as tokens.
 */
function readTable(p: Parser): Map<number, XrefEntry> {
  const own = new Map<number, XrefEntry>();
  for (;;) {
    const save = p.pos;
    p.skipWhitespace();
    const c = p.reader.byte(p.pos);
    if (c < 0x30 || c > 0x39) {
      p.pos = save;
      return own;
    }
    const first = Number(p.readToken());
    const count = Number(p.readToken());
    if (!Number.isInteger(first) || !Number.isInteger(count) || count < 0) throw malformed('bad xref subsection header');
    for (let i = 0; i < count; i++) {
      const off = Number(p.readToken());
      const gen = Number(p.readToken());
      const type = p.readToken();
      const num = first + i;
      if (own.has(num)) continue;
      if (type === 'n') own.set(num, { type: 'offset', offset: off, gen });
      else if (type === 'f') own.set(num, { type: 'free' });
      else throw malformed(`bad xref entry type '${type}' for object ${num}`);
    }
  }
}

/** Cross-reference stream, §7.5.8: /W field widths, /Index subsections, entries of types 0/1/2. */
function readStreamSection(reader: ByteReader, offset: number): { own: Map<number, XrefEntry>; trailer: PdfDict } {
  const p = new Parser(reader, offset);
  const { value } = p.parseIndirectObject(undefined, (d) => {
    const len = d.get('Length');
    if (typeof len !== 'number') throw malformed('xref stream /Length must be a direct integer');
    return len;
  });
  if (!(value instanceof PdfStream) || value.dict.name('Type') !== 'XRef') {
    throw malformed(`no cross-reference table or stream at offset ${offset}`);
  }
  const dict = value.dict;
  const noResolve = (o: unknown) => (o instanceof PdfRef ? undefined : (o as never));
  const data = decodeStream(value, noResolve);
  const w = dict.get('W');
  if (!Array.isArray(w) || w.length !== 3 || !w.every((x) => typeof x === 'number' && x >= 0 && x <= 8)) {
    throw malformed('xref stream has a bad /W');
  }
  const [w0, w1, w2] = w as number[];
  const size = dict.get('Size');
  if (typeof size !== 'number') throw malformed('xref stream has no /Size');
  const index = (dict.get('Index') as number[] | undefined) ?? [0, size];
  const rowLen = w0! + w1! + w2!;
  const field = (pos: number, width: number): number => {
    let v = 0;
    for (let i = 0; i < width; i++) v = v * 256 + data[pos + i]!;
    return v;
  };
  const own = new Map<number, XrefEntry>();
  let pos = 0;
  for (let s = 0; s + 1 < index.length; s += 2) {
    const first = index[s]!;
    const count = index[s + 1]!;
    for (let i = 0; i < count; i++) {
      if (pos + rowLen > data.length) throw malformed('xref stream is shorter than its /Index says');
      const type = w0 === 0 ? 1 : field(pos, w0!);
      const f1 = field(pos + w0!, w1!);
      const f2 = field(pos + w0! + w1!, w2!);
      pos += rowLen;
      const num = first + i;
      if (own.has(num)) continue;
      if (type === 0) own.set(num, { type: 'free' });
      else if (type === 1) own.set(num, { type: 'offset', offset: f1, gen: f2 });
      else if (type === 2) own.set(num, { type: 'compressed', stream: f1, index: f2 });
      // Other types are reserved: §7.5.8.3 says to treat them as null references.
    }
  }
  return { own, trailer: dict };
}
