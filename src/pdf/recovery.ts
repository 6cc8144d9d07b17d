/**
 * Recovery: the cross-reference table rebuilt by scanning the whole file, for documents whose chain (ISO 32000-1
 * §7.5.4–§7.5.8) cannot be read or whose entries point at the wrong bytes. This is pdf.js's `XRef.indexObjects`,
 * kept apart from the lazy fast path in xref.ts, and entered only when that path fails (document.ts).
 *
 * One linear pass finds every `N G obj` header outside stream data, every `trailer` keyword and every `xref`
 * keyword; the last definition of an object wins (a later incremental update redefines it, §7.5.6). Object streams
 * (§7.5.7) found that way are opened for the objects they hold. The trailer is the last `trailer` dictionary or
 * cross-reference stream dictionary (§7.5.8.2) whose /Root is an object the scan found, or, failing both, one made
 * up around the last /Type /Catalog object (§7.7.2).
 */
import { PdfDict, PdfRef, PdfStream } from './objects.ts';
import { ByteReader, Parser } from './parser.ts';
import { bufferSource } from './source.ts';
import { decodeStream } from './filters.ts';
import type { XrefChain, XrefEntry, XrefKind } from './xref.ts';
import { SealdError } from '../errors.ts';

const CHUNK = 1024 * 1024;
/** Bytes read past each chunk, so a token or the start of a dictionary is never cut at a chunk boundary. */
const OVERLAP = 1024;
/** ISO 32000-1 Annex C, Table C.1: at most 8,388,607 indirect objects; a larger number is not a header. */
const MAX_OBJECT_NUMBER = 8_388_607;
const MAX_GENERATION = 65_535;
/** Objects an object stream may declare before it is taken as hostile rather than read. */
const MAX_OBJECTS_PER_STREAM = 65_535; // also what a written type 2 row can index (2 bytes)

export interface RecoveryOptions {
  /** What made the fast path give up, kept in the result for the caller's report. */
  reason: string;
  headerOffset: number;
  /** The original chain's newest section, when the whole chain read (only its entries were wrong). */
  prevSection?: number;
  kind?: XrefKind;
  /** The file has no `%%EOF` at its end: accept it only if the cut falls after its last object. */
  truncated: boolean;
}

/** The /Type of the structure objects recovery looks for, seen by the scan without parsing the object. */
type StructureType = 'ObjStm' | 'XRef' | 'Catalog' | undefined;

interface Found {
  offset: number;
  gen: number;
  type: StructureType;
}

interface Scan {
  objects: Map<number, Found>;
  trailers: number[];
  lastXrefKeyword: number;
  lastHeader: number;
}

const TYPE = /\/Type[\0\t\n\f\r ]*\/(ObjStm|XRef|Catalog)(?![0-9A-Za-z])/;

/*
 * The tokens the scan looks for, in one alternation so that they come out in file order (no look-behind: the
 * character before a match is checked in code, which keeps the pass at regex-engine speed):
 *   12 0 obj          an object header (§7.3.10), number and generation as separate groups
 *   /Type /Catalog    the type of the object whose header came last (ObjStm, XRef or Catalog)
 *   >> stream EOL     stream data starts (§7.3.8.1): nothing in it is a token until `endstream`
 *   endstream | trailer | xref
 */
const TOKENS =
  /(\d{1,10})[\0\t\n\f\r ]+(\d{1,5})[\0\t\n\f\r ]+obj(?![0-9A-Za-z])|\/Type[\0\t\n\f\r ]*\/(ObjStm|XRef|Catalog)(?![0-9A-Za-z])|>>[\0\t\n\f\r ]*stream(?:\r\n|\n|\r)|endstream|trailer(?![A-Za-z])|xref(?![A-Za-z])/g;

/** A letter, digit or '.' before a match means it is the tail of a longer token (`startxref`, `a12 0 obj`). */
const isWordChar = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2e;

