/**
 * What text location needs from a font (ISO 32000-1 §9.5–§9.10): how a shown string splits into character codes,
 * each code's Unicode text, its advance width and the font's ascent and descent (for the glyph box). Glyph outlines are
 * never read.
 *
 * Text comes from /ToUnicode when it maps the code (§9.10.2 step 1), else from the encoding: a simple font's base
 * encoding and /Differences, or a Type0 font's predefined CMap when that carries Unicode (see cmap.ts). A code with
 * no known text becomes U+FFFD, which matches nothing.
 */
import { PdfDict, PdfName, PdfStream, type PdfObject } from '../objects.ts';
import { CMap, predefinedCMap, splitWithCodespace, type CharCode, type PredefinedCMap } from './cmap.ts';
import { baseEncodingTable, glyphNameToUnicode, type BaseEncoding } from './encodings.ts';
import { decodeContentStream, type Resolve } from './content-streams.ts';
import { standardWidth } from './standard-fonts.ts';

export interface FontGlyph {
  /** Unicode text (one or more characters), U+FFFD when unknown. */
  text: string;
  /** Horizontal advance in text space units per unit of font size (glyph width / 1000 for most fonts). */
  width: number;
  /** A single-byte code 32: word spacing (Tw) applies to it (§9.3.3). */
  wordSpace: boolean;
}

export interface TextFont {
  /** Vertical writing (§9.7.4.3): a Type0 font with a -V CMap. */
  vertical: boolean;
  /** Vertical writing: the displacement (negative, down) per unit of font size, from /DW2. */
  verticalAdvance: number;
  /** Vertical writing: the position vector's y, from /DW2. */
  verticalOrigin: number;
  /** Above and below the baseline per unit of font size (descent negative). */
  ascent: number;
  descent: number;
  glyphs(bytes: Uint8Array): FontGlyph[];
}

const MAX_CMAP_BYTES = 8 * 1024 * 1024;

/** Standard 14 font metrics for the box height when a font has no descriptor (AFM Ascender/Descender). */
const STANDARD_METRICS: [RegExp, number, number, number][] = [
  [/Courier/, 0.629, -0.157, 0.6],
  [/Times/, 0.683, -0.217, 0.5],
  [/Helvetica|Arial/, 0.718, -0.207, 0.55],
];

export class FontCache {
  private readonly fonts = new WeakMap<object, TextFont>();
  constructor(private readonly resolve: Resolve) {}

  font(obj: PdfObject | undefined): TextFont | undefined {
    const d = this.resolve(obj);
    const dict = d instanceof PdfStream ? d.dict : d;
    if (!(dict instanceof PdfDict)) return undefined;
    let f = this.fonts.get(dict);
    if (!f) {
      f = dict.name('Subtype') === 'Type0' ? this.type0(dict) : this.simple(dict);
      this.fonts.set(dict, f);
    }
    return f;
  }

  private num(o: PdfObject | undefined): number | undefined {
    const v = this.resolve(o);
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }

  private cmapStream(o: PdfObject | undefined): CMap | undefined {
    const s = this.resolve(o);
    if (!(s instanceof PdfStream)) return undefined;
    try {
      return CMap.parse(decodeContentStream(s, this.resolve, MAX_CMAP_BYTES));
    } catch {
      return undefined; // an unreadable map: fall back to the encoding
    }
  }

  private metrics(descriptor: PdfDict | undefined, baseFont: string): { ascent: number; descent: number } {
    const std = STANDARD_METRICS.find(([re]) => re.test(baseFont));
    let ascent = std?.[1] ?? 0.95;
    let descent = std?.[2] ?? -0.35;
    const a = this.num(descriptor?.get('Ascent'));
    const d = this.num(descriptor?.get('Descent'));
    if (a !== undefined && a !== 0 && Math.abs(a) < 3000) ascent = Math.abs(a) / 1000;
    if (d !== undefined && d !== 0 && Math.abs(d) < 3000) descent = -Math.abs(d) / 1000;
    return { ascent, descent };
  }

  private descriptor(dict: PdfDict): PdfDict | undefined {
    const d = this.resolve(dict.get('FontDescriptor'));
    return d instanceof PdfDict ? d : undefined;
  }

