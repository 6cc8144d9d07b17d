/**
 * CMaps (ISO 32000-1 §9.7.5, §9.10.3; Adobe Technical Note #5014 and #5099): how a Type0 font's string bytes split
 * into character codes (codespace ranges), which CID each code selects (cidchar/cidrange) and which Unicode text each
 * code stands for (ToUnicode: bfchar/bfrange, the range destination either a string incremented per code or an array).
 *
 * Predefined CMaps (§9.7.5.2 Table 118) are not shipped with seald: their codespace is known per family, Unicode ones
 * (Uni*-UCS2/UTF16/UTF8/UTF32) carry the text in the code itself, and the legacy Chinese/Japanese/Korean encodings
 * (GB-EUC, GBK, Big5, Shift-JIS, EUC-JP, EUC-KR/UHC) are decoded with the matching WHATWG decoder that Node ships.
 */
import { PdfName, PdfString } from '../objects.ts';
import { ContentLexer, Operator, type TokenBudget } from './content-lexer.ts';

interface CodespaceRange {
  low: Uint8Array;
  high: Uint8Array;
}

interface UnicodeRange {
  n: number;
  low: number;
  high: number;
  /** A string incremented per code, or one string per code. */
  dst: string | string[];
}

interface CidRange {
  n: number;
  low: number;
  high: number;
  cid: number;
}

export interface CharCode {
  /** The code's bytes as a big-endian number. */
  code: number;
  /** How many bytes it took. */
  length: number;
}

const MAX_CMAP_TOKENS = 4_000_000;

export class CMap {
  readonly codespace: CodespaceRange[] = [];
  private readonly unicodeChars = new Map<number, string>();
  private readonly unicodeRanges: UnicodeRange[] = [];
  private readonly cidChars = new Map<number, number>();
  private readonly cidRanges: CidRange[] = [];
  /** Set when the CMap used (`usecmap`) or is a predefined one. */
  predefined: PredefinedCMap | undefined;

  /** Parse a CMap file (an embedded encoding CMap or a ToUnicode CMap). Broken syntax ends the parse, keeping what came before. */
  static parse(data: Uint8Array): CMap {
    const cmap = new CMap();
    const lexer = new ContentLexer(data, { remaining: MAX_CMAP_TOKENS } satisfies TokenBudget);
    let operands: unknown[] = [];
    try {
      for (let t = lexer.next(); t !== undefined; t = lexer.next()) {
        if (!(t instanceof Operator)) {
          operands.push(t);
          continue;
        }
        cmap.apply(t.op, operands);
        operands = [];
      }
    } catch {
      // a damaged CMap: keep the mappings read so far
    }
    return cmap;
  }

  private apply(op: string, args: unknown[]): void {
    const bytes = (v: unknown) => (v instanceof PdfString ? v.bytes : undefined);
    switch (op) {
      case 'endcodespacerange':
        for (let i = 0; i + 1 < args.length; i += 2) {
          const low = bytes(args[i]);
          const high = bytes(args[i + 1]);
          if (low && high && low.length === high.length && low.length >= 1 && low.length <= 4) this.codespace.push({ low, high });
        }
        break;
      case 'endbfchar':
        for (let i = 0; i + 1 < args.length; i += 2) {
          const src = bytes(args[i]);
          const dst = args[i + 1];
          if (!src || src.length > 4) continue;
          const text = dst instanceof PdfString ? utf16be(dst.bytes) : dst instanceof PdfName ? glyphNameText(dst.name) : undefined;
          if (text !== undefined) this.unicodeChars.set(key(toNumber(src), src.length), text);
        }
        break;
      case 'endbfrange':
        for (let i = 0; i + 2 < args.length; i += 3) {
          const lo = bytes(args[i]);
          const hi = bytes(args[i + 1]);
          const dst = args[i + 2];
          if (!lo || !hi || lo.length > 4 || hi.length !== lo.length) continue;
          const range = { n: lo.length, low: toNumber(lo), high: toNumber(hi) };
          if (range.high < range.low) continue;
          if (dst instanceof PdfString) this.unicodeRanges.push({ ...range, dst: utf16be(dst.bytes) });
          else if (Array.isArray(dst)) {
            this.unicodeRanges.push({ ...range, dst: dst.map((d) => (d instanceof PdfString ? utf16be(d.bytes) : '')) });
          }
        }
        break;
      case 'endcidchar':
        for (let i = 0; i + 1 < args.length; i += 2) {
          const src = bytes(args[i]);
          const cid = args[i + 1];
          if (src && src.length <= 4 && typeof cid === 'number') this.cidChars.set(key(toNumber(src), src.length), cid);
        }
        break;
      case 'endcidrange':
        for (let i = 0; i + 2 < args.length; i += 3) {
          const lo = bytes(args[i]);
          const hi = bytes(args[i + 1]);
          const cid = args[i + 2];
          if (lo && hi && lo.length <= 4 && hi.length === lo.length && typeof cid === 'number') {
            this.cidRanges.push({ n: lo.length, low: toNumber(lo), high: toNumber(hi), cid });
          }
        }
        break;
      case 'usecmap': {
        const base = args[0];
        if (base instanceof PdfName) {
          const p = predefinedCMap(base.name);
          if (p) {
            this.predefined = p;
            if (this.codespace.length === 0) this.codespace.push(...p.codespace);
          }
        }
        break;
      }
    }
  }