/** Linear in the file's size: one read of each byte, a bounded map of what was found. */
function scan(reader: ByteReader, from: number): Scan {
  const objects = new Map<number, Found>();
  const trailers: number[] = [];
  let lastXrefKeyword = -1;
  let lastHeader = -1;
  let last: Found | undefined;
  let inStream = false;
  let cursor = from;
  for (let start = from; start < reader.size; start += CHUNK) {
    const text = Buffer.from(reader.slice(start, CHUNK + OVERLAP)).toString('latin1');
    TOKENS.lastIndex = 0;
    for (let m = TOKENS.exec(text); m !== null; m = TOKENS.exec(text)) {
      if (m.index >= CHUNK) break; // the next chunk reads it whole
      const at = start + m.index;
      if (at < cursor) continue;
      const token = m[0];
      if (inStream) {
        if (token === 'endstream') inStream = false;
        cursor = at + token.length;
        continue;
      }
      const first = token.charCodeAt(0);
      if (first !== 0x2f && first !== 0x3e && m.index > 0 && isWordChar(text.charCodeAt(m.index - 1))) continue;
      cursor = at + token.length;
      if (m[1] !== undefined) {
        const num = Number(m[1]);
        const gen = Number(m[2]);
        if (num > MAX_OBJECT_NUMBER || gen > MAX_GENERATION) continue;
        last = { offset: at, gen, type: undefined };
        objects.set(num, last);
        lastHeader = at;
      } else if (m[3] !== undefined) {
        if (last !== undefined && at - last.offset < OVERLAP && last.type === undefined) last.type = m[3] as StructureType;
      } else if (first === 0x3e) {
        if (last !== undefined) inStream = true;
      } else if (token === 'trailer') trailers.push(at);
      else if (token === 'xref') lastXrefKeyword = at;
    }
  }
  return { objects, trailers, lastXrefKeyword, lastHeader };
}

/** Rebuild the table; throws PDF_UNRECOVERABLE (or PDF_TRUNCATED) with what the caller can do about it. */
export function recoverXref(reader: ByteReader, opts: RecoveryOptions): XrefChain {
  const { objects, trailers, lastXrefKeyword, lastHeader } = scan(reader, opts.headerOffset);
  if (opts.truncated) {
    // A cut inside the final cross-reference section loses no object; a cut anywhere before it loses some, and a
    // seal over a partial document would certify what its author never sent.
    const last = [...objects.values()].find((f) => f.offset === lastHeader);
    const cutInXref = lastXrefKeyword > lastHeader || last?.type === 'XRef';
    if (!cutInXref) {
      throw new SealdError(
        'invalid-input',
        'PDF_TRUNCATED',
        'the PDF is truncated or damaged: no startxref/%%EOF at its end; send the complete file',
      );
    }
  }
  const entries = new Map<number, XrefEntry>();
  const position = new Map<number, number>(); // where each entry's definition lies in the file: the later one wins
  for (const [num, f] of objects) {
    entries.set(num, { type: 'offset', offset: f.offset, gen: f.gen });
    position.set(num, f.offset);
  }
  const catalogs: { ref: PdfRef; at: number }[] = [];
  for (const [num, f] of objects) if (f.type === 'Catalog') catalogs.push({ ref: new PdfRef(num, f.gen), at: f.offset });

  const streams = [...objects].filter(([, f]) => f.type === 'ObjStm').sort((a, b) => a[1].offset - b[1].offset);
  for (const [streamNum, f] of streams) {
    const contents = objectStreamContents(reader, f, entries);
    contents?.forEach(({ num, isCatalog }, index) => {
      if ((position.get(num) ?? -1) > f.offset || num > MAX_OBJECT_NUMBER) return;
      entries.set(num, { type: 'compressed', stream: streamNum, index });
      position.set(num, f.offset);
      if (isCatalog) catalogs.push({ ref: new PdfRef(num, 0), at: f.offset });
    });
  }

  const chosen = chooseTrailer(reader, objects, trailers, entries) ?? madeUpTrailer(catalogs, entries);
  if (chosen === undefined) {
    throw new SealdError(
      'invalid-input',
      'PDF_UNRECOVERABLE',
      `the PDF is damaged beyond repair: ${opts.reason.replace(/^the PDF is (damaged|truncated or damaged): /, '')}, and scanning it found no document catalog ` +
        `(${objects.size} object${objects.size === 1 ? '' : 's'}); re-export it from the application that made it and retry`,
    );
  }
  let size = 0;
  let compressed = 0;
  for (const [num, e] of entries) {
    size = Math.max(size, num + 1);
    if (e.type === 'compressed') compressed++;
  }
  chosen.trailer.set('Size', size);
  const how =
    `cross-reference rebuilt by scanning the file: ${entries.size} object${entries.size === 1 ? '' : 's'}` +
    (compressed > 0 ? ` (${compressed} in object streams)` : '') +
    `, trailer from ${chosen.from}` +
    (opts.headerOffset > 0 ? `, offsets counted from %PDF- at byte ${opts.headerOffset}` : '') +
    (opts.prevSection === undefined ? '' : ', the original chain kept as /Prev');
  const startxref = opts.prevSection ?? -1;
  return {
    entries,
    sections: [{ offset: startxref, kind: opts.kind ?? chosen.kind, trailer: chosen.trailer, own: entries }],
    startxref,
    headerOffset: opts.headerOffset,
    quirks: [],
    repaired: { reason: opts.reason, how, prevSection: opts.prevSection },
  };
}

