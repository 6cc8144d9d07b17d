/**
 * An incremental update (ISO 32000-1 §7.5.6): new and changed objects appended after the original bytes, then a
 * cross-reference section of the same kind as the file's newest one, and a trailer that chains to it with /Prev.
 * The original bytes are never copied, rewritten or renumbered here: the caller streams them first, then `bytes`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfObject } from './objects.ts';
import { ByteSink } from './serialize.ts';
import type { PdfDocument } from './document.ts';

export interface IncrementalSection {
  /** The bytes to append to the original document. */
  bytes: Buffer;
  /** Absolute offsets (in the whole output) of PdfRaw placeholders written with an id. */
  marks: Map<string, number>;
}

export class IncrementalWriter {
  private nextNumber: number;
  private readonly objects = new Map<number, { ref: PdfRef; value: PdfObject }>();

  constructor(private readonly doc: PdfDocument) {
    this.nextNumber = doc.size;
  }

  /** A new object. */
  add(value: PdfObject): PdfRef {
    const ref = new PdfRef(this.nextNumber++, 0);
    this.objects.set(ref.num, { ref, value });
    return ref;
  }

  /** A reserved number, for objects that refer to each other; give it a value with `update`. */
  reserve(): PdfRef {
    const ref = new PdfRef(this.nextNumber++, 0);
    this.objects.set(ref.num, { ref, value: null });
    return ref;
  }

  /** A new version of an existing object (same number and generation) in this revision. */
  update(ref: PdfRef, value: PdfObject): void {
    this.objects.set(ref.num, { ref, value });
  }

  write(): IncrementalSection {
    const base = this.doc.source.size;
    const sink = new ByteSink();
    // The update always starts with one EOL of its own, whether or not the file's last %%EOF has one: the file's bytes
    // then end exactly one byte before the update's first object, so removing the update (rollback) gives back the
    // original byte for byte without having to guess whether that EOL was the original's.
    sink.text('\n');

    const offsets = new Map<number, { offset: number; gen: number }>();
    const sorted = [...this.objects.values()].sort((a, b) => a.ref.num - b.ref.num);
    for (const { ref, value } of sorted) {
      offsets.set(ref.num, { offset: base + sink.length, gen: ref.gen });
      sink.text(`${ref.num} ${ref.gen} obj\n`);
      sink.object(this.doc.encryptForWriting(value, ref));
      sink.text('\nendobj\n');
    }

    const trailer = this.trailer();
    if (this.doc.xrefKind === 'stream') this.writeXrefStream(sink, base, offsets, trailer);
    else this.writeXrefTable(sink, base, offsets, trailer);

    const marks = new Map<string, number>();
    for (const [id, at] of sink.marks) marks.set(id, base + at);
    return { bytes: sink.concat(), marks };
  }

  /**
   * §7.5.6 and §14.4: /Prev, /Size, /Root and /Info carried over; /ID keeps its first half and gets a new second.
   * An encrypted document's update carries its /Encrypt as it is (§7.6.1: the trailer of every update of an encrypted
   * file has one), and never a new first /ID: the file key of R2–R4 is derived from it (§7.6.3.3 Algorithm 2 step e),
   * so a file without an /ID keeps none.
   */
  private trailer(): PdfDict {
    const old = this.doc.trailer;
    const t = new PdfDict();
    const info = old.get('Info');
    const encrypt = old.get('Encrypt');
    const oldId = this.doc.resolve(old.get('ID'));
    const kept = Array.isArray(oldId) && oldId[0] instanceof PdfString ? oldId[0] : undefined;
    t.set('Root', this.doc.catalogRef);
    if (info !== undefined) t.set('Info', info);
    if (kept !== undefined || encrypt === undefined) {
      const first = kept ?? new PdfString(randomBytes(16), true);
      const second = new PdfString(
        createHash('md5').update(first.bytes).update(String(this.doc.source.size)).update(randomBytes(8)).digest(),
        true,
      );
      t.set('ID', [first, second]);
    }
    if (encrypt !== undefined) t.set('Encrypt', encrypt);
    t.set('Prev', this.doc.xref.startxref);
    return t;
  }

  /*
   * A classic section, §7.5.4, one subsection per run of consecutive numbers, 20-byte entries:
   *   xref
   *   12 2
   *   0000004711 00000 n\r\n
   * A hybrid file's update is a plain table too: our objects are all uncompressed, and readers that understand
   * streams still reach the older /XRefStm through /Prev.
   */
  private writeXrefTable(
    sink: ByteSink,
    base: number,
    offsets: Map<number, { offset: number; gen: number }>,
    trailer: PdfDict,
  ): void {
    const xrefOffset = base + sink.length;
    sink.text('xref\n');
    for (const run of runs([...offsets.keys()])) {
      sink.text(`${run[0]} ${run.length}\n`);
      for (const num of run) {
        const e = offsets.get(num)!;
        sink.text(`${String(e.offset).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} n\r\n`);
      }
    }
    trailer.set('Size', this.nextNumber);
    sink.text('trailer\n');
    sink.object(reorder(trailer));
    sink.text(`\nstartxref\n${xrefOffset}\n%%EOF\n`);
  }

  /** A cross-reference stream, §7.5.8, listing this section's objects and itself, uncompressed (it is small). */
  private writeXrefStream(
    sink: ByteSink,
    base: number,
    offsets: Map<number, { offset: number; gen: number }>,
    trailer: PdfDict,
  ): void {
    const xrefNum = this.nextNumber++;
    const xrefOffset = base + sink.length;
    const all = new Map(offsets).set(xrefNum, { offset: xrefOffset, gen: 0 });
    const w1 = Math.max(1, Math.ceil(Math.log2(xrefOffset + 1) / 8));
    const nums = [...all.keys()].sort((a, b) => a - b);
    const row = 1 + w1 + 2;
    const data = Buffer.alloc(nums.length * row);
    nums.forEach((num, i) => {
      const e = all.get(num)!;
      data[i * row] = 1;
      data.writeUIntBE(e.offset, i * row + 1, w1);
      data.writeUInt16BE(e.gen, i * row + 1 + w1);
    });
    const index: number[] = [];
    for (const run of runs(nums)) index.push(run[0]!, run.length);
    const d = reorder(trailer);
    d.set('Type', PdfName.of('XRef'));
    d.set('Size', this.nextNumber);
    d.set('W', [1, w1, 2]);
    d.set('Index', index);
    sink.text(`${xrefNum} 0 obj\n`);
    sink.object(new PdfStream(d, data));
    sink.text(`\nendobj\nstartxref\n${xrefOffset}\n%%EOF\n`);
  }
}

function runs(nums: number[]): number[][] {
  const sorted = [...nums].sort((a, b) => a - b);
  const out: number[][] = [];
  for (const n of sorted) {
    const cur = out[out.length - 1];
    if (cur && cur[cur.length - 1] === n - 1) cur.push(n);
    else out.push([n]);
  }
  return out;
}

/** Trailer keys in the customary order (Size first), for readers that scan rather than parse. */
function reorder(t: PdfDict): PdfDict {
  const d = new PdfDict();
  for (const k of ['Type', 'Size', 'Root', 'Info', 'ID', 'Prev']) if (t.has(k)) d.set(k, t.get(k)!);
  for (const [k, v] of t.entries) if (!d.has(k)) d.set(k, v);
  return d;
}