  get hasCodespace(): boolean {
    return this.codespace.length > 0;
  }

  /** The code starting at `pos` (§9.7.6.2): the shortest codespace range that matches, else one of the shortest length. */
  nextCode(data: Uint8Array, pos: number): CharCode {
    return splitCode(this.codespace, data, pos);
  }

  unicode(c: CharCode): string | undefined {
    const k = key(c.code, c.length);
    const hit = this.unicodeChars.get(k);
    if (hit !== undefined) return hit;
    for (const r of this.unicodeRanges) {
      if (r.n !== c.length || c.code < r.low || c.code > r.high) continue;
      const offset = c.code - r.low;
      if (Array.isArray(r.dst)) return r.dst[offset];
      return incremented(r.dst, offset);
    }
    return undefined;
  }

  cid(c: CharCode): number | undefined {
    const hit = this.cidChars.get(key(c.code, c.length));
    if (hit !== undefined) return hit;
    for (const r of this.cidRanges) if (r.n === c.length && c.code >= r.low && c.code <= r.high) return r.cid + c.code - r.low;
    return undefined;
  }
}

function key(code: number, length: number): number {
  return code * 8 + length;
}

function toNumber(b: Uint8Array): number {
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}

function utf16be(b: Uint8Array): string {
  const even = b.length % 2 === 0 ? b : Uint8Array.from([...b, 0]);
  return Buffer.from(even).swap16().toString('utf16le');
}

/**
 * A bfrange string destination for the `offset`-th code: its last UTF-16 unit plus offset (§9.10.3 says "last byte";
 * real CMaps rely on the carry into the byte before, e.g. <00FF> → <0100>).
 */
function incremented(dst: string, offset: number): string {
  if (dst.length === 0) return dst;
  const last = dst.charCodeAt(dst.length - 1) + offset;
  if (last > 0xffff) return dst.slice(0, -1) + String.fromCodePoint(last);
  return dst.slice(0, -1) + String.fromCharCode(last);
}

/** A glyph name as a bfchar destination (allowed by §9.10.3): uniXXXX forms only. */
function glyphNameText(name: string): string | undefined {
  const m = /^uni([0-9A-F]{4})$/i.exec(name);
  return m ? String.fromCharCode(parseInt(m[1]!, 16)) : undefined;
}

function splitCode(codespace: readonly CodespaceRange[], data: Uint8Array, pos: number): CharCode {
  const available = data.length - pos;
  for (let n = 1; n <= 4 && n <= available; n++) {
    for (const r of codespace) {
      if (r.low.length !== n) continue;
      let ok = true;
      for (let i = 0; i < n && ok; i++) ok = data[pos + i]! >= r.low[i]! && data[pos + i]! <= r.high[i]!;
      if (ok) return { code: toNumber(data.subarray(pos, pos + n)), length: n };
    }
  }
  // No range matches: take as many bytes as the shortest range (a common recovery), 1 without any codespace.
  const n = Math.min(available, codespace.length ? Math.min(...codespace.map((r) => r.low.length)) : 1) || 1;
  return { code: toNumber(data.subarray(pos, pos + n)), length: n };
}