/** The objects an object stream holds (§7.5.7), or undefined when the stream itself is damaged. */
function objectStreamContents(
  reader: ByteReader,
  f: Found,
  entries: Map<number, XrefEntry>,
): { num: number; isCatalog: boolean }[] | undefined {
  try {
    const direct = (o: unknown): number | undefined => {
      if (typeof o === 'number') return o;
      if (!(o instanceof PdfRef)) return undefined;
      const e = entries.get(o.num);
      if (e?.type !== 'offset') return undefined;
      const v = new Parser(reader, e.offset).parseIndirectObject(undefined, () => 0).value;
      return typeof v === 'number' ? v : undefined;
    };
    const { value } = new Parser(reader, f.offset).parseIndirectObject(undefined, (d) => direct(d.get('Length')) ?? -1);
    if (!(value instanceof PdfStream)) return undefined;
    const data = decodeStream(value, (o) => (o instanceof PdfRef ? direct(o) : o));
    const n = direct(value.dict.get('N'));
    const first = direct(value.dict.get('First'));
    if (n === undefined || first === undefined || n < 0 || n > MAX_OBJECTS_PER_STREAM) return undefined;
    const header = new Parser(new ByteReader(bufferSource(data)), 0);
    const pairs: { num: number; off: number }[] = [];
    for (let i = 0; i < n; i++) pairs.push({ num: Number(header.readToken()), off: Number(header.readToken()) });
    const text = Buffer.from(data).toString('latin1');
    return pairs.map(({ num, off }, i) => {
      const end = pairs[i + 1]?.off ?? data.length - first;
      return { num, isCatalog: TYPE.exec(text.slice(first + off, first + Math.min(end, off + OVERLAP)))?.[1] === 'Catalog' };
    });
  } catch {
    return undefined; // a damaged object stream loses its own objects, not the rest of the document
  }
}

interface Chosen {
  trailer: PdfDict;
  kind: XrefKind;
  /** Where the trailer came from, for Repair.how. */
  from: string;
}

/** Keys of a trailer that describe the old section, not the document, and so are not carried over. */
const SECTION_KEYS = ['Prev', 'XRefStm', 'Size', 'Type', 'W', 'Index', 'Length', 'Filter', 'DecodeParms'];

/** The newest `trailer` or xref stream dictionary whose /Root names an object the scan found. */
function chooseTrailer(
  reader: ByteReader,
  objects: Map<number, Found>,
  trailers: number[],
  entries: Map<number, XrefEntry>,
): Chosen | undefined {
  const candidates: { at: number; kind: XrefKind; read: () => PdfDict | undefined }[] = trailers.map((at) => ({
    at,
    kind: 'table',
    read: () => {
      const p = new Parser(reader, at);
      p.tryKeyword('trailer');
      const d = p.parseObject();
      return d instanceof PdfDict ? d : undefined;
    },
  }));
  for (const f of objects.values()) {
    if (f.type !== 'XRef') continue;
    candidates.push({
      at: f.offset,
      kind: 'stream',
      read: () => {
        const p = new Parser(reader, f.offset);
        p.readToken();
        p.readToken();
        p.tryKeyword('obj');
        const d = p.parseObject();
        return d instanceof PdfDict ? d : undefined;
      },
    });
  }
  candidates.sort((a, b) => b.at - a.at);
  for (const c of candidates) {
    let dict: PdfDict | undefined;
    try {
      dict = c.read();
    } catch {
      continue;
    }
    const root = dict?.get('Root');
    if (!dict || !(root instanceof PdfRef) || !entries.has(root.num)) continue;
    const trailer = new PdfDict();
    for (const [k, v] of dict.entries) if (!SECTION_KEYS.includes(k)) trailer.set(k, v);
    return { trailer, kind: c.kind, from: c.kind === 'table' ? 'the last usable trailer dictionary' : 'the last usable cross-reference stream' };
  }
  return undefined;
}

/** No usable trailer: one around the last catalog found, as pdf.js does when every trailer is lost. */
function madeUpTrailer(catalogs: { ref: PdfRef; at: number }[], entries: Map<number, XrefEntry>): Chosen | undefined {
  const last = catalogs.filter((c) => entries.has(c.ref.num)).sort((a, b) => b.at - a.at)[0];
  if (last === undefined) return undefined;
  const trailer = new PdfDict();
  trailer.set('Root', last.ref);
  return { trailer, kind: 'table', from: `none found: made up around catalog ${last.ref.num} ${last.ref.gen} R` };
}
