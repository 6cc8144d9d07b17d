/**
 * The revisions of a document (ISO 32000-1 §7.5.6): the original plus one per incremental update. Each revision ends
 * just after its `%%EOF` marker (and that marker's end of line); the bytes up to that point are a complete PDF, which
 * `openRevision` opens as the document looked then. A linearized file's first revision has two cross-reference
 * sections (first-page and main, §F.3) and an extra `%%EOF` near its start: they count as one revision.
 */
import { PdfDocument, shareSecurity } from './document.ts';
import type { XrefEntry, XrefSection } from './xref.ts';
import type { ByteSource } from './source.ts';

export interface Revision {
  /** 1-based. */
  number: number;
  /** Offset of the first byte of this revision (0, or the end of the previous one). */
  start: number;
  /** Offset just after `%%EOF`. */
  eofEnd: number;
  /** Offset just after `%%EOF` and its end-of-line, if any: where the next revision starts. */
  end: number;
  /** Cross-reference sections of this revision, newest first. */
  sections: XrefSection[];
  /** The objects this revision's sections list (new, changed and freed ones). */
  entries: Map<number, XrefEntry>;
  /**
   * The revision seald wrote over an original it had to repair (repaired-base.ts): its section stands for the
   * original's broken one, so it neither chains to the original's (unusable) table nor restates its rows here.
   */
  afterRepairedBase?: boolean;
}

export interface RevisionLayout {
  revisions: Revision[];
  /** Every `%%EOF` in the file that ends no revision (a linearized file's first-page one excepted). */
  strayEofs: number[];
  /** Offset just after the last revision; bytes from here to the end of the file belong to no revision. */
  end: number;
}

const EOF_MARKER = Buffer.from('%%EOF', 'latin1');
const SCAN_WINDOW = 1024 * 1024;

/** Offsets just after every `%%EOF` in the source, in file order (one sequential pass). */
export async function findEofMarkers(source: ByteSource): Promise<number[]> {
  const found: number[] = [];
  const overlap = EOF_MARKER.length - 1;
  for (let start = 0; start < source.size; start += SCAN_WINDOW) {
    const window = Buffer.from(source.read(start, SCAN_WINDOW + overlap));
    for (let at = window.indexOf(EOF_MARKER); at >= 0; at = window.indexOf(EOF_MARKER, at + 1)) {
      if (at < SCAN_WINDOW) found.push(start + at + EOF_MARKER.length);
    }
  }
  return found;
}

/** Skip one end-of-line (CR LF, LF or CR) after a `%%EOF`. */
export function afterEol(source: ByteSource, pos: number): number {
  const next = source.read(pos, 2);
  if (next[0] === 0x0d) return next[1] === 0x0a ? pos + 2 : pos + 1;
  if (next[0] === 0x0a) return pos + 1;
  return pos;
}

/** Map the xref chain of the whole document onto the `%%EOF` markers of the file. */
export function layoutRevisions(doc: PdfDocument, eofs: number[]): RevisionLayout {
  const source = doc.source;
  const chain = [...doc.xref.sections].reverse(); // oldest first
  const groups: XrefSection[][] = chain.map((s) => [s]);
  // §F.3: the first-page section's trailer points with /Prev to the main one; together they are revision 1 — only
  // when it really lies before the main one (document.ts linearizedFirstRevision: an appended linearization
  // dictionary, the 2026 bypass, is no first-page section).
  if (doc.linearizedFirstRevision()) {
    groups.splice(0, 2, [chain[1]!, chain[0]!]);
  }
  const claimed = new Set<number>();
  const revisions: Revision[] = [];
  let start = 0;
  for (const sections of groups) {
    let eofEnd = -1;
    for (const s of sections) {
      const e = eofs.find((p) => p > s.offset);
      if (e !== undefined) {
        claimed.add(e);
        eofEnd = Math.max(eofEnd, e);
      }
    }
    if (eofEnd < 0) eofEnd = source.size; // the last revision of a file without a final %%EOF (tolerated by the parser)
    const entries = new Map<number, XrefEntry>();
    for (const s of sections) for (const [num, e] of s.own) if (!entries.has(num)) entries.set(num, e);
    const end = afterEol(source, eofEnd);
    revisions.push({ number: revisions.length + 1, start, eofEnd, end, sections: [...sections].reverse(), entries });
    start = end;
  }
  return { revisions, strayEofs: eofs.filter((e) => !claimed.has(e)), end: start };
}

/** The first `end` bytes of a source, as a source of its own (the document as of one revision). */
export function prefixSource(source: ByteSource, end: number): ByteSource {
  const prefix: ByteSource = {
    size: end,
    read: (offset, length) => source.read(offset, Math.max(0, Math.min(length, end - offset))),
    chunks: (from = 0, to = end, chunkSize) => source.chunks(from, Math.min(to, end), chunkSize),
    close: async () => undefined,
  };
  shareSecurity(prefix, source);
  return prefix;
}

/** The document as it was at the end of `revision`. */
export function openRevision(source: ByteSource, revision: Revision): PdfDocument {
  return PdfDocument.open(prefixSource(source, revision.end));
}