function range(low: number[], high: number[]): CodespaceRange {
  return { low: Uint8Array.from(low), high: Uint8Array.from(high) };
}

/** A predefined CMap seald knows how to read: its codespace and how a code turns into text. */
export interface PredefinedCMap {
  name: string;
  vertical: boolean;
  codespace: CodespaceRange[];
  /** Identity: the code is the CID. */
  identity: boolean;
  /** The Unicode text of a code, when the encoding carries it. */
  unicode(c: CharCode, bytes: Uint8Array): string | undefined;
  /**
   * The CID of a printable ASCII character (0x20–0x7E), for its width in /W. Without the CMap files only this block
   * is known: where each family puts it was read from the Adobe CMap resources (e.g. GBK-EUC-H `<21> <7e> 814`).
   */
  asciiCid(ascii: number): number | undefined;
}

function asciiFrom(first: number, space = first): (ascii: number) => number {
  return (ascii) => (ascii === 0x20 ? space : first + ascii - 0x20);
}

const TWO_BYTES = [range([0x00, 0x00], [0xff, 0xff])];
const ONE_BYTE_ASCII = range([0x00], [0x80]);

function decoderText(label: string, bytes: Uint8Array, offset = 0): string | undefined {
  const b = offset ? bytes.map((x) => x + offset) : bytes;
  const text = new TextDecoder(label, { fatal: false }).decode(b);
  return text.includes('\ufffd') ? undefined : text;
}

