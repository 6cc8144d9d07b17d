/**
 * Text of a simple font's one-byte codes (ISO 32000-1 §9.6.6, Annex D): the base encodings (WinAnsiEncoding,
 * MacRomanEncoding, StandardEncoding), /Differences glyph names, and glyph names → Unicode for the names Latin text
 * uses (the Adobe Glyph List's Latin-1 and punctuation subset) plus the `uniXXXX` and `uXXXX[XX]` forms (AGL
 * specification §2).
 */

export type BaseEncoding = 'WinAnsiEncoding' | 'MacRomanEncoding' | 'StandardEncoding';

const ASCII_NAMES =
  'space exclam quotedbl numbersign dollar percent ampersand quotesingle parenleft parenright asterisk plus comma ' +
  'hyphen period slash zero one two three four five six seven eight nine colon semicolon less equal greater question ' +
  'at A B C D E F G H I J K L M N O P Q R S T U V W X Y Z bracketleft backslash bracketright asciicircum underscore ' +
  'grave a b c d e f g h i j k l m n o p q r s t u v w x y z braceleft bar braceright asciitilde';

const LATIN1_NAMES =
  'nbspace exclamdown cent sterling currency yen brokenbar section dieresis copyright ordfeminine guillemotleft ' +
  'logicalnot sfthyphen registered macron degree plusminus twosuperior threesuperior acute mu paragraph ' +
  'periodcentered cedilla onesuperior ordmasculine guillemotright onequarter onehalf threequarters questiondown ' +
  'Agrave Aacute Acircumflex Atilde Adieresis Aring AE Ccedilla Egrave Eacute Ecircumflex Edieresis Igrave Iacute ' +
  'Icircumflex Idieresis Eth Ntilde Ograve Oacute Ocircumflex Otilde Odieresis multiply Oslash Ugrave Uacute ' +
  'Ucircumflex Udieresis Yacute Thorn germandbls agrave aacute acircumflex atilde adieresis aring ae ccedilla egrave ' +
  'eacute ecircumflex edieresis igrave iacute icircumflex idieresis eth ntilde ograve oacute ocircumflex otilde ' +
  'odieresis divide oslash ugrave uacute ucircumflex udieresis yacute thorn ydieresis';

const OTHER_NAMES: Record<string, number> = {
  quoteright: 0x2019, quoteleft: 0x2018, quotedblleft: 0x201c, quotedblright: 0x201d, quotesinglbase: 0x201a,
  quotedblbase: 0x201e, endash: 0x2013, emdash: 0x2014, bullet: 0x2022, ellipsis: 0x2026, dagger: 0x2020,
  daggerdbl: 0x2021, perthousand: 0x2030, guilsinglleft: 0x2039, guilsinglright: 0x203a, fi: 0xfb01, fl: 0xfb02,
  ff: 0xfb00, ffi: 0xfb03, ffl: 0xfb04, fraction: 0x2044, florin: 0x0192, OE: 0x0152, oe: 0x0153, Scaron: 0x0160,
  scaron: 0x0161, Zcaron: 0x017d, zcaron: 0x017e, Ydieresis: 0x0178, Lslash: 0x0141, lslash: 0x0142,
  dotlessi: 0x0131, circumflex: 0x02c6, tilde: 0x02dc, breve: 0x02d8, dotaccent: 0x02d9, ring: 0x02da,
  hungarumlaut: 0x02dd, ogonek: 0x02db, caron: 0x02c7, Euro: 0x20ac, trademark: 0x2122, minus: 0x2212,
  space: 0x20, nonbreakingspace: 0xa0, hyphenminus: 0x2d,
};

const GLYPH_UNICODE = new Map<string, number>();
ASCII_NAMES.split(' ').forEach((n, i) => GLYPH_UNICODE.set(n, 0x20 + i));
LATIN1_NAMES.split(' ').forEach((n, i) => GLYPH_UNICODE.set(n, 0xa0 + i));
for (const [n, u] of Object.entries(OTHER_NAMES)) GLYPH_UNICODE.set(n, u);

/** Unicode text of a glyph name, or undefined for a name seald does not know (e.g. `g123`, `cid42`). */
export function glyphNameToUnicode(name: string): string | undefined {
  const base = name.split('.')[0]!; // `a.sc`, `one.oldstyle`: the part before the first period (AGL §2)
  const known = GLYPH_UNICODE.get(base);
  if (known !== undefined) return String.fromCodePoint(known);
  let m = /^uni((?:[0-9A-F]{4})+)$/.exec(base);
  if (m) {
    const units = m[1]!.match(/.{4}/g)!.map((h) => parseInt(h, 16));
    if (units.every((u) => u < 0xd800 || u > 0xdfff)) return String.fromCharCode(...units);
  }
  m = /^u([0-9A-F]{4,6})$/.exec(base);
  if (m) {
    const cp = parseInt(m[1]!, 16);
    if (cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff)) return String.fromCodePoint(cp);
  }
  return undefined;
}

/** StandardEncoding (Annex D.2) where it differs from ASCII. */
const STANDARD_HIGH: Record<number, number> = {
  0x27: 0x2019, 0x60: 0x2018, 0xa1: 0xa1, 0xa2: 0xa2, 0xa3: 0xa3, 0xa4: 0x2044, 0xa5: 0xa5, 0xa6: 0x192, 0xa7: 0xa7,
  0xa8: 0xa4, 0xa9: 0x27, 0xaa: 0x201c, 0xab: 0xab, 0xac: 0x2039, 0xad: 0x203a, 0xae: 0xfb01, 0xaf: 0xfb02,
  0xb1: 0x2013, 0xb2: 0x2020, 0xb3: 0x2021, 0xb4: 0xb7, 0xb6: 0xb6, 0xb7: 0x2022, 0xb8: 0x201a, 0xb9: 0x201e,
  0xba: 0x201d, 0xbb: 0xbb, 0xbc: 0x2026, 0xbd: 0x2030, 0xbf: 0xbf, 0xc1: 0x60, 0xc2: 0xb4, 0xc3: 0x2c6, 0xc4: 0x2dc,
  0xc5: 0xaf, 0xc6: 0x2d8, 0xc7: 0x2d9, 0xc8: 0xa8, 0xca: 0x2da, 0xcb: 0xb8, 0xcd: 0x2dd, 0xce: 0x2db, 0xcf: 0x2c7,
  0xd0: 0x2014, 0xe1: 0xc6, 0xe3: 0xaa, 0xe8: 0x141, 0xe9: 0xd8, 0xea: 0x152, 0xeb: 0xba, 0xf1: 0xe6, 0xf5: 0x131,
  0xf8: 0x142, 0xf9: 0xf8, 0xfa: 0x153, 0xfb: 0xdf,
};

const tables = new Map<BaseEncoding, string[]>();

/** The 256 texts of a base encoding ('' where the encoding has no character). */
export function baseEncodingTable(encoding: BaseEncoding): string[] {
  let table = tables.get(encoding);
  if (!table) {
    table = new Array<string>(256).fill('');
    for (let code = 0; code < 256; code++) {
      if (encoding === 'StandardEncoding') {
        const u = STANDARD_HIGH[code] ?? (code >= 0x20 && code < 0x7f ? code : undefined);
        table[code] = u === undefined ? '' : String.fromCodePoint(u);
      } else {
        const label = encoding === 'WinAnsiEncoding' ? 'windows-1252' : 'macintosh';
        table[code] = code < 0x20 ? '' : new TextDecoder(label).decode(Uint8Array.of(code));
      }
    }
    tables.set(encoding, table);
  }
  return table;
}
