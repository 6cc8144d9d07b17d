/**
 * Tokens of a content stream (ISO 32000-1 §7.8.2) and of a CMap file (they share PDF's object syntax): operands as
 * PDF objects (numbers, names, strings, arrays, dictionaries) and bare keywords as operators. Inline images
 * (`BI … ID <binary> EI`, §8.9.7) are skipped whole, so image bytes are never read as operators.
 *
 * Every token counts against a budget shared by everything read for one page, so an operator flood or a million-element
 * array ends in a LimitExceeded instead of hanging. Broken syntax (an unterminated string, a stray `)`) raises a
 * ContentSyntaxError at the place it happens: the caller keeps what was read before it.
 */
import { LimitExceeded } from '../limits.ts';
import { PdfDict, PdfName, PdfString, type PdfObject } from '../objects.ts';
import { isDelimiter, isWhite } from '../parser.ts';

export class Operator {
  private static readonly interned = new Map<string, Operator>();
  private constructor(readonly op: string) {}
  static of(op: string): Operator {
    let o = Operator.interned.get(op);
    if (!o) {
      o = new Operator(op);
      // Real operators are few; a flood of distinct garbage words is not kept.
      if (Operator.interned.size < 512) Operator.interned.set(op, o);
    }
    return o;
  }
}

export type ContentToken = PdfObject | Operator;

/** The content is broken at `offset`; what came before it is good. `fatal`: nothing after it can be read either. */
export class ContentSyntaxError extends Error {
  constructor(
    readonly offset: number,
    detail: string,
    readonly fatal = false,
  ) {
    super(`${detail} at offset ${offset}`);
  }
}

/** A budget ran out (tokens, bytes, nesting); the message says which. */

/** Shared by every lexer working for one page (its content streams, its forms). */
export interface TokenBudget {
  remaining: number;
}

/** What one page may cost: tokens read and bytes scanned (a form drawn a thousand times counts a thousand times). */
export interface PageBudget extends TokenBudget {
  bytes: number;
}

const MAX_NESTING = 64;
const MAX_STRING_BYTES = 1024 * 1024;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The characters of a bare word; operators are one to three letters, made without a temporary array. */
function wordAt(d: Uint8Array, start: number, end: number): string {
  switch (end - start) {
    case 1: return String.fromCharCode(d[start]!);
    case 2: return String.fromCharCode(d[start]!, d[start + 1]!);
    case 3: return String.fromCharCode(d[start]!, d[start + 1]!, d[start + 2]!);
    default: return Buffer.from(d.buffer, d.byteOffset + start, end - start).toString('latin1');
  }
}

/**
 * A number token (§7.3.3): optional signs, digits, at most one period. Written out by hand: this is the hot loop of
 * text location (most tokens of a page are numbers). Undefined when the word is not a number.
 */
function parseNumber(d: Uint8Array, start: number, end: number): number | undefined {
  let i = start;
  let negative = false;
  if (d[i] === 0x2d || d[i] === 0x2b) {
    negative = d[i] === 0x2d;
    while (i < end && (d[i] === 0x2d || d[i] === 0x2b)) i++; // `--5` and `+-5`: the first sign counts, as viewers do
  }
  let value = 0;
  let digits = 0;
  let scale = 0;
  for (; i < end; i++) {
    const c = d[i]!;
    if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      digits++;
      if (scale) scale *= 10;
    } else if (c === 0x2e && !scale) scale = 1;
    else return undefined;
  }
  if (digits === 0) return undefined;
  if (scale > 1) value /= scale;
  return negative ? -value : value;
}

export class ContentLexer {
  pos = 0;
  constructor(
    private readonly data: Uint8Array,
    private readonly budget: TokenBudget,
  ) {}

  /** The next operand or operator, or undefined at the end of the data. */
  next(): ContentToken | undefined {
    this.skipWhitespace();
    if (this.pos >= this.data.length) return undefined;
    const t = this.readObject(0);
    if (t instanceof Operator && t.op === 'BI') {
      this.skipInlineImage();
      return this.next();
    }
    return t;
  }

