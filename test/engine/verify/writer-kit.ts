/**
 * Incremental updates written the way other PDF writers write them, for the verifier's tests (issue 17): an update
 * whose cross-reference section re-lists unchanged objects (as a 法大大 contract's does), one that moves every
 * unchanged object into an object stream with a cross-reference stream (full compression), one that re-encodes
 * unchanged streams, and the raw material of xref tricks (an appended linearization dictionary, stray `%%EOF`s).
 * seald's IncrementalWriter never writes these shapes, so this writer lays the bytes out itself (ISO 32000-1 §7.5.4
 * tables, §7.5.7 object streams, §7.5.8 cross-reference streams, §7.5.6 updates).
 */
import { deflateSync } from 'node:zlib';
import type { PdfDocument } from '../../../src/pdf/document.ts';
import { PdfDict, PdfName, PdfRef, PdfStream, type PdfObject } from '../../../src/pdf/objects.ts';
import { ByteSink } from '../../../src/pdf/serialize.ts';
import type { XrefEntry } from '../../../src/pdf/xref.ts';
import { open } from './attack-kit.ts';

export interface RawUpdate {
  /** Objects this update writes (new ones or new versions of old ones). */
  objects?: (doc: PdfDocument) => [PdfRef, PdfObject][];
  /** Rows listed besides the update's own objects: object number → entry (offsets as the file counts them). */
  relist?: (doc: PdfDocument) => [number, XrefEntry][];
  /** Every non-stream object with generation 0 of `objects` goes into one new object stream (§7.5.7). */
  objectStream?: boolean;
  /** Write the section as a cross-reference stream (§7.5.8) instead of a table. */
  xrefStream?: boolean;
  /** Bytes written first, before any object (e.g. a linearization dictionary). */
  leading?: (doc: PdfDocument, base: number) => string;
  /** Bytes written between the trailer and `startxref` (e.g. a stray `%%EOF`). */
  beforeStartxref?: string;
}

/** Append one update laid out as `update` says; returns the whole file. */
export function rawUpdate(bytes: Buffer, update: RawUpdate): Buffer {
  const doc = open(bytes);
  const base = bytes.length;
  const sink = new ByteSink();
  sink.text('\n');
  if (update.leading) sink.text(update.leading(doc, base));
  const rows = new Map<number, XrefEntry>();
  let next = doc.size;
  const objects = update.objects?.(doc) ?? [];
  for (const [ref] of objects) next = Math.max(next, ref.num + 1);
  const packed = update.objectStream ? objects.filter(([ref, v]) => ref.gen === 0 && !(v instanceof PdfStream)) : [];
  const plain = objects.filter((o) => !packed.includes(o));
  for (const [ref, value] of plain) {
    rows.set(ref.num, { type: 'offset', offset: base + sink.length, gen: ref.gen });
    sink.text(`${ref.num} ${ref.gen} obj\n`);
    sink.object(value);
    sink.text('\nendobj\n');
  }
  if (packed.length > 0) {
    const streamNum = next++;
    const body = new ByteSink();
    const header: string[] = [];
    packed.forEach(([ref, value], index) => {
      header.push(`${ref.num} ${body.length}`);
      body.object(value);
      body.text('\n');
      rows.set(ref.num, { type: 'compressed', stream: streamNum, index });
    });
    const head = `${header.join(' ')}\n`;
    const data = deflateSync(Buffer.concat([Buffer.from(head, 'latin1'), body.concat()]));
    rows.set(streamNum, { type: 'offset', offset: base + sink.length, gen: 0 });
    sink.text(`${streamNum} 0 obj\n`);
    sink.object(new PdfStream(dictOf({ Type: PdfName.of('ObjStm'), N: packed.length, First: head.length, Filter: PdfName.of('FlateDecode') }), data));
    sink.text('\nendobj\n');
  }
  for (const [num, e] of update.relist?.(doc) ?? []) if (!rows.has(num)) rows.set(num, e);

  const trailer = new PdfDict();
  trailer.set('Root', doc.catalogRef);
  for (const k of ['Info', 'ID']) {
    const v = doc.trailer.get(k);
    if (v !== undefined) trailer.set(k, v);
  }
  trailer.set('Prev', doc.xref.startxref);
  const xrefOffset = base + sink.length;
  if (update.xrefStream) {
    const xrefNum = next++;
    rows.set(xrefNum, { type: 'offset', offset: xrefOffset, gen: 0 });
    const nums = [...rows.keys()].sort((a, b) => a - b);
    const data = Buffer.alloc(nums.length * 7);
    nums.forEach((num, i) => {
      const e = rows.get(num)!;
      const [t, f1, f2] = e.type === 'offset' ? [1, e.offset, e.gen] : e.type === 'compressed' ? [2, e.stream, e.index] : [0, 0, 65535];
      data[i * 7] = t;
      data.writeUInt32BE(f1, i * 7 + 1);
      data.writeUInt16BE(f2, i * 7 + 5);
    });
    const index = runs(nums).flatMap((r) => [r[0]!, r.length]);
    const d = dictOf({ Type: PdfName.of('XRef'), Size: next, W: [1, 4, 2], Index: index });
    for (const [k, v] of trailer.entries) d.set(k, v);
    sink.text(`${xrefNum} 0 obj\n`);
    sink.object(new PdfStream(d, data));
    sink.text('\nendobj\n');
  } else {
    sink.text('xref\n');
    for (const run of runs([...rows.keys()])) {
      sink.text(`${run[0]} ${run.length}\n`);
      for (const num of run) {
        const e = rows.get(num)!;
        if (e.type !== 'offset') sink.text('0000000000 65535 f\r\n');
        else sink.text(`${String(e.offset).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} n\r\n`);
      }
    }
    trailer.set('Size', next);
    sink.text('trailer\n');
    sink.object(trailer);
    sink.text('\n');
  }
  sink.text(`${update.beforeStartxref ?? ''}startxref\n${xrefOffset}\n%%EOF\n`);
  return Buffer.concat([bytes, sink.concat()]);
}