  /** Type1, MMType1, TrueType, Type3 (§9.6): one byte per code. */
  private simple(dict: PdfDict): TextFont {
    const baseFont = dict.name('BaseFont') ?? '';
    const descriptor = this.descriptor(dict);
    const toUnicode = this.cmapStream(dict.get('ToUnicode'));
    const texts = this.simpleEncoding(dict, descriptor);
    const firstChar = this.num(dict.get('FirstChar')) ?? 0;
    const widthsRaw = this.resolve(dict.get('Widths'));
    const widths = Array.isArray(widthsRaw) ? widthsRaw.map((w) => this.num(w)) : [];
    const std = STANDARD_METRICS.find(([re]) => re.test(baseFont));
    const missing = this.num(descriptor?.get('MissingWidth'));
    // Type3 widths are in glyph space, scaled by /FontMatrix (§9.6.5); everything else in thousandths.
    let scale = 0.001;
    if (dict.name('Subtype') === 'Type3') {
      const m = this.resolve(dict.get('FontMatrix'));
      scale = Array.isArray(m) ? (this.num(m[0]) ?? 0.001) : 0.001;
    }
    const { ascent, descent } = this.metrics(descriptor, baseFont);
    return {
      vertical: false,
      verticalAdvance: -1,
      verticalOrigin: 0.88,
      ascent,
      descent,
      glyphs: (bytes) => {
        const out: FontGlyph[] = [];
        for (const code of bytes) {
          // §9.6.2.1: /Widths, else /MissingWidth; a standard 14 font may have neither.
          const w = widths[code - firstChar] ?? missing ?? standardWidth(baseFont, code);
          const text = toUnicode?.unicode({ code, length: 1 }) ?? texts[code] ?? '';
          out.push({
            text: text === '' ? '\ufffd' : text,
            width: w !== undefined ? w * scale : (std?.[3] ?? 0.5), // an average when nothing says
            wordSpace: code === 32,
          });
        }
        return out;
      },
    };
  }

  /** The 256 texts of a simple font: base encoding, then /Differences (§9.6.6.1). */
  private simpleEncoding(dict: PdfDict, descriptor: PdfDict | undefined): string[] {
    const enc = this.resolve(dict.get('Encoding'));
    const isBase = (n: string | undefined): n is BaseEncoding =>
      n === 'WinAnsiEncoding' || n === 'MacRomanEncoding' || n === 'StandardEncoding';
    let base: BaseEncoding = dict.name('Subtype') === 'TrueType' ? 'WinAnsiEncoding' : 'StandardEncoding';
    let differences: PdfObject[] = [];
    if (enc instanceof PdfName && isBase(enc.name)) base = enc.name;
    else if (enc instanceof PdfDict) {
      const b = enc.name('BaseEncoding');
      if (isBase(b)) base = b;
      const d = this.resolve(enc.get('Differences'));
      if (Array.isArray(d)) differences = d;
    }
    const flags = this.num(descriptor?.get('Flags')) ?? 0;
    const table = [...baseEncodingTable(base)];
    if (flags & 4 && !(enc instanceof PdfName)) {
      // Symbolic font without a named encoding: its built-in encoding is unknown; printable ASCII is the best guess.
      for (let c = 0x20; c < 0x7f; c++) table[c] = String.fromCharCode(c);
    }
    let code = 0;
    for (const item of differences) {
      const v = this.resolve(item);
      if (typeof v === 'number') code = v;
      else if (v instanceof PdfName) {
        if (code >= 0 && code < 256) table[code] = glyphNameToUnicode(v.name) ?? '';
        code++;
      }
    }
    return table;
  }

