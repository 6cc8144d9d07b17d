/**
 * A PDF opened for reading: the xref chain, objects fetched on demand (and cached), the page tree and the bits of
 * the catalog a seal needs. Nothing here writes; see incremental.ts.
 */
import { PdfDict, PdfRef, PdfStream, PdfString, type PdfObject } from './objects.ts';
import { ByteReader, Parser } from './parser.ts';
import { findObjectNear, readXrefChain, type Repair, type XrefChain, type XrefKind } from './xref.ts';
import { recoverXref } from './recovery.ts';
import { decodeStream } from './filters.ts';
import { malformed } from './errors.ts';
import { AppendedSource, bufferSource, type ByteSource } from './source.ts';
import { StandardSecurityHandler, type EncryptionInfo, type Password } from './encryption/standard-handler.ts';
import { ObjectCipher } from './encryption/object-cipher.ts';
import { SealdError } from '../errors.ts';
import { fieldNames, findPage, pageCount, type PageInfo, type Rect } from './page-tree.ts';

export interface OpenOptions {
  /**
   * The user or owner password of an encrypted document (§7.6.3; a string is PDFDocEncoded for R2–R4 and SASLprepped
   * UTF-8 for R5–R6, bytes are taken as they are). Absent: the empty user password is tried, which opens the many
   * documents that are encrypted only to carry permissions.
   */
  password?: Password;
}

export type { PageInfo, Rect };
export type { Repair };

/** ISO 32000-1 Annex C, Table C.1: the largest object number. */
const MAX_OBJECT_NUMBER = 8_388_607;

/** The document's own syntax failed (a SealdError from the parser), as opposed to an I/O or programming error. */
function isSyntaxError(error: unknown): boolean {
  return error instanceof SealdError && (error.code === 'PDF_MALFORMED' || error.code === 'PDF_TRUNCATED');
}



/** The xref chain read from each source (sources are immutable bytes), while the source lives. */
const xrefChains = new WeakMap<ByteSource, XrefChain>();

/**
 * The security handler each source was opened with: the sealed output (the original plus its new revision, read as an
 * AppendedSource) opens with the key the original was opened with, without the caller passing the password again.
 */
const securityHandlers = new WeakMap<ByteSource, { encryptNum: number | undefined; handler: StandardSecurityHandler }>();

/** Sources that are a view of another (an earlier revision's prefix): they open with the key the whole file opened with. */
const securityParents = new WeakMap<ByteSource, ByteSource>();

/**
 * Declare `view` a part of `whole` (the same file's bytes): an encrypted document opened on `view` reuses the key
 * `whole` was opened with. The /Encrypt dictionary and the first /ID never change between revisions (§7.5.6, §14.4),
 * so neither does the file key; the caller's password is given once.
 */
export function shareSecurity(view: ByteSource, whole: ByteSource): void {
  securityParents.set(view, whole);
}

/** Passwords given with a document (a request's document_password), kept only as long as its source lives. */
const sourcePasswords = new WeakMap<ByteSource, Password>();

/**
 * The password an encrypted document opens with wherever it is opened (seal, locate, verify of each revision,
 * rollback): the caller gives it once, with the bytes. An empty password is the default anyway and is not kept.
 */
export function setDocumentPassword(source: ByteSource, password: Password | undefined): void {
  if (password !== undefined && password.length > 0) sourcePasswords.set(source, password);
}

export class PdfDocument {
  readonly reader: ByteReader;
  #xref: XrefChain;
  private readonly cache = new Map<number, PdfObject>();
  /** Objects being read right now (cycle guard for getObject). */
  private readonly loading = new Set<number>();
  private readonly objectStreams = new Map<number, { offsets: number[]; data: Uint8Array; first: number }>();
  private security: StandardSecurityHandler | undefined;
  private cipher: ObjectCipher | undefined;
  /** The object number of an indirect /Encrypt dictionary, never decrypted (§7.6.1). */
  private encryptNum: number | undefined;

  /** The first KiB: the header (§7.5.2) and, in a linearized file, the linearization dictionary (§F.2). */
  private readonly head: string;

