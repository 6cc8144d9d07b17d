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
  /** Absolute offset of the newest section (the file's startxref plus `headerOffset`); -1 when none was usable. */
  startxref: number;
  /**
   * Bytes before `%PDF-` (§7.5.2). Offsets written in the file count from the header, as pdf.js and qpdf read them;
   * every offset held here is absolute (the file's value plus this), and a writer subtracts it again.
   */
  headerOffset: number;
  /**
   * What the fast path tolerated in the chain's syntax (a /Prev loop, a miscounted subsection): it read, but a new
   * revision must not lean on it, and an object missing from it is a reason to rebuild (document.ts).
   */
  quirks: string[];
  /** Set when the table was rebuilt by scanning the file (recovery.ts) instead of read from the chain. */
  repaired?: Repair;
}

export interface Repair {
  /** What the fast path met that it could not read: for the caller's report. */
  reason: string;
  /**
   * How the table was rebuilt (objects found, where the trailer came from), for the log line and the audit record:
   * the file's structure only, never its content.
   */
  how: string;
  /**
   * Absolute offset of the original chain's newest section when the whole chain still reads (only its entries
   * were wrong): a new revision may chain to it with /Prev. Undefined when the chain itself is unusable.
   */
  prevSection?: number;
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
export function readXrefChain(reader: ByteReader, base?: XrefChain, headerOffset = 0): XrefChain {
  const startxref = findStartxref(reader) + headerOffset;
  const entries = new Map<number, XrefEntry>();
  const sections: XrefSection[] = [];
  const seen = new Set<number>();
  const quirks: string[] = [];
  let offset: number | undefined = startxref;
  while (offset !== undefined) {
    if (base !== undefined && offset === base.startxref && sections.length > 0) {
      for (const [num, e] of base.entries) if (!entries.has(num)) entries.set(num, e);
      sections.push(...base.sections);
      break;
    }
    // A /Prev that leads back to a section already read: files written by tools that copied the old trailer's /Prev
    // into the new one unchanged (the update then names itself or a later section). Every section was read once, so
    // the chain ends here instead of looping, as pdf.js's visited-xref set does.
    if (seen.has(offset)) {
      quirks.push(`its /Prev chain loops back to offset ${offset - headerOffset}`);
      break;
    }
    if (sections.length > MAX_SECTIONS) throw malformed(`the /Prev chain is longer than ${MAX_SECTIONS} sections`);
    seen.add(offset);
    if (offset < 0 || offset >= reader.size) throw malformed(`cross-reference offset ${offset} is outside the file`);
    const section = readSection(reader, offset, entries, headerOffset, quirks);
    sections.push(section);
    const prev = section.trailer.get('Prev');
    // `/Prev 0` from writers that always emit the key, even in a file's first (only) revision: offset 0 is the
    // %PDF header (§7.5.2), never a section, so it means "no previous section".
    offset = typeof prev === 'number' && prev > 0 ? prev + headerOffset : undefined;
    // …but in an update that lists only some of the objects its /Size counts, `/Prev 0` cut the chain: the rest
    // are in sections no /Prev leads to (DSS's pades-5-signatures-and-1-document-timestamp.pdf, whose seventh update
    // says /Prev 0 and so hides the page tree; qpdf reads 0 pages, poppler rebuilds the table). An object missing
    // from what was read is then a reason to rebuild (document.ts).
    const size = section.trailer.get('Size');
    if (prev === 0 && typeof size === 'number' && section.own.size < size) {
      quirks.push(`its /Prev 0 ends the chain at an update that lists ${section.own.size} of ${size} objects`);
    }
  }
  return { entries, sections, startxref, headerOffset, quirks };
}

function readSection(
  reader: ByteReader,
  offset: number,
  entries: Map<number, XrefEntry>,
  shift: number,
  quirks: string[],
): XrefSection {
  const p = new Parser(reader, offset);
  if (p.tryKeyword('xref')) {
    const own = readTable(p, shift, quirks);
    if (!p.tryKeyword('trailer')) throw malformed(`no trailer after the xref table at offset ${offset}`);
    const trailer = p.parseObject();
    if (!(trailer instanceof PdfDict)) throw malformed('trailer is not a dictionary');
    for (const [num, e] of own) if (!entries.has(num)) entries.set(num, e);
    const xrefStm = trailer.get('XRefStm');
    if (typeof xrefStm === 'number') {
      // Hybrid-reference file: the stream fills in what the table leaves out.
      const stm = readStreamSection(reader, xrefStm + shift, shift);
      for (const [num, e] of stm.own) {
        if (!entries.has(num)) entries.set(num, e);
        if (!own.has(num)) own.set(num, e);
      }
    }
    return { offset, kind: 'table', trailer, own };
  }
  const { own, trailer } = readStreamSection(reader, offset, shift);
  for (const [num, e] of own) if (!entries.has(num)) entries.set(num, e);
  return { offset, kind: 'stream', trailer, own };
}

/*
 * Classic table, §7.5.4:
 *   xref
 *   0 6
 *   0000000000 65535 f
 *   0000000017 00000 n
 * Entries are meant to be 20 bytes, but files whose line endings were converted (FTP ASCII mode, unix2dos/dos2unix)
 * have 19 or 21, and some writers pad with extra spaces: we read them as tokens.
 */
function readTable(p: Parser, shift: number, quirks: string[]): Map<number, XrefEntry> {
  const own = new Map<number, XrefEntry>();
  let next = -1; // number of the next entry: a line that is an entry where a subsection header was expected continues
  for (;;) {
    const save = p.pos;
    p.skipWhitespace();
    const c = p.reader.byte(p.pos);
    if (c < 0x30 || c > 0x39) {
      p.pos = save;
      return own;
    }
    const a = Number(p.readToken());
    const b = Number(p.readToken());
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0) throw malformed('bad xref subsection header');
    const afterHeader = p.pos;
    const third = peekToken(p);
    let first: number;
    let count: number;
    if ((third === 'n' || third === 'f') && next >= 0) {
      // A subsection header that undercounts its entries (writers that count before adding the last object): the
      // "header" is really one more entry of the previous subsection. Read it as such and go on.
      p.pos = save;
      first = next;
      count = 1;
      quirks.push(`a cross-reference subsection lists more entries than its header says (object ${next})`);
    } else {
      p.pos = afterHeader;
      first = a;
      count = b;
    }
    for (let i = 0; i < count; i++) {
      const entryStart = p.pos;
      const offToken = peekToken(p);
      // A header that overcounts: the `trailer` keyword (or the next subsection header) comes early. §7.5.4's
      // fixed layout makes the table self-describing, so stop at the first line that is not an entry.
      if (!/^\d+$/.test(offToken) || !isEntryAt(p)) {
        p.pos = entryStart;
        quirks.push(`a cross-reference subsection has fewer entries than its header says (${first} ${count})`);
        break;
      }
      const off = Number(p.readToken());
      const gen = Number(p.readToken());
      const type = p.readToken();
      // Writers that number the first subsection from 1 while listing object 0's free entry first: the "object 1"
      // entry is the head of the free list (offset 0, generation 65535), so the subsection really starts at 0.
      if (i === 0 && first === 1 && own.size === 0 && type === 'f' && off === 0 && gen === 65535) first = 0;
      const num = first + i;
      next = num + 1;
      if (own.has(num)) continue;
      if (type === 'n') own.set(num, { type: 'offset', offset: off + shift, gen });
      else if (type === 'f') own.set(num, { type: 'free' });
      else throw malformed(`bad xref entry type '${type}' for object ${num}`);
    }
    // A line that is neither an entry nor a subsection header (`0000001567 -0 n`, found by test/fuzz) was read as
    // an undercounting header and then stopped at as an entry: nothing was consumed, and the loop would never end.
    if (p.pos <= save) throw malformed(`bad cross-reference entry at offset ${save}`);
  }
}