/** The families of Table 118 by the shape of their names. */
export function predefinedCMap(name: string): PredefinedCMap | undefined {
  const vertical = name.endsWith('-V');
  const base = { name, vertical, identity: false, asciiCid: asciiFrom(1) as (ascii: number) => number | undefined };
  if (name === 'Identity-H' || name === 'Identity-V') {
    return { ...base, identity: true, codespace: TWO_BYTES, unicode: () => undefined, asciiCid: () => undefined };
  }
  if (/^Uni\w+-UCS2-[HV]$/.test(name) || /^Uni\w+-UCS2-HW-[HV]$/.test(name)) {
    return { ...base, codespace: TWO_BYTES, unicode: (c) => String.fromCharCode(c.code) };
  }
  if (/^Uni\w+-UTF16-[HV]$/.test(name)) {
    return {
      ...base,
      codespace: [range([0x00, 0x00], [0xd7, 0xff]), range([0xd8, 0x00, 0xdc, 0x00], [0xdb, 0xff, 0xdf, 0xff]), range([0xe0, 0x00], [0xff, 0xff])],
      unicode: (_c, bytes) => utf16be(bytes),
    };
  }
  if (/^Uni\w+-UTF8-[HV]$/.test(name)) {
    return {
      ...base,
      codespace: [
        range([0x00], [0x7f]),
        range([0xc0, 0x80], [0xdf, 0xbf]),
        range([0xe0, 0x80, 0x80], [0xef, 0xbf, 0xbf]),
        range([0xf0, 0x80, 0x80, 0x80], [0xf7, 0xbf, 0xbf, 0xbf]),
      ],
      unicode: (_c, bytes) => decoderText('utf-8', bytes),
    };
  }
  if (/^Uni\w+-UTF32-[HV]$/.test(name)) {
    return {
      ...base,
      codespace: [range([0, 0, 0, 0], [0, 0x10, 0xff, 0xff])],
      unicode: (c) => (c.code <= 0x10ffff ? String.fromCodePoint(c.code) : undefined),
    };
  }
  // Simplified Chinese: GB 2312 in EUC form, GBK, GBK with the GB 18030 four-byte codes.
  if (/^(GB-EUC|GBpc-EUC|GBT-EUC|GBTpc-EUC)-[HV]$/.test(name)) {
    const asciiCid = name.startsWith('GBpc') ? asciiFrom(1) : asciiFrom(814 - 1, 7716);
    return { ...base, asciiCid, codespace: [ONE_BYTE_ASCII, range([0xa1, 0xa1], [0xfe, 0xfe])], unicode: (_c, b) => decoderText('gbk', b) };
  }
  if (/^(GBK-EUC|GBKp-EUC)-[HV]$/.test(name)) {
    return { ...base, asciiCid: asciiFrom(814 - 1, 7716), codespace: [ONE_BYTE_ASCII, range([0x81, 0x40], [0xfe, 0xfe])], unicode: (_c, b) => decoderText('gbk', b) };
  }
  if (/^GBK2K-[HV]$/.test(name)) {
    return {
      ...base,
      codespace: [ONE_BYTE_ASCII, range([0x81, 0x40], [0xfe, 0x7e]), range([0x81, 0x80], [0xfe, 0xfe]), range([0x81, 0x30, 0x81, 0x30], [0xfe, 0x39, 0xfe, 0x39])],
      unicode: (_c, b) => decoderText('gb18030', b),
    };
  }
  if (/^(GB|GBT)-[HV]$/.test(name)) {
    return { ...base, codespace: [range([0x21, 0x21], [0x7e, 0x7e])], unicode: (_c, b) => decoderText('gbk', b, 0x80) };
  }
  // Traditional Chinese: Big Five and its Hong Kong extension.
  if (/^(B5pc|ETen-B5|HKscs-B5|ETenms-B5|B5)-[HV]$/.test(name)) {
    const asciiCid = name.startsWith('ETen') ? asciiFrom(13648) : name.startsWith('B5pc') ? asciiFrom(1) : () => undefined;
    return { ...base, asciiCid, codespace: [ONE_BYTE_ASCII, range([0x81, 0x40], [0xfe, 0xfe])], unicode: (_c, b) => decoderText('big5', b) };
  }
  // Japanese: Shift-JIS (RKSJ), EUC-JP, ISO-2022-JP style (H/V).
  if (/^(90ms|90msp|90pv|83pv|Add|Ext|78|78ms)-RKSJ-[HV]$/.test(name)) {
    return {
      ...base,
      asciiCid: asciiFrom(231),
      codespace: [ONE_BYTE_ASCII, range([0xa0], [0xdf]), range([0x81, 0x40], [0x9f, 0xfc]), range([0xe0, 0x40], [0xfc, 0xfc])],
      unicode: (_c, b) => decoderText('shift_jis', b),
    };
  }
  if (/^(EUC|78-EUC)-[HV]$/.test(name)) {
    return {
      ...base,
      asciiCid: asciiFrom(231),
      codespace: [ONE_BYTE_ASCII, range([0x8e, 0xa0], [0x8e, 0xdf]), range([0xa1, 0xa1], [0xfe, 0xfe])],
      unicode: (_c, b) => decoderText('euc-jp', b),
    };
  }
  if (name === 'H' || name === 'V') {
    return { ...base, codespace: [range([0x21, 0x21], [0x7e, 0x7e])], unicode: (_c, b) => decoderText('euc-jp', b, 0x80) };
  }
  // Korean: EUC-KR and Unified Hangul Code.
  if (/^(KSC-EUC|KSCpc-EUC|KSCms-UHC|KSCms-UHC-HW)-[HV]$/.test(name)) {
    const asciiCid = name.startsWith('KSCms') ? asciiFrom(1) : asciiFrom(8094);
    return { ...base, asciiCid, codespace: [ONE_BYTE_ASCII, range([0x81, 0x41], [0xfe, 0xfe])], unicode: (_c, b) => decoderText('euc-kr', b) };
  }
  if (/^KSC-[HV]$/.test(name)) {
    return { ...base, codespace: [range([0x21, 0x21], [0x7e, 0x7e])], unicode: (_c, b) => decoderText('euc-kr', b, 0x80) };
  }
  return undefined;
}

export function splitWithCodespace(predefined: PredefinedCMap, data: Uint8Array, pos: number): CharCode {
  return splitCode(predefined.codespace, data, pos);
}
