/**
 * The PDF object model (ISO 32000-1 §7.3): what the parser produces and the serializer writes.
 * Numbers are JS numbers, booleans and null are themselves, arrays are JS arrays; names, strings, references,
 * dictionaries and streams have classes so that they can be told apart at run time.
 */

export class PdfName {
  private static readonly interned = new Map<string, PdfName>();
  private constructor(readonly name: string) {}
  /** Names are interned: `PdfName.of('Type') === PdfName.of('Type')`. */
  static of(name: string): PdfName {
    let n = PdfName.interned.get(name);
    if (!n) {
      n = new PdfName(name);
      PdfName.interned.set(name, n);
    }
    return n;
  }
  toString(): string {
    return `/${this.name}`;
  }
}

export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
  toString(): string {
    return `${this.num} ${this.gen} R`;
  }
}

/** A string object, kept as the bytes it decodes to; `hex` remembers how it was written. */
export class PdfString {
  constructor(
    readonly bytes: Uint8Array,
    readonly hex = false,
  ) {}
  /** A text string (§7.9.2.2): PDFDocEncoding when it is plain ASCII, else UTF-16BE with a byte order mark. */
  static text(text: string): PdfString {
    if (/^[\x20-\x7e]*$/.test(text)) return new PdfString(Buffer.from(text, 'latin1'));
    const utf16 = Buffer.from(text, 'utf16le').swap16();
    return new PdfString(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16]));
  }
  /** Decode as a text string: UTF-16BE with BOM, UTF-8 with BOM (PDF 2.0), else PDFDocEncoding (≈ latin1). */
  asText(): string {
    const b = this.bytes;
    // An odd number of UTF-16 bytes (a truncated or damaged string, found by test/fuzz): the last half unit is dropped.
    if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return Buffer.from(b.subarray(2, b.length - (b.length % 2))).swap16().toString('utf16le');
    if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return Buffer.from(b.subarray(3)).toString('utf8');
    return Buffer.from(b).toString('latin1');
  }
}

export class PdfDict {
  readonly entries: Map<string, PdfObject>;
  constructor(entries?: Iterable<[string, PdfObject]>) {
    this.entries = new Map(entries);
  }
  get(key: string): PdfObject | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: PdfObject): this {
    this.entries.set(key, value);
    return this;
  }
  has(key: string): boolean {
    return this.entries.has(key);
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  /** A shallow copy: the new version of an updated object starts from the old one. */
  clone(): PdfDict {
    return new PdfDict(this.entries);
  }
  /** `/Type` (or any name-valued key) as a plain string. */
  name(key: string): string | undefined {
    const v = this.entries.get(key);
    return v instanceof PdfName ? v.name : undefined;
  }
}

/**
 * A stream: its dictionary and the encoded bytes. Streams read from a file are lazy: `load()` fetches the bytes
 * only when somebody needs them (object and xref streams), so a 50 MB image is never read to seal a page.
 */
export class PdfStream {
  private data: Uint8Array | undefined;
  constructor(
    readonly dict: PdfDict,
    dataOrLoader: Uint8Array | (() => Uint8Array),
  ) {
    if (dataOrLoader instanceof Uint8Array) this.data = dataOrLoader;
    else this.loader = dataOrLoader;
  }
  private loader: (() => Uint8Array) | undefined;
  /** The encoded (still filtered) bytes. */
  encoded(): Uint8Array {
    if (!this.data) {
      this.data = this.loader!();
      this.loader = undefined;
    }
    return this.data;
  }
}

/** Bytes written verbatim by the serializer; `id` lets the writer report where they landed (signature placeholders). */
export class PdfRaw {
  constructor(
    readonly bytes: Uint8Array,
    readonly id?: string,
  ) {}
}

export type PdfObject =
  | null
  | boolean
  | number
  | PdfName
  | PdfString
  | PdfRef
  | PdfObject[]
  | PdfDict
  | PdfStream
  | PdfRaw;

export const name = PdfName.of;

export function dict(entries: Record<string, PdfObject | undefined>): PdfDict {
  const d = new PdfDict();
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) d.set(k, v);
  return d;
}
