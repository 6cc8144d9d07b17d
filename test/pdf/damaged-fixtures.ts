/**
 * Damaged and quirky variants of seald's fixtures, one function per class of real-world file that pdf.js, PDFBox,
 * MuPDF and qpdf read and seald used to refuse (issue 18). Each takes a well-formed file and breaks it the way the
 * named producer or transport does; none is a stored blob.
 */

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const bytes = (s: string) => Buffer.from(s, 'latin1');

/** Offset of the last `startxref` value, and the value. */
function lastStartxref(s: string): { at: number; value: number } {
  const at = s.lastIndexOf('startxref');
  return { at, value: Number(/startxref\s+(\d+)/.exec(s.slice(at))![1]) };
}

/** A mail or HTTP header saved in front of the file (offsets still count from %PDF-). */
export function junkPrefix(pdf: Uint8Array): Buffer {
  return Buffer.concat([bytes('Content-Type: application/pdf\r\nContent-Length: 12345\r\n\r\n'), pdf]);
}

/**
 * unix2dos or an FTP ASCII-mode transfer: every LF outside stream data becomes CRLF, so every offset after the first
 * line is wrong by the number of lines before it. Stream data is left as it was (a converter that spared binary
 * data), so the objects stay intact and only the offsets are wrong.
 */
export function lfToCrlf(pdf: Uint8Array): Buffer {
  const s = latin1(pdf);
  let out = '';
  let pos = 0;
  const streams = /stream(\r\n|\n)/g;
  for (let m = streams.exec(s); m !== null; m = streams.exec(s)) {
    if (s.slice(m.index - 3, m.index) === 'end') continue;
    const dataStart = m.index + m[0].length;
    const dataEnd = s.indexOf('endstream', dataStart);
    out += s.slice(pos, dataStart).replace(/\r?\n/g, '\r\n') + s.slice(dataStart, dataEnd);
    pos = dataEnd;
    streams.lastIndex = dataEnd + 9;
  }
  out += s.slice(pos).replace(/\r?\n/g, '\r\n');
  return bytes(out);
}

/** A writer that always emits /Prev, writing `/Prev 0` in a single-revision file. */
export function prevZero(pdf: Uint8Array): Buffer {
  const s = latin1(pdf);
  const at = s.lastIndexOf('trailer');
  const dict = s.indexOf('<<', at);
  return bytes(s.slice(0, dict + 2) + ' /Prev 0 ' + s.slice(dict + 2));
}

/**
 * A /Prev loop: the first revision's trailer names the newest section in /Prev (a tool that copied the newest
 * trailer's keys into the old one). `update` writes a revision on a document; the placeholder `/Prev 0000` keeps the
 * old trailer's length, so no offset moves when it gets the newest section's offset.
 */
export function prevLoop(pdf: Uint8Array, update: (b: Buffer) => Buffer): Buffer {
  const s = latin1(pdf);
  const at = s.lastIndexOf('trailer');
  const dict = s.indexOf('<<', at);
  const withPlaceholder = bytes(s.slice(0, dict + 2) + ' /Prev 000000 ' + s.slice(dict + 2));
  const updated = Buffer.concat([withPlaceholder, update(withPlaceholder)]);
  const { value } = lastStartxref(latin1(updated));
  const out = latin1(updated).replace('/Prev 000000', `/Prev ${String(value).padStart(6, '0')}`);
  return bytes(out);
}

/** Table entries rewritten by `edit` (offset, number), lengths kept: the table's lines stay 20 bytes. */
function editEntries(pdf: Uint8Array, edit: (offset: number, num: number, all: number[]) => number): Buffer {
  const s = latin1(pdf);
  const { value } = lastStartxref(s);
  const header = /xref\s+(\d+)\s+(\d+)\s+/y;
  header.lastIndex = value;
  const h = header.exec(s)!;
  const first = Number(h[1]);
  const rows: { at: number; offset: number }[] = [];
  const entry = /(\d{10}) (\d{5}) ([nf])/y;
  entry.lastIndex = header.lastIndex;
  for (let m = entry.exec(s); m !== null; m = entry.exec(s)) {
    rows.push({ at: m.index, offset: m[3] === 'n' ? Number(m[1]) : -1 });
    entry.lastIndex = m.index + 20;
  }
  const all = rows.map((r) => r.offset);
  const out = Buffer.from(pdf);
  rows.forEach((r, i) => {
    if (r.offset < 0) return;
    out.write(String(edit(r.offset, first + i, all)).padStart(10, '0'), r.at, 'latin1');
  });
  return out;
}