  /** Type0 (§9.7.6) with a CIDFontType0 or CIDFontType2 descendant. */
  private type0(dict: PdfDict): TextFont {
    const encObj = this.resolve(dict.get('Encoding'));
    let predefined: PredefinedCMap | undefined;
    let embedded: CMap | undefined;
    if (encObj instanceof PdfName) predefined = predefinedCMap(encObj.name);
    else if (encObj instanceof PdfStream) {
      embedded = this.cmapStream(encObj);
      predefined = embedded?.predefined;
      const useName = encObj.dict.get('CMapName');
      if (!predefined && useName instanceof PdfName) predefined = predefinedCMap(useName.name);
    }
    const toUnicode = this.cmapStream(dict.get('ToUnicode'));
    const descendants = this.resolve(dict.get('DescendantFonts'));
    const cidFont = this.resolve(Array.isArray(descendants) ? descendants[0] : undefined);
    const cid = cidFont instanceof PdfDict ? cidFont : new PdfDict();
    const descriptor = this.descriptor(cid);
    const { ascent, descent } = this.metrics(descriptor, cid.name('BaseFont') ?? dict.name('BaseFont') ?? '');
    const widths = this.cidWidths(cid);
    const dw2 = this.resolve(cid.get('DW2'));
    const verticalOrigin = (Array.isArray(dw2) ? (this.num(dw2[0]) ?? 880) : 880) / 1000;
    const verticalAdvance = (Array.isArray(dw2) ? (this.num(dw2[1]) ?? -1000) : -1000) / 1000;
    const vertical = predefined?.vertical ?? (encObj instanceof PdfStream && this.num(encObj.dict.get('WMode')) === 1);
    // Without a codespace, codes are two bytes (as with Identity-H, by far the most common case).
    const fallback = predefinedCMap('Identity-H')!;
    const split = (bytes: Uint8Array, pos: number): CharCode =>
      embedded?.hasCodespace
        ? embedded.nextCode(bytes, pos)
        : predefined
          ? splitWithCodespace(predefined, bytes, pos)
          : toUnicode?.hasCodespace
            ? toUnicode.nextCode(bytes, pos)
            : splitWithCodespace(fallback, bytes, pos);
    return {
      vertical,
      verticalAdvance,
      verticalOrigin,
      ascent,
      descent,
      glyphs: (bytes) => {
        const out: FontGlyph[] = [];
        for (let pos = 0; pos < bytes.length; ) {
          const c = split(bytes, pos);
          const codeBytes = bytes.subarray(pos, pos + c.length);
          pos += c.length;
          const text = toUnicode?.unicode(c) ?? predefined?.unicode(c, codeBytes) ?? '';
          let cidNum = embedded?.cid(c);
          if (cidNum === undefined && (predefined?.identity ?? !embedded)) cidNum = c.code;
          // A predefined CMap without its file: only the ASCII block's CIDs are known (for /W); others take /DW.
          if (cidNum === undefined && text.length === 1 && text >= ' ' && text <= '~') cidNum = predefined?.asciiCid(text.charCodeAt(0));
          out.push({
            text: text === '' ? '\ufffd' : text,
            width: (cidNum === undefined ? widths.dw : widths.of(cidNum)) / 1000,
            wordSpace: c.length === 1 && c.code === 32,
          });
        }
        return out;
      },
    };
  }

  /** /W and /DW (§9.7.4.3): `c [w1 w2 …]` and `cfirst clast w`. */
  private cidWidths(cid: PdfDict): { dw: number; of: (c: number) => number } {
    const dw = this.num(cid.get('DW')) ?? 1000;
    const single = new Map<number, number>();
    const ranges: [number, number, number][] = [];
    const w = this.resolve(cid.get('W'));
    if (Array.isArray(w)) {
      for (let i = 0; i < w.length; ) {
        const first = this.num(w[i]);
        const next = this.resolve(w[i + 1]);
        if (first === undefined) break;
        if (Array.isArray(next)) {
          next.forEach((x, k) => {
            const v = this.num(x);
            if (v !== undefined) single.set(first + k, v);
          });
          i += 2;
        } else {
          const last = this.num(next);
          const v = this.num(w[i + 2]);
          if (last === undefined || v === undefined) break;
          ranges.push([first, last, v]);
          i += 3;
        }
      }
    }
    return {
      dw,
      of: (c) => {
        const s = single.get(c);
        if (s !== undefined) return s;
        for (const [a, b, v] of ranges) if (c >= a && c <= b) return v;
        return dw;
      },
    };
  }
}
