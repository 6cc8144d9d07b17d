/**
 * Where a seal's characters come from: the outlines committed in src/pdf/glyph-outlines.ts when they hold every
 * character of the text (the embedded demo seals, seal codes, kind labels: `npm start` needs no font installed), else
 * a CJK font file read with fontkit (an installed Noto Sans/Serif CJK, WenQuanYi Zen Hei or AR PL UMing, or
 * `--font FILE`). The committed outlines are Noto Sans CJK SC's (SIL OFL 1.1, LICENSES/OFL-1.1.txt); an installed
 * font is only read at run time, so its licence (GPL for WenQuanYi and UMing) does not reach seald's source.
 */
import { existsSync } from 'node:fs';
import * as fontkit from 'fontkit';
import { SealdError } from '../../errors.ts';
import { GLYPH_OUTLINES, GLYPH_UNITS_PER_EM } from '../../pdf/glyph-outlines.ts';
import { parsePathData, type Segment } from '../../pdf/vector-path.ts';

export interface Glyph {
  /** Advance width in font units. */
  advance: number;
  /** Outline in font units, y up from the baseline. */
  path: Segment[];
}

export interface GlyphSource {
  readonly unitsPerEm: number;
  readonly description: string;
  glyph(ch: string): Glyph | undefined;
}

/**
 * Fonts looked for when a text needs characters the committed outlines lack: Noto CJK first (the committed outlines'
 * font, so a seal mixing both looks alike), then the others; Debian paths before Fedora's.
 */
export const CJK_FONT_CANDIDATES = [
  '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', // fonts-noto-cjk
  '/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc',
  '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', // fonts-wqy-zenhei
  '/usr/share/fonts/truetype/arphic/uming.ttc', // fonts-arphic-uming
  '/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc', // Fedora
  '/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc',
];

/**
 * In a collection, the face for Simplified Chinese: Noto CJK's collections start with the Japanese face
 * (NotoSansCJKjp-Regular) and hold an SC one (NotoSansCJKsc-Regular), UMing's hold a CN one; otherwise the first face.
 */
export function chineseFace<F extends { postscriptName: string }>(faces: readonly F[]): F | undefined {
  return faces.find((f) => /(?:CJKsc|SC|CN)(?:-|$)/.test(f.postscriptName)) ?? faces[0];
}

const committed = new Map<string, Glyph>();

export const committedGlyphs: GlyphSource = {
  unitsPerEm: GLYPH_UNITS_PER_EM,
  description: 'the outlines committed in src/pdf/glyph-outlines.ts',
  glyph(ch) {
    let g = committed.get(ch);
    if (g === undefined) {
      const entry = GLYPH_OUTLINES[ch];
      if (entry === undefined) return undefined;
      g = { advance: entry[0], path: parsePathData(entry[1]) };
      committed.set(ch, g);
    }
    return g;
  },
};

interface FontkitPath {
  commands: { command: string; args: number[] }[];
}
interface FontkitFont {
  unitsPerEm: number;
  postscriptName: string;
  glyphForCodePoint(cp: number): { id: number; advanceWidth: number; path: FontkitPath };
}

/** A font file (TrueType, OpenType, or a collection's Simplified Chinese or else first face) as a glyph source. */
export function fontGlyphs(file: string): GlyphSource {
  let font: FontkitFont;
  try {
    const opened = fontkit.openSync(file) as unknown as FontkitFont & { fonts?: FontkitFont[] };
    font = (opened.fonts && chineseFace(opened.fonts)) ?? opened;
  } catch (error) {
    throw new SealdError('invalid-input', 'BAD_FONT', `cannot read the font ${file}: ${(error as Error).message}`);
  }
  const ops: Record<string, 'M' | 'L' | 'Q' | 'C' | 'Z'> = {
    moveTo: 'M', lineTo: 'L', quadraticCurveTo: 'Q', bezierCurveTo: 'C', closePath: 'Z',
  };
  return {
    unitsPerEm: font.unitsPerEm,
    description: `${file} (${font.postscriptName})`,
    glyph(ch) {
      const g = font.glyphForCodePoint(ch.codePointAt(0)!);
      if (g.id === 0) return undefined;
      const path = g.path.commands.map(({ command, args }) => {
        const op = ops[command]!;
        return (op === 'Z' ? { op } : { op, p: args }) as Segment;
      });
      return { advance: g.advanceWidth, path };
    },
  };
}

/**
 * The source to draw `texts` with: `fontFile` when given; else the committed outlines when they cover every
 * character; else the first installed CJK font that does.
 */
export function glyphSourceFor(texts: readonly string[], fontFile?: string): GlyphSource {
  const chars = [...new Set(texts.join(''))].filter((ch) => ch.trim() !== '');
  const covers = (source: GlyphSource): string[] => chars.filter((ch) => source.glyph(ch) === undefined);
  if (fontFile !== undefined) {
    const source = fontGlyphs(fontFile);
    const missing = covers(source);
    if (missing.length > 0) {
      throw new SealdError('invalid-input', 'GLYPHS_MISSING', `the font ${fontFile} has no glyph for ${missing.join('')}`);
    }
    return source;
  }
  if (covers(committedGlyphs).length === 0) return committedGlyphs;
  for (const candidate of CJK_FONT_CANDIDATES) {
    if (!existsSync(candidate)) continue;
    const source = fontGlyphs(candidate);
    if (covers(source).length === 0) return source;
  }
  throw new SealdError(
    'precondition',
    'CJK_FONT_MISSING',
    `no installed font has glyphs for ${covers(committedGlyphs).join('')}: install one (Debian: ` +
      '`apt-get install fonts-noto-cjk`) or name a font file with --font',
  );
}