  private spend(): void {
    if (--this.budget.remaining < 0) throw new LimitExceeded('too many tokens');
  }

  private skipWhitespace(): void {
    const d = this.data;
    while (this.pos < d.length) {
      const c = d[this.pos]!;
      if (isWhite(c)) this.pos++;
      else if (c === 0x25) {
        while (this.pos < d.length && d[this.pos] !== 0x0a && d[this.pos] !== 0x0d) this.pos++;
      } else return;
    }
  }

  private readObject(depth: number): ContentToken {
    this.spend();
    if (depth > MAX_NESTING) throw new ContentSyntaxError(this.pos, `arrays or dictionaries nested deeper than ${MAX_NESTING}`);
    const d = this.data;
    const c = d[this.pos]!;
    switch (c) {
      case 0x2f: return this.readName();
      case 0x28: return this.readLiteral();
      case 0x3c:
        if (d[this.pos + 1] === 0x3c) return this.readDict(depth);
        return this.readHex();
      case 0x5b: {
        this.pos++;
        const arr: PdfObject[] = [];
        for (;;) {
          this.skipWhitespace();
          if (this.pos >= d.length) throw new ContentSyntaxError(this.pos, 'unterminated array', true);
          if (d[this.pos] === 0x5d) {
            this.pos++;
            return arr;
          }
          const item = this.readObject(depth + 1);
          if (item instanceof Operator) throw new ContentSyntaxError(this.pos, `operator ${item.op.slice(0, 16)} inside an array`);
          arr.push(item);
        }
      }
      case 0x5d: case 0x29: case 0x3e: case 0x7b: case 0x7d:
        // §7.8.2 allows none of these here; viewers skip them.
        this.pos++;
        throw new ContentSyntaxError(this.pos - 1, `unexpected '${String.fromCharCode(c)}'`);
    }
    const start = this.pos;
    while (this.pos < d.length && !isWhite(d[this.pos]!) && !isDelimiter(d[this.pos]!)) this.pos++;
    const n = parseNumber(d, start, this.pos);
    if (n !== undefined) return n;
    const word = wordAt(d, start, this.pos);
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    return Operator.of(word);
  }

  private readName(): PdfName {
    const d = this.data;
    this.pos++;
    const bytes: number[] = [];
    while (this.pos < d.length && !isWhite(d[this.pos]!) && !isDelimiter(d[this.pos]!)) {
      const c = d[this.pos]!;
      if (c === 0x23 && hexValue(d[this.pos + 1] ?? -1) >= 0 && hexValue(d[this.pos + 2] ?? -1) >= 0) {
        bytes.push(hexValue(d[this.pos + 1]!) * 16 + hexValue(d[this.pos + 2]!));
        this.pos += 3;
      } else {
        bytes.push(c);
        this.pos++;
      }
    }
    return PdfName.of(Buffer.from(bytes).toString('latin1'));
  }