/** The next token, without consuming it ('' at the end or before a delimiter). */
function peekToken(p: Parser): string {
  const save = p.pos;
  try {
    return p.readToken();
  } catch {
    return '';
  } finally {
    p.pos = save;
  }
}

/** Whether the next three tokens are an entry: offset, generation, `n` or `f`. */
function isEntryAt(p: Parser): boolean {
  const save = p.pos;
  try {
    const off = p.readToken();
    const gen = p.readToken();
    const type = p.readToken();
    return /^\d+$/.test(off) && /^\d+$/.test(gen) && (type === 'n' || type === 'f');
  } catch {
    return false;
  } finally {
    p.pos = save;
  }
}

/** Cross-reference stream, §7.5.8: /W field widths, /Index subsections, entries of types 0/1/2. */
function readStreamSection(
  reader: ByteReader,
  offset: number,
  shift: number,
): { own: Map<number, XrefEntry>; trailer: PdfDict } {
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
      else if (type === 1) own.set(num, { type: 'offset', offset: f1 + shift, gen: f2 });
      else if (type === 2) own.set(num, { type: 'compressed', stream: f1, index: f2 });
      // Other types are reserved: §7.5.8.3 says to treat them as null references.
    }
  }
  return { own, trailer: dict };
}

/** How far around a table entry's offset an object's header is looked for. */
export const ENTRY_SEARCH_WINDOW = 256;

/**
 * Where `num gen obj` really starts, near an entry that missed it by a few bytes: files whose writer counted an
 * EOL it did not write (or wrote CRLF after counting LF), and files edited by hand where only a few bytes moved.
 * PDFBox checks each offset this way before it falls back to a full scan; for seald a miss here is what sends the
 * document to recovery. Only the exact header is accepted, nearest first; undefined when it is not in the window.
 */
export function findObjectNear(reader: ByteReader, offset: number, num: number, gen: number): number | undefined {
  const from = Math.max(0, offset - ENTRY_SEARCH_WINDOW);
  const text = Buffer.from(reader.slice(from, 2 * ENTRY_SEARCH_WINDOW)).toString('latin1');
  const header = new RegExp(`(?<![0-9A-Za-z.])${num}[\\0\\t\\n\\f\\r ]+${gen}[\\0\\t\\n\\f\\r ]+obj(?![0-9A-Za-z])`, 'g');
  let best: number | undefined;
  for (const m of text.matchAll(header)) {
    const at = from + m.index;
    if (best === undefined || Math.abs(at - offset) < Math.abs(best - offset)) best = at;
  }
  return best;
}
