/**
 * Lexer and object parser (ISO 32000-1 §7.2–§7.3) over a ByteSource, read through a small block cache so that only
 * the windows the parser touches are read from a spooled file.
 */
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfObject } from './objects.ts';
import type { ByteSource } from './source.ts';
import { malformed } from './errors.ts';

const BLOCK = 64 * 1024;
const MAX_CACHED_BLOCKS = 32;

/** Random-access byte reads over a ByteSource, cached in 64 KiB blocks. */
export class ByteReader {
  private readonly blocks = new Map<number, Uint8Array>();
  /** The block read last: the lexer reads byte after byte, nearly always from it (no map lookup per byte). */
  private lastStart = -1;
  private lastBlock: Uint8Array = new Uint8Array(0);
  readonly size: number;
  constructor(readonly source: ByteSource) {
    this.size = source.size;
  }
  /** The byte at `pos`, or -1 past the end. */
  byte(pos: number): number {
    const at = pos - this.lastStart;
    if (at >= 0 && at < this.lastBlock.length) return this.lastBlock[at]!;
    if (pos < 0 || pos >= this.size) return -1;
    const index = Math.floor(pos / BLOCK);
    let block = this.blocks.get(index);
    if (!block) {
      block = this.source.read(index * BLOCK, BLOCK);
      if (this.blocks.size >= MAX_CACHED_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!);
      this.blocks.set(index, block);
    }
    this.lastStart = index * BLOCK;
    this.lastBlock = block;
    return block[pos - index * BLOCK]!;
  }
  slice(pos: number, length: number): Uint8Array {
    return this.source.read(pos, length);
  }
}

// Character classes, §7.2.2.
export function isWhite(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
}
export function isDelimiter(c: number): boolean {
  return (
    c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d ||
    c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25
  );
}
function isRegular(c: number): boolean {
  return c >= 0 && !isWhite(c) && !isDelimiter(c);
}
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Marker for the `stream` keyword after a dictionary; the caller decides how long the data is. */
export interface StreamStart {
  dict: PdfDict;
  /** Offset of the first data byte (after `stream` and its EOL, §7.3.8.1). */
  dataOffset: number;
}

const MAX_DEPTH = 256;

/** Parses objects from a ByteReader. Positions are absolute offsets in the source. */
export class Parser {
  pos: number;
  constructor(
    readonly reader: ByteReader,
    pos = 0,
  ) {
    this.pos = pos;
  }

  skipWhitespace(): void {
    const r = this.reader;
    for (;;) {
      const c = r.byte(this.pos);
      if (c === -1) return;
      if (isWhite(c)) this.pos++;
      else if (c === 0x25) {
        // comment to end of line
        while (this.pos < r.size && r.byte(this.pos) !== 0x0a && r.byte(this.pos) !== 0x0d) this.pos++;
      } else return;
    }
  }

  /** A bare keyword or number token (regular characters), without consuming trailing whitespace. */
  readToken(): string {
    this.skipWhitespace();
    const start = this.pos;
    let s = '';
    while (isRegular(this.reader.byte(this.pos))) s += String.fromCharCode(this.reader.byte(this.pos++));
    if (this.pos === start) throw malformed(`expected a token at offset ${start}`);
    return s;
  }

  /** Try to read the keyword `kw` at the current position (after whitespace); restore the position if absent. */
  tryKeyword(kw: string): boolean {
    const save = this.pos;
    this.skipWhitespace();
    for (let i = 0; i < kw.length; i++) {
      if (this.reader.byte(this.pos + i) !== kw.charCodeAt(i)) {
        this.pos = save;
        return false;
      }
    }
    if (isRegular(this.reader.byte(this.pos + kw.length))) {
      this.pos = save;
      return false;
    }
    this.pos += kw.length;
    return true;
  }