  private constructor(
    readonly source: ByteSource,
    private readonly recoverable: boolean,
  ) {
    this.reader = new ByteReader(source);
    const head = Buffer.from(source.read(0, 1024)).toString('latin1');
    this.head = head;
    if (!head.includes('%PDF-')) {
      throw new SealdError('invalid-input', 'NOT_A_PDF', 'the document is not a PDF (no %PDF- header)');
    }
    // Bytes before the header (a mail or HTTP header saved with the file, a MacBinary or BOM prefix): the file's
    // offsets count from `%PDF-`, as pdf.js and qpdf read them, so the chain is read shifted by the prefix.
    const headerOffset = head.indexOf('%PDF-');
    // Bytes appended to a source whose chain was read already (the output check of a seal reads the sealed
    // document as the original plus its new revision): only the new sections are parsed.
    try {
      this.#xref = readXrefChain(this.reader, source instanceof AppendedSource ? xrefChains.get(source.head) : undefined, headerOffset);
    } catch (error) {
      if (!isSyntaxError(error) || !recoverable) throw error;
      // No %%EOF at all: the upload may have been cut; recovery accepts it only if no object was lost.
      const truncated = !/%%EOF/.test(Buffer.from(source.read(Math.max(0, source.size - 1024), 1024)).toString('latin1'));
      this.#xref = recoverXref(this.reader, { reason: (error as Error).message, headerOffset, truncated });
    }
    xrefChains.set(source, this.#xref);
  }

  /** The cross-reference table: read from the chain, or rebuilt by recovery (then `repaired` says why). */
  get xref(): XrefChain {
    return this.#xref;
  }

  /**
   * Set when the file could not be read as written and its table was rebuilt by scanning (recovery.ts), for the
   * caller to report. It can be set by the first object fetch that finds an entry pointing at the wrong bytes, not
   * only by `open`.
   */
  /**
   * Some entry missed its object by a few bytes and the fast path found it nearby: fine for reading, but the
   * table is wrong, so a new revision must not rely on it (incremental.ts repairs first, then lists every object).
   */
  offsetsMissed = false;

  /**
   * Before a new revision is written on a file whose table the fast path only read with a tolerance (see
   * `offsetsMissed` and XrefChain.quirks): rebuild it, so that the update lists every object. A table that read
   * with correct syntax but wrong offsets may still be chained to with /Prev; one whose syntax was off may not.
   */
  repairBeforeUpdate(): void {
    if (this.repaired) return;
    const quirk = this.#xref.quirks[0];
    if (quirk !== undefined) this.repair(`the PDF is damaged: ${quirk}`, false);
    else if (this.offsetsMissed) this.repair('the PDF is damaged: cross-reference entries miss their objects by a few bytes');
  }

  /** What was wrong and how the table was rebuilt, when it was (see `repair`). */
  get repaired(): { reason: string; how: string } | undefined {
    const r = this.#xref.repaired;
    return r === undefined ? undefined : { reason: r.reason, how: r.how };
  }

  /**
   * Leave the fast path for good (also public for the writer, see `offsetsMissed`): rebuild the table by scanning. The whole chain read (this is about its entries),
   * so a new revision may still chain to it. Objects already read came from verified headers and stay cached.
   */
  repair(reason: string, chainToOriginal = true): void {
    if (this.#xref.repaired || !this.recoverable) throw malformed(reason.replace(/^the PDF is damaged: /, ''));
    const fast = this.#xref;
    this.#xref = recoverXref(this.reader, {
      reason,
      headerOffset: fast.headerOffset,
      prevSection: chainToOriginal ? fast.startxref : undefined,
      kind: fast.sections[0]?.kind,
      truncated: false,
    });
    xrefChains.set(this.source, this.#xref);
  }

  /**
   * `recover: false` keeps the strict reading: a file the fast path cannot read is refused (PDF_MALFORMED or
   * PDF_TRUNCATED) instead of repaired. For the verifier, whose answer to damage is a report, not a repair.
   */
  static open(source: ByteSource, options: OpenOptions & { recover?: boolean } = {}): PdfDocument {
    const doc = new PdfDocument(source, options.recover ?? true);
    const problem = doc.repaired ? undefined : doc.catalogProblem();
    if (problem !== undefined) doc.repair(problem);
    if (doc.trailer.has('Encrypt')) doc.authenticate(options.password ?? sourcePasswords.get(source));
    if (!(doc.catalog instanceof PdfDict)) throw malformed('the trailer has no /Root catalog');
    return doc;
  }

  /**
   * §7.6.1: an /Encrypt entry in the trailer means strings and streams are encrypted. The standard security handler
   * authenticates the password and yields the key; objects are decrypted from then on as they are loaded.
   */
  private authenticate(password: OpenOptions['password']): void {
    const entry = this.trailer.get('Encrypt');
    this.encryptNum = entry instanceof PdfRef ? entry.num : undefined;
    const parent = this.source instanceof AppendedSource ? this.source.head : securityParents.get(this.source);
    const inherited = parent === undefined ? undefined : securityHandlers.get(parent);
    if (password === undefined && inherited !== undefined && inherited.encryptNum === this.encryptNum) {
      this.security = inherited.handler;
    } else {
      // Loaded before a handler exists, so the /Encrypt dictionary is read (and cached) as it is in the file.
      const encrypt = this.resolve(entry);
      if (!(encrypt instanceof PdfDict)) throw malformed('the trailer /Encrypt is not a dictionary');
      this.security = StandardSecurityHandler.open(encrypt, this.firstId ?? new Uint8Array(0), password, (o) => this.resolve(o));
    }
    this.cipher = new ObjectCipher(this.security);
    securityHandlers.set(this.source, { encryptNum: this.encryptNum, handler: this.security });
  }

  /** The first element of the trailer /ID (§14.4), which the file key of R2–R4 depends on. */
  private get firstId(): Uint8Array | undefined {
    const id = this.trailer.get('ID');
    return Array.isArray(id) && id[0] instanceof PdfString ? id[0].bytes : undefined;
  }

  /** How the document is encrypted and what its permissions are, or undefined when it is not encrypted. */
  get encryption(): EncryptionInfo | undefined {
    return this.security?.info;
  }

  /**
   * The value as it is to be written as object `ref` of a new revision: its strings and streams encrypted with the
   * document's key (§7.6.2; AES with a fresh random IV), signature /Contents placeholders left as they are.
   */
  encryptForWriting(value: PdfObject, ref: PdfRef): PdfObject {
    return this.cipher === undefined ? value : this.cipher.encrypt(value, ref.num, ref.gen);
  }

  /** The newest trailer (for an xref stream, its dictionary). */
  get trailer(): PdfDict {
    return this.xref.sections[0]!.trailer;
  }

  /** Why the trailer's /Root does not lead to a catalog (the fast path's last check before recovery), if it does not. */
  private catalogProblem(): string | undefined {
    try {
      return this.catalog instanceof PdfDict ? undefined : 'the PDF is damaged: the trailer /Root does not lead to a catalog';
    } catch (error) {
      if (isSyntaxError(error)) return (error as Error).message;
      throw error;
    }
  }

  /** What kind of section the newest revision used: the update seald writes matches it (§7.5.8.4 for hybrids). */
  get xrefKind(): XrefKind {
    return this.xref.sections[0]!.kind;
  }

  get isHybrid(): boolean {
    return this.xref.sections[0]!.kind === 'table' && typeof this.trailer.get('XRefStm') === 'number';
  }

  /** One more than the highest object number in use (the trailer /Size, checked against the entries). */
  get size(): number {
    let size = 0;
    for (const s of this.xref.sections) {
      const v = s.trailer.get('Size');
      // A /Size past ISO 32000-1 Annex C's 8,388,607 objects is not one (found by test/fuzz: /Size 2^53 + 1, where
      // counting on from it stands still and two new objects would share a number): the entries decide.
      if (typeof v === 'number' && Number.isInteger(v) && v <= MAX_OBJECT_NUMBER + 1) size = Math.max(size, v);
    }
    for (const num of this.xref.entries.keys()) size = Math.max(size, num + 1);
    return size;
  }

  get catalogRef(): PdfRef {
    const root = this.trailer.get('Root');
    if (!(root instanceof PdfRef)) throw malformed('the trailer /Root is not an indirect reference');
    return root;
  }

  get catalog(): PdfDict {
    const c = this.resolve(this.catalogRef);
    if (!(c instanceof PdfDict)) throw malformed('the /Root catalog is not a dictionary');
    return c;
  }

  /** Number of revisions: sections of the /Prev chain, the two of a linearized file's first revision counted once. */
  get revisionCount(): number {
    const n = this.xref.sections.length;
    return this.linearizedFirstRevision() ? n - 1 : n;
  }

  /** The oldest two sections are a linearized file's first-page and main ones (§F.3): the newer lies before the older
   *  (an update's never does, so a /Linearized an update brings into a small file's first KiB is not taken for one). */
  linearizedFirstRevision(): boolean {
    const s = this.xref.sections;
    const n = s.length;
    return this.isLinearized() && n >= 2 && s[n - 2]!.offset < s[n - 1]!.offset;
  }

  isLinearized(): boolean {
    return /\/Linearized\s/.test(this.head);
  }

  resolve(obj: PdfObject | undefined): PdfObject | undefined {
    return obj instanceof PdfRef ? this.getObject(obj) : obj;
  }

  resolveDict(obj: PdfObject | undefined): PdfDict | undefined {
    const v = this.resolve(obj);
    if (v instanceof PdfDict) return v;
    if (v instanceof PdfStream) return v.dict;
    return undefined;
  }

  getObject(ref: PdfRef): PdfObject {
    const cached = this.cache.get(ref.num);
    if (cached !== undefined) return cached;
    // An object reached again while it is being read (a stream whose /Length is itself: pdf.js's
    // poppler-91414-0-53.pdf) reads as null, so the stream is refused as malformed instead of overflowing the stack.
    if (this.loading.has(ref.num)) return null;
    this.loading.add(ref.num);
    try {
      const value = this.loadObject(ref);
      this.cache.set(ref.num, value);
      return value;
    } finally {
      this.loading.delete(ref.num);
    }
  }

  private loadObject(ref: PdfRef): PdfObject {
    const entry = this.xref.entries.get(ref.num);
    // A chain read with a tolerance (a /Prev loop cut short) may have lost the sections that define this object.
    if (!entry && this.#xref.quirks.length > 0 && !this.repaired) {
      this.repair(`the PDF is damaged: object ${ref.num} is missing, and ${this.#xref.quirks[0]}`);
      return this.loadObject(ref);
    }
    // §7.3.10: a reference to an undefined object is the null object.
    if (!entry || entry.type === 'free') return null;
    if (entry.type === 'offset') {
      if (entry.gen !== ref.gen) return null;
      const parse = (at: number) => {
        const value = new Parser(this.reader, at).parseIndirectObject({ num: ref.num, gen: ref.gen }, (d) => this.streamLength(d)).value;
        // Objects in an object stream are not decrypted one by one (§7.6.1): the object stream was, as a whole.
        return this.cipher === undefined || ref.num === this.encryptNum ? value : this.cipher.decrypt(value, ref.num, ref.gen);
      };
      try {
        return parse(entry.offset);
      } catch (error) {
        if (!isSyntaxError(error)) throw error;
        const near = findObjectNear(this.reader, entry.offset, ref.num, ref.gen);
        if (near !== undefined) {
          this.offsetsMissed = true;
          return parse(near);
        }
        // pdf.js's XRefEntryException: an entry that misses its object means the table is wrong, not the object.
        this.repair((error as Error).message);
        return this.loadObject(ref);
      }
    }
    return this.loadCompressed(entry.stream, entry.index, ref.num);
  }

  private streamLength(dict: PdfDict): number {
    const len = dict.get('Length');
    if (len instanceof PdfRef) {
      const v = this.getObject(len);
      if (typeof v === 'number') return v;
    }
    if (typeof len === 'number') return len;
    throw malformed('a stream has no usable /Length');
  }

  /** An object inside an object stream, §7.5.7. */
  private loadCompressed(streamNum: number, index: number, num: number): PdfObject {
    let os = this.objectStreams.get(streamNum);
    if (!os) {
      const stream = this.getObject(new PdfRef(streamNum, 0));
      if (!(stream instanceof PdfStream) || stream.dict.name('Type') !== 'ObjStm') {
        throw malformed(`object ${num} is said to be in object stream ${streamNum}, which is not one`);
      }
      const data = decodeStream(stream, (o) => this.resolve(o));
      const n = this.resolve(stream.dict.get('N'));
      const first = this.resolve(stream.dict.get('First'));
      if (typeof n !== 'number' || typeof first !== 'number') throw malformed(`object stream ${streamNum} lacks /N or /First`);
      const header = new Parser(new ByteReader(bufferSource(data)), 0);
      const offsets: number[] = [];
      for (let i = 0; i < n; i++) {
        header.readToken(); // object number
        offsets.push(Number(header.readToken()));
      }
      os = { offsets, data, first };
      this.objectStreams.set(streamNum, os);
    }
    const off = os.offsets[index];
    if (off === undefined) throw malformed(`object stream ${streamNum} has no entry ${index}`);
    const p = new Parser(new ByteReader(bufferSource(os.data)), os.first + off);
    return p.parseObject();
  }

  /** A stream's decoded bytes (FlateDecode only, as for structure streams). */
  decode(stream: PdfStream): Uint8Array {
    return decodeStream(stream, (o) => this.resolve(o));
  }

  get pageCount(): number {
    return pageCount(this);
  }

  /** Page `number` (1-based), with inherited attributes resolved (page-tree.ts). */
  page(number: number): PageInfo {
    return findPage(this, number);
  }

  /** The fully qualified names of the AcroForm's fields (§12.7.3.2), to keep a new field's name unique. */
  fieldNames(): Set<string> {
    return fieldNames(this);
  }

  /**
   * The DocMDP permission of a certified document (§12.8.2.2), or undefined when it is not certified.
   * 1 = no changes at all; 2 = form filling and signing; 3 = also annotations.
   */
  docMdpPermission(): number | undefined {
    const perms = this.resolveDict(this.catalog.get('Perms'));
    const sig = this.resolveDict(perms?.get('DocMDP'));
    if (!sig) return undefined;
    const refs = this.resolve(sig.get('Reference'));
    if (!Array.isArray(refs)) return 2;
    for (const r of refs) {
      const ref = this.resolveDict(r);
      if (ref?.name('TransformMethod') !== 'DocMDP') continue;
      const params = this.resolveDict(ref.get('TransformParams'));
      const p = this.resolve(params?.get('P'));
      return typeof p === 'number' ? p : 2;
    }
    return 2;
  }
}
