/**
 * The verifier's view of a document whose original revision seald had to repair before sealing it (issue 18).
 *
 * A seal on a damaged file appends a revision whose cross-reference section lists every object (incremental.ts) and
 * whose trailer says where the original ends: `/Seald_RepairedBase N`, the original's length in bytes. Readers ignore
 * a trailer key they do not know (ISO 32000-1 §7.5.5); the verifier reads it here, and nothing else does:
 *
 *   - the revisions up to byte N (the "base") are opened by recovery (recovery.ts), every later one strictly;
 *   - the base must carry no signature: no `/ByteRange` in its bytes and no signature field in its recovered
 *     reading. Repair never touches a signed revision, so it cannot turn damage inside one into a valid verdict;
 *   - the chain's sections older than the marked one must all lie before N, the marked one and every newer one after
 *     it; the base becomes one revision [0, N) and the marked revision starts at N, so every signature's /ByteRange
 *     still has to end exactly at the end of a revision the strict reading found. Damage in or after a signed
 *     revision is refused as before;
 *   - the marked revision's rows that restate the base (same object at the same offset, or in the same object
 *     stream) are not changes of that revision and are left out of its entries; any other row stays and is judged.
 * A marker that does not meet every condition is ignored: the document is then read strictly, as any other.
 */
import { PdfDocument } from './document.ts';
import { REPAIRED_BASE_KEY } from './incremental.ts';
import { Budget, DEFAULT_VERIFY_LIMITS } from './limits.ts';
import { afterEol, layoutRevisions, openRevision, prefixSource, type Revision, type RevisionLayout } from './revisions.ts';
import { signatureFields } from './signature-fields.ts';
import type { ByteSource } from './source.ts';
import type { XrefEntry } from './xref.ts';


export interface RepairedBase {
  /** Bytes [0, end) are the original, read by recovery. */
  end: number;
  /** How many revisions the original counts as: 1 (it is read as one, [0, end), whatever sections it holds). */
  revisions: number;
  /** What was wrong with the original's structure (recovery.ts), or how it was read. */
  reason: string;
}

export interface VerifyLayout extends RevisionLayout {
  repairedBase?: RepairedBase;
}

const SCAN = 1024 * 1024;

/** Whether the bytes [0, end) hold a `/ByteRange` key (a signature dictionary, §12.8.1 Table 252). */
function mentionsByteRange(source: ByteSource, end: number): boolean {
  const needle = Buffer.from('/ByteRange', 'latin1');
  for (let at = 0; at < end; at += SCAN) {
    const window = Buffer.from(source.read(at, Math.min(SCAN + needle.length - 1, end - at)));
    if (window.includes(needle)) return true;
  }
  return false;
}

function sameEntry(a: XrefEntry, b: XrefEntry | undefined): boolean {
  if (b === undefined) return a.type === 'free';
  if (a.type === 'offset') return b.type === 'offset' && a.offset === b.offset && a.gen === b.gen;
  if (a.type === 'compressed') return b.type === 'compressed' && a.stream === b.stream && a.index === b.index;
  return b.type === 'free';
}

/**
 * The revisions of `doc` (its strict reading, as layoutRevisions lays them out), with the original opened by
 * recovery when seald's marker says it was repaired and every condition above holds.
 */
export function layoutForVerify(doc: PdfDocument, eofs: number[]): VerifyLayout {
  const layout = layoutRevisions(doc, eofs);
  const markedSections = doc.xref.sections.filter((s) => s.trailer.has(REPAIRED_BASE_KEY));
  if (markedSections.length !== 1) return layout;
  const section = markedSections[0]!;
  const end = section.trailer.get(REPAIRED_BASE_KEY);
  const source = doc.source;
  if (typeof end !== 'number' || !Number.isInteger(end) || end <= 0 || end >= section.offset) return layout;
  // The original's sections (older than the marked one) all lie before N, the marked one and every newer one after.
  const at = doc.xref.sections.indexOf(section);
  if (!doc.xref.sections.every((s, i) => (i <= at) === (s.offset >= end))) return layout;
  // The base is one revision, [0, N): however the original's own sections and %%EOF markers lie (a damaged
  // linearized file's first-page table and stray %%EOF: qpdf's minimal-linearize-pass1.pdf), they are its business.
  const older = layout.revisions.filter((r) => r.sections.every((s) => s.offset < end));
  const entries = new Map<number, XrefEntry>();
  for (const r of [...older].reverse()) for (const [num, e] of r.entries) if (!entries.has(num)) entries.set(num, e);
  const base: Revision = { number: 1, start: 0, eofEnd: end, end, sections: older.flatMap((r) => r.sections), entries };
  // One revision per section from N on, each ending at the first %%EOF after its section (as layoutRevisions does;
  // a linearized original's first-revision grouping belongs to the base, not to seald's revisions after it).
  const revisions: Revision[] = [base];
  const claimed = new Set<number>();
  let start = end;
  for (const s of doc.xref.sections.slice(0, at + 1).reverse()) {
    const eofEnd = eofs.find((e) => e > s.offset) ?? source.size;
    claimed.add(eofEnd);
    const revisionEnd = afterEol(source, eofEnd);
    revisions.push({ number: revisions.length + 1, start, eofEnd, end: revisionEnd, sections: [s], entries: new Map(s.own) });
    start = revisionEnd;
  }
  const strayEofs = eofs.filter((e) => e > end && !claimed.has(e));
  if (mentionsByteRange(source, end)) return layout;
  let baseDoc: PdfDocument;
  try {
    baseDoc = PdfDocument.open(prefixSource(source, end));
    const budget = new Budget({ ...DEFAULT_VERIFY_LIMITS, maxMillis: 10_000 });
    if (signatureFields(baseDoc, budget).length > 0) return layout;
  } catch {
    return layout; // an original recovery cannot read either: the strict reading's refusal stands
  }
  // The marked revision's own changes: rows that restate the base are not changes of it.
  const marker = revisions[1]!;
  const own = new Map<number, XrefEntry>();
  for (const [num, e] of marker.entries) if (!sameEntry(e, baseDoc.xref.entries.get(num))) own.set(num, e);
  revisions[1] = { ...marker, entries: own, afterRepairedBase: true };
  const reason = baseDoc.repaired?.reason ?? baseDoc.xref.quirks[0] ?? 'the original revision read as written';
  return { revisions, strayEofs, end: start, repairedBase: { end, revisions: 1, reason } };
}

/** The document as of `revision`: the repaired base by recovery, every other revision strictly. */
export function openForVerify(source: ByteSource, revision: Revision, layout: VerifyLayout): PdfDocument {
  if (layout.repairedBase !== undefined && revision.end <= layout.repairedBase.end) {
    return PdfDocument.open(prefixSource(source, revision.end));
  }
  return openRevision(source, revision);
}