  /** Parse one object. `allowStream`: a dictionary followed by `stream` returns a StreamStart. */
  parseObject(depth = 0): PdfObject {
    if (depth > MAX_DEPTH) throw malformed(`objects nested deeper than ${MAX_DEPTH} at offset ${this.pos}`);
    this.skipWhitespace();
    const r = this.reader;
    const c = r.byte(this.pos);
    if (c === -1) throw malformed('unexpected end of file inside an object');
    if (c === 0x2f) return this.parseName();
    if (c === 0x28) return this.parseLiteralString();
    if (c === 0x3c) {
      if (r.byte(this.pos + 1) === 0x3c) return this.parseDict(depth);
      return this.parseHexString();
    }
    if (c === 0x5b) {
      this.pos++;
      const arr: PdfObject[] = [];
      for (;;) {
        this.skipWhitespace();
        const d = r.byte(this.pos);
        if (d === 0x5d) {
          this.pos++;
          return arr;
        }
        if (d === -1) throw malformed('unterminated array');
        arr.push(this.parseObject(depth + 1));
      }
    }
    const start = this.pos;
    const tok = this.readToken();
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    if (tok === 'null') return null;
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(tok)) {
      // `N G R` is a reference: look ahead for an integer and R.
      if (/^\d+$/.test(tok)) {
        const save = this.pos;
        this.skipWhitespace();
        const genStart = this.pos;
        let gen = '';
        while (r.byte(this.pos) >= 0x30 && r.byte(this.pos) <= 0x39) gen += String.fromCharCode(r.byte(this.pos++));
        if (gen.length > 0 && this.pos > genStart && !isRegular(r.byte(this.pos))) {
          this.skipWhitespace();
          if (r.byte(this.pos) === 0x52 && !isRegular(r.byte(this.pos + 1))) {
            this.pos++;
            return new PdfRef(Number(tok), Number(gen));
          }
        }
        this.pos = save;
      }
      return Number(tok);
    }
    throw malformed(`unexpected token '${tok.slice(0, 20)}' at offset ${start}`);
  }

  private parseName(): PdfName {
    const r = this.reader;
    this.pos++; // '/'
    const bytes: number[] = [];
    for (;;) {
      const c = r.byte(this.pos);
      if (!isRegular(c)) break;
      if (c === 0x23) {
        // #xx escape, §7.3.5
        const h = hexValue(r.byte(this.pos + 1));
        const l = hexValue(r.byte(this.pos + 2));
        if (h >= 0 && l >= 0) {
          bytes.push(h * 16 + l);
          this.pos += 3;
          continue;
        }
      }
      bytes.push(c);
      this.pos++;
    }
    return PdfName.of(Buffer.from(bytes).toString('latin1'));
  }

  private parseLiteralString(): PdfString {
    const r = this.reader;
    this.pos++; // '('
    const out: number[] = [];
    let depth = 1;
    for (;;) {
      const c = r.byte(this.pos++);
      if (c === -1) throw malformed('unterminated string');
      if (c === 0x5c) {
        const e = r.byte(this.pos++);
        switch (e) {
          case 0x6e: out.push(0x0a); break; // \n
          case 0x72: out.push(0x0d); break; // \r
          case 0x74: out.push(0x09); break; // \t
          case 0x62: out.push(0x08); break; // \b
          case 0x66: out.push(0x0c); break; // \f
          case 0x0d: if (r.byte(this.pos) === 0x0a) this.pos++; break; // line continuation
          case 0x0a: break;
          default:
            if (e >= 0x30 && e <= 0x37) {
              let v = e - 0x30;
              for (let i = 0; i < 2; i++) {
                const d = r.byte(this.pos);
                if (d < 0x30 || d > 0x37) break;
                v = v * 8 + (d - 0x30);
                this.pos++;
              }
              out.push(v & 0xff);
            } else if (e !== -1) out.push(e);
        }
        continue;
      }
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) break;
      out.push(c);
    }
    return new PdfString(Uint8Array.from(out));
  }

  private parseHexString(): PdfString {
    const r = this.reader;
    this.pos++; // '<'
    const out: number[] = [];
    let high = -1;
    for (;;) {
      const c = r.byte(this.pos++);
      if (c === 0x3e) break;
      if (c === -1) throw malformed('unterminated hex string');
      if (isWhite(c)) continue;
      const v = hexValue(c);
      if (v < 0) throw malformed(`bad character in hex string at offset ${this.pos - 1}`);
      if (high < 0) high = v;
      else {
        out.push(high * 16 + v);
        high = -1;
      }
    }
    if (high >= 0) out.push(high * 16); // §7.3.4.3: a missing final digit is 0
    return new PdfString(Uint8Array.from(out), true);
  }

  private parseDict(depth: number): PdfDict {
    const r = this.reader;
    this.pos += 2;
    const d = new PdfDict();
    for (;;) {
      this.skipWhitespace();
      const c = r.byte(this.pos);
      if (c === 0x3e && r.byte(this.pos + 1) === 0x3e) {
        this.pos += 2;
        return d;
      }
      if (c !== 0x2f) throw malformed(`expected a name key in dictionary at offset ${this.pos}`);
      const key = this.parseName().name;
      d.set(key, this.parseObject(depth + 1));
    }
  }

  /**
   * Parse `N G obj … endobj` at the current position. A stream's data is not read: `streamLength` resolves /Length
   * (which may be an indirect reference) and the stream loads lazily.
   */
  parseIndirectObject(
    expect: { num: number; gen: number } | undefined,
    streamLength: (dict: PdfDict) => number,
  ): { num: number; gen: number; value: PdfObject } {
    const at = this.pos;
    const num = Number(this.readToken());
    const gen = Number(this.readToken());
    if (!Number.isInteger(num) || !Number.isInteger(gen) || !this.tryKeyword('obj')) {
      throw malformed(`no object header at offset ${at}`);
    }
    if (expect && (expect.num !== num || expect.gen !== gen)) {
      throw malformed(`xref points object ${expect.num} ${expect.gen} at offset ${at}, but ${num} ${gen} is there`);
    }
    let value = this.parseObject();
    if (value instanceof PdfDict && this.tryKeyword('stream')) {
      // §7.3.8.1: `stream` is followed by CRLF or LF (a lone CR is tolerated as well).
      if (this.reader.byte(this.pos) === 0x0d) this.pos++;
      if (this.reader.byte(this.pos) === 0x0a) this.pos++;
      const dataOffset = this.pos;
      const length = streamLength(value);
      if (!Number.isInteger(length) || length < 0 || dataOffset + length > this.reader.size) {
        throw malformed(`stream of object ${num} ${gen} has a bad /Length`);
      }
      const reader = this.reader;
      value = new PdfStream(value, () => reader.slice(dataOffset, length));
      this.pos = dataOffset + length;
    }
    return { num, gen, value };
  }
}