/** Every entry a few bytes past its object (a writer that counted an EOL it did not write). */
export function entriesOffBy(pdf: Uint8Array, n: number): Buffer {
  return editEntries(pdf, (offset) => offset + n);
}

/** Two entries swapped: object `a` is said to be where `b` is and the reverse (a table written from a stale map). */
export function entriesSwapped(pdf: Uint8Array, a: number, b: number): Buffer {
  return editEntries(pdf, (offset, num, all) => (num === a ? all[b]! : num === b ? all[a]! : offset));
}

/** The first subsection's count off by `delta` (a writer that counted before or after adding the last object). */
export function subsectionMiscounted(pdf: Uint8Array, delta: number): Buffer {
  const s = latin1(pdf);
  const { value } = lastStartxref(s);
  return bytes(s.slice(0, value) + s.slice(value).replace(/xref(\s+)(\d+) (\d+)/, (_, ws, f, c) => `xref${ws}${f} ${Number(c) + delta}`));
}

/** `startxref N` gone, `%%EOF` kept (a tool that stripped the last lines and re-added the marker). */
export function noStartxref(pdf: Uint8Array): Buffer {
  const s = latin1(pdf);
  const { at } = lastStartxref(s);
  return bytes(s.slice(0, at) + s.slice(at).replace(/startxref\s+\d+\s+/, ''));
}

/** `startxref` pointing into the body (a file re-saved by an editor that did not update it). */
export function startxrefWrong(pdf: Uint8Array): Buffer {
  const s = latin1(pdf);
  const { at } = lastStartxref(s);
  return bytes(s.slice(0, at) + s.slice(at).replace(/startxref\s+\d+/, 'startxref\n120'));
}

/** Cut in the middle of the last xref table: every object is there, the table's end, trailer and %%EOF are not. */
export function truncatedInXref(pdf: Uint8Array): Buffer {
  const s = latin1(pdf);
  const { value } = lastStartxref(s);
  return bytes(s.slice(0, value + 60));
}

/**
 * A linearized file (Annex F) whose first-page cross-reference table is garbage: a web server's byte-range
 * "optimizer" that rewrote the first KiB. The main table at the end is intact.
 */
export function linearizedBadFirstPageXref(pdf: Uint8Array): Buffer {
  const s = latin1(pdf);
  const { value } = lastStartxref(s); // a linearized file's last startxref is the first-page table's
  const table = /xref\s+\d+\s+\d+\s+/y;
  table.lastIndex = value;
  table.exec(s);
  const out = Buffer.from(pdf);
  out.write('9'.repeat(9) + 'x', table.lastIndex, 'latin1');
  return out;
}

/** The xref stream's compressed data overwritten (a transfer that damaged the file's last block). */
export function xrefStreamBroken(pdf: Uint8Array): Buffer {
  const s = latin1(pdf);
  const { value } = lastStartxref(s);
  const data = s.indexOf('stream', s.indexOf('>>', value)) + 'stream\n'.length;
  const out = Buffer.from(pdf);
  out.fill(0x41, data, data + 16);
  return out;
}

/** Not a PDF beyond its first line: the header, then pseudo-random bytes, then a %%EOF. */
export function garbage(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >> 16;
  }
  return Buffer.concat([bytes('%PDF-1.7\n'), out, bytes('\n%%EOF\n')]);
}

/** Hostile: a header and a million object headers, none of them a catalog, no trailer. */
export function manyHeaders(count: number): Buffer {
  const parts = ['%PDF-1.7\n'];
  for (let i = 1; i <= count; i++) parts.push(`${i} 0 obj\n${i}\nendobj\n`);
  parts.push('%%EOF\n');
  return bytes(parts.join(''));
}

/**
 * An update whose trailer says `/Prev 0` (a writer that always emits the key, in an update as well): the chain stops
 * at that update and the objects only earlier sections list are lost to a strict reader. DSS's
 * pades-5-signatures-and-1-document-timestamp.pdf (esig/dss, dss-pades test resources) ends so, hiding its page
 * tree. `update` writes a revision on a document; its /Prev is replaced by 0, padded to the same length.
 */
export function prevZeroInUpdate(pdf: Uint8Array, update: (b: Buffer) => Buffer): Buffer {
  const updated = Buffer.concat([Buffer.from(pdf), update(Buffer.from(pdf))]);
  const s = latin1(updated);
  const at = s.lastIndexOf('/Prev ');
  const m = /\/Prev (\d+)/.exec(s.slice(at))!;
  return bytes(s.slice(0, at) + `/Prev 0${' '.repeat(m[1]!.length - 1)}` + s.slice(at + m[0].length));
}