  private readLiteral(): PdfString {
    const d = this.data;
    const start = this.pos++;
    const out: number[] = [];
    let depth = 1;
    while (this.pos < d.length) {
      if (out.length > MAX_STRING_BYTES) throw new LimitExceeded('a string longer than 1 MiB');
      const c = d[this.pos++]!;
      if (c === 0x5c) {
        const e = d[this.pos++];
        switch (e) {
          case undefined: break;
          case 0x6e: out.push(0x0a); break;
          case 0x72: out.push(0x0d); break;
          case 0x74: out.push(0x09); break;
          case 0x62: out.push(0x08); break;
          case 0x66: out.push(0x0c); break;
          case 0x0d: if (d[this.pos] === 0x0a) this.pos++; break;
          case 0x0a: break;
          default:
            if (e >= 0x30 && e <= 0x37) {
              let v = e - 0x30;
              for (let i = 0; i < 2 && (d[this.pos] ?? 0) >= 0x30 && d[this.pos]! <= 0x37; i++) v = v * 8 + d[this.pos++]! - 0x30;
              out.push(v & 0xff);
            } else out.push(e);
        }
        continue;
      }
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) return new PdfString(Uint8Array.from(out));
      out.push(c);
    }
    throw new ContentSyntaxError(start, 'unterminated string', true);
  }

  private readHex(): PdfString {
    const d = this.data;
    const start = this.pos++;
    const out: number[] = [];
    let high = -1;
    while (this.pos < d.length) {
      const c = d[this.pos++]!;
      if (c === 0x3e) {
        if (high >= 0) out.push(high * 16);
        return new PdfString(Uint8Array.from(out), true);
      }
      if (isWhite(c)) continue;
      const v = hexValue(c);
      if (v < 0) throw new ContentSyntaxError(this.pos - 1, 'bad character in a hex string');
      if (high < 0) high = v;
      else {
        out.push(high * 16 + v);
        high = -1;
      }
      if (out.length > MAX_STRING_BYTES) throw new LimitExceeded('a string longer than 1 MiB');
    }
    throw new ContentSyntaxError(start, 'unterminated hex string', true);
  }

  private readDict(depth: number): PdfDict {
    const d = this.data;
    this.pos += 2;
    const dict = new PdfDict();
    for (;;) {
      this.skipWhitespace();
      if (this.pos >= d.length) throw new ContentSyntaxError(this.pos, 'unterminated dictionary', true);
      if (d[this.pos] === 0x3e && d[this.pos + 1] === 0x3e) {
        this.pos += 2;
        return dict;
      }
      const key = this.readObject(depth + 1);
      if (!(key instanceof PdfName)) throw new ContentSyntaxError(this.pos, 'a dictionary key is not a name');
      this.skipWhitespace();
      if (this.pos >= d.length) throw new ContentSyntaxError(this.pos, 'unterminated dictionary', true);
      const value = this.readObject(depth + 1);
      if (value instanceof Operator) throw new ContentSyntaxError(this.pos, 'an operator inside a dictionary');
      dict.set(key.name, value);
    }
  }

  /**
   * After `BI`: the image dictionary up to `ID`, one white-space byte, the image data, then `EI` (§8.9.7). The data's
   * length is /L (PDF 2.0) when given; otherwise the data ends at the first `EI` with white space before it and white
   * space, a delimiter or the end after it, which is how viewers find it.
   */
  private skipInlineImage(): void {
    const d = this.data;
    let length: number | undefined;
    for (;;) {
      this.skipWhitespace();
      if (this.pos >= d.length) throw new ContentSyntaxError(this.pos, 'inline image without ID', true);
      const t = this.readObject(0);
      if (t instanceof Operator) {
        if (t.op === 'ID') break;
        throw new ContentSyntaxError(this.pos, `unexpected ${t.op.slice(0, 16)} in an inline image dictionary`);
      }
      if (t instanceof PdfName && (t.name === 'L' || t.name === 'Length')) {
        this.skipWhitespace();
        const v = this.readObject(0);
        if (typeof v === 'number' && v >= 0) length = v;
      }
    }
    this.pos++; // the single white-space byte after ID
    if (length !== undefined && this.isEiAt(this.pos + length, true)) {
      this.pos += length;
      this.skipWhitespace();
      this.pos += 2;
      return;
    }
    for (let i = this.pos; i + 1 < d.length; i++) {
      if (d[i] === 0x45 && d[i + 1] === 0x49 && this.isEiAt(i, false)) {
        this.pos = i + 2;
        return;
      }
    }
    throw new ContentSyntaxError(this.pos, 'inline image without EI', true);
  }

  private isEiAt(i: number, allowLeadingSpace: boolean): boolean {
    const d = this.data;
    while (allowLeadingSpace && i < d.length && isWhite(d[i]!)) i++;
    if (d[i] !== 0x45 || d[i + 1] !== 0x49) return false;
    if (!allowLeadingSpace && !(i > 0 && isWhite(d[i - 1]!))) return false;
    const after = d[i + 2];
    return after === undefined || isWhite(after) || isDelimiter(after);
  }
}
