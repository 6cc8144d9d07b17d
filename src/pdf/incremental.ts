/**
 * An incremental update (ISO 32000-1 §7.5.6): new and changed objects appended after the original bytes, then a
 * cross-reference section of the same kind as the file's newest one, and a trailer that chains to it with /Prev.
 * The original bytes are never copied, rewritten or renumbered here: the caller streams them first, then `bytes`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfObject } from './objects.ts';
import { ByteSink } from './serialize.ts';
import type { PdfDocument } from './document.ts';
import type { XrefEntry } from './xref.ts';
import { SealdError } from '../errors.ts';

/** The trailer key of a section written over a repaired table: the original's length (read by repaired-base.ts). */
export const REPAIRED_BASE_KEY = 'Seald_RepairedBase';

/** One row of a section being written: an object of this revision, or (on a repaired file) one carried over. */
type Row = XrefEntry;

export interface IncrementalSection {
  /** The bytes to append to the original document. */
  bytes: Buffer;
  /** Absolute offsets (in the whole output) of PdfRaw placeholders written with an id. */
  marks: Map<string, number>;
}

export class IncrementalWriter {
  private nextNumber: number;
  private readonly objects = new Map<number, { ref: PdfRef; value: PdfObject }>();

  private readonly firstNumber: number;

  /**
   * `idEntropy`: 24 bytes to draw the trailer's new /ID from (16 for a first half when the file has none, 8 mixed
   * into the second), instead of fresh random bytes: given the same entropy, the same document and the same objects,
   * the section is byte for byte the same (a server regenerates a stored seal's revision this way).
   */
  constructor(
    private readonly doc: PdfDocument,
    private readonly idEntropy: Uint8Array = randomBytes(24),
  ) {
    if (idEntropy.byteLength !== 24) throw new SealdError('internal', 'ID_ENTROPY_SIZE', 'the /ID entropy must be 24 bytes');
    this.nextNumber = doc.size;
    this.firstNumber = this.nextNumber;
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
    // A reference to an object the table does not define, numbered where this writer numbers its own (found by
    // test/fuzz: a catalog whose /AcroForm object was lost): writing it would replace one of the new objects. A number
    // this writer gave out itself (reserve, add) is its own to update.
    if (ref.num >= this.firstNumber && !this.objects.has(ref.num)) {
      throw new SealdError('invalid-input', 'PDF_MALFORMED', `the PDF is damaged: it refers to object ${ref.num}, which it does not define`);
    }
    // §7.5.4: a generation number is at most 65,535 (a reference `3 99999999999999999999 R` to an object in an object
    // stream, whose generation is never checked, found by test/fuzz seed 1969273042 iteration 6142).
    if (!Number.isInteger(ref.gen) || ref.gen < 0 || ref.gen > 65_535) {
      throw new SealdError('invalid-input', 'PDF_MALFORMED', `the PDF is damaged: object ${ref.num} is referred to with generation ${ref.gen}`);
    }
    this.objects.set(ref.num, { ref, value });
  }

