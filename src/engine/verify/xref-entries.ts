/**
 * Which cross-reference entries of an incremental update say something new (ISO 32000-1 §7.5.4, §7.5.8.3): entries
 * that only repeat the previous revision's, and objects an update changes without listing them (members of an object
 * stream it redefines in place). changes.ts compares what these select.
 */
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfStream, type PdfObject } from '../../pdf/objects.ts';
import type { Revision } from '../../pdf/revisions.ts';
import type { XrefEntry } from '../../pdf/xref.ts';

export function isContainer(value: PdfObject | undefined): boolean {
  return value instanceof PdfStream && ['XRef', 'ObjStm'].includes(value.dict.name('Type') ?? '');
}

function sameEntry(a: XrefEntry | undefined, b: XrefEntry | undefined): boolean {
  if (a === undefined || b === undefined || a.type !== b.type) return false;
  if (a.type === 'offset' && b.type === 'offset') return a.offset === b.offset && a.gen === b.gen;
  if (a.type === 'compressed' && b.type === 'compressed') return a.stream === b.stream && a.index === b.index;
  return a.type === 'free';
}

/**
 * An entry of this revision that repeats the previous revision's entry for the same object (§7.5.6 does not forbid
 * listing unchanged objects): the object, read where it was read before. For an object in an object stream, the
 * stream too must be where it was (not listed, or re-listed the same way).
 */
export function relisted(prev: PdfDocument, rev: Revision, num: number, entry: XrefEntry): boolean {
  const before = prev.xref.entries.get(num);
  if (!sameEntry(before, entry)) return false;
  if (entry.type !== 'compressed') return true;
  const stream = rev.entries.get(entry.stream);
  return stream === undefined || sameEntry(prev.xref.entries.get(entry.stream), stream);
}

/**
 * The entries this revision lists, plus the objects it changes without listing them: members of an object stream of
 * the previous revision that this revision redefines in place (same number, new bytes). Their entries still say "in
 * stream N", so a reader now reads them from the new stream; each is compared like a listed object.
 */
export function examinedEntries(prev: PdfDocument, cur: PdfDocument, rev: Revision): Map<number, XrefEntry> {
  const members = new Map<number, number[]>();
  for (const [num, e] of prev.xref.entries) {
    if (e.type !== 'compressed') continue;
    const list = members.get(e.stream);
    if (list) list.push(num);
    else members.set(e.stream, [num]);
  }
  if (members.size === 0) return rev.entries;
  let out: Map<number, XrefEntry> | undefined;
  for (const [num, e] of rev.entries) {
    const inside = members.get(num);
    if (!inside || e.type === 'free' || relisted(prev, rev, num, e)) continue;
    for (const m of inside) {
      const now = cur.xref.entries.get(m);
      if (rev.entries.has(m) || now === undefined) continue;
      out ??= new Map(rev.entries);
      out.set(m, now);
    }
  }
  return out ?? rev.entries;
}