/** Every object of the document as it is, with its number (free and unreadable ones left out). */
export function everyObject(doc: PdfDocument): [PdfRef, PdfObject][] {
  const out: [PdfRef, PdfObject][] = [];
  for (const [num, e] of doc.xref.entries) {
    if (num === 0 || e.type === 'free') continue;
    const ref = new PdfRef(num, e.type === 'offset' ? e.gen : 0);
    const value = doc.getObject(ref);
    if (value === null) continue;
    if (value instanceof PdfStream && ['XRef', 'ObjStm'].includes(value.dict.name('Type') ?? '')) continue;
    out.push([ref, value]);
  }
  return out;
}

/**
 * The same stream encoded another way, as a writer that recompresses does: an unfiltered stream deflated, a
 * /FlateDecode one stored decoded; /Length written direct. Others as they are.
 */
export function reencoded(doc: PdfDocument, value: PdfObject): PdfObject {
  if (!(value instanceof PdfStream)) return value;
  const filter = value.dict.get('Filter');
  const d = value.dict.clone();
  if (filter === undefined) {
    d.set('Filter', PdfName.of('FlateDecode'));
    return new PdfStream(d, deflateSync(value.encoded()));
  }
  if (filter instanceof PdfName && filter.name === 'FlateDecode' && value.dict.get('DecodeParms') === undefined) {
    d.delete('Filter');
    return new PdfStream(d, doc.decode(value));
  }
  return new PdfStream(d, value.encoded());
}

/** The cross-reference entry of every object of the previous revision (what a re-listing writer repeats). */
export function previousEntries(doc: PdfDocument): [number, XrefEntry][] {
  return [...doc.xref.entries].filter(([num, e]) => num !== 0 && e.type === 'offset');
}

function dictOf(entries: Record<string, PdfObject>): PdfDict {
  const d = new PdfDict();
  for (const [k, v] of Object.entries(entries)) d.set(k, v);
  return d;
}

function runs(nums: number[]): number[][] {
  const out: number[][] = [];
  for (const n of [...nums].sort((a, b) => a - b)) {
    const cur = out[out.length - 1];
    if (cur && cur[cur.length - 1] === n - 1) cur.push(n);
    else out.push([n]);
  }
  return out;
}