  write(): IncrementalSection {
    const base = this.doc.source.size;
    // Offsets written in the file count from %PDF- (§7.5.2; see XrefChain.headerOffset); marks stay absolute, as
    // /ByteRange counts the file's bytes.
    const shift = this.doc.xref.headerOffset;
    const sink = new ByteSink();
    // The update always starts with one EOL of its own, whether or not the file's last %%EOF has one: the file's bytes
    // then end exactly one byte before the update's first object, so removing the update (rollback) gives back the
    // original byte for byte without having to guess whether that EOL was the original's.
    sink.text('\n');

    // §7.5.6 lets an update list only what it changes, because readers consult the older sections for the rest. On
    // a repaired file those sections are wrong or unreadable, so the update lists every object (the rebuilt table's
    // entries, then its own): readers never need the broken section, and the original bytes stay an exact prefix.
    this.doc.repairBeforeUpdate();
    const rows = new Map<number, Row>();
    if (this.doc.repaired) {
      for (const [num, e] of this.doc.xref.entries) {
        // A table rebuilt after this writer numbered its objects (an entry missed while they were being built) may
        // hold objects the old table did not: numbers could then collide, and a section that hides one is refused.
        if (num >= this.firstNumber && e.type !== 'free') {
          throw new SealdError('invalid-input', 'PDF_MALFORMED', `the PDF is damaged: its cross-reference table misses object ${num}; rewrite it (e.g. \`qpdf in.pdf out.pdf\`) and retry`);
        }
        if (e.type === 'offset') rows.set(num, { ...e, offset: e.offset - shift });
        else if (e.type === 'compressed') rows.set(num, e);
      }
    }
    const sorted = [...this.objects.values()].sort((a, b) => a.ref.num - b.ref.num);
    for (const { ref, value } of sorted) {
      rows.set(ref.num, { type: 'offset', offset: base - shift + sink.length, gen: ref.gen });
      sink.text(`${ref.num} ${ref.gen} obj\n`);
      sink.object(this.doc.encryptForWriting(value, ref));
      sink.text('\nendobj\n');
    }

    const trailer = this.trailer();
    // A classic table cannot say "in object stream N" (§7.5.8.3): a repaired file with compressed objects gets a stream.
    const compressed = [...rows.values()].some((r) => r.type === 'compressed');
    if (this.doc.repaired) rows.set(0, { type: 'free' });
    if (this.doc.xrefKind === 'stream' || compressed) this.writeXrefStream(sink, base - shift, rows, trailer);
    else this.writeXrefTable(sink, base - shift, rows, trailer);

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
      const first = kept ?? new PdfString(Buffer.from(this.idEntropy.subarray(0, 16)), true);
      const second = new PdfString(
        createHash('md5').update(first.bytes).update(String(this.doc.source.size)).update(this.idEntropy.subarray(16)).digest(),
        true,
      );
      t.set('ID', [first, second]);
    }
    if (encrypt !== undefined) t.set('Encrypt', encrypt);
    // A repaired file's update chains to the original section only when that whole chain still reads (its entries
    // were wrong, and this section overrides every one of them); otherwise it stands alone, with no /Prev.
    const repaired = this.doc.xref.repaired;
    const prev = repaired ? repaired.prevSection : this.doc.xref.startxref;
    if (prev !== undefined && prev >= 0) t.set('Prev', prev - this.doc.xref.headerOffset);
    // Where the repaired original ends, for the verifier (repaired-base.ts): it reads the bytes before by recovery
    // and everything after strictly. Readers ignore a trailer key they do not know (§7.5.5).
    if (repaired) t.set(REPAIRED_BASE_KEY, this.doc.source.size);
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
  private writeXrefTable(sink: ByteSink, base: number, rows: Map<number, Row>, trailer: PdfDict): void {
    const xrefOffset = base + sink.length;
    sink.text('xref\n');
    for (const run of runs([...rows.keys()])) {
      sink.text(`${run[0]} ${run.length}\n`);
      for (const num of run) {
        const e = rows.get(num)!;
        // Only a repaired file's section has a free row: object 0, the head of the free list (§7.5.4).
        if (e.type !== 'offset') sink.text('0000000000 65535 f\r\n');
        else sink.text(`${String(e.offset).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} n\r\n`);
      }
    }
    trailer.set('Size', this.nextNumber);
    sink.text('trailer\n');
    sink.object(reorder(trailer));
    sink.text(`\nstartxref\n${xrefOffset}\n%%EOF\n`);
  }

  /**
   * A cross-reference stream, §7.5.8, listing this section's objects and itself, uncompressed (it is small); on a
   * repaired file every object, with type 2 rows for those in object streams (§7.5.8.3, Table 18).
   */
  private writeXrefStream(sink: ByteSink, base: number, rows: Map<number, Row>, trailer: PdfDict): void {
    const xrefNum = this.nextNumber++;
    const xrefOffset = base + sink.length;
    const all = new Map(rows).set(xrefNum, { type: 'offset', offset: xrefOffset, gen: 0 });
    let widest = xrefOffset;
    for (const e of all.values()) if (e.type === 'compressed') widest = Math.max(widest, e.stream);
    const w1 = Math.max(1, Math.ceil(Math.log2(widest + 1) / 8));
    const nums = [...all.keys()].sort((a, b) => a - b);
    const row = 1 + w1 + 2;
    const data = Buffer.alloc(nums.length * row);
    nums.forEach((num, i) => {
      const e = all.get(num)!;
      // Type 0 (free: next free 0, generation 65535), 1 (offset, generation) or 2 (object stream, index).
      const [type, f1, f2] = e.type === 'offset' ? [1, e.offset, e.gen] : e.type === 'compressed' ? [2, e.stream, e.index] : [0, 0, 65535];
      data[i * row] = type;
      data.writeUIntBE(f1, i * row + 1, w1);
      data.writeUInt16BE(f2, i * row + 1 + w1);
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
