/**
 * Where a seal's characters come from: the outlines committed in src/pdf/glyph-outlines.ts when they hold every
 * character of the text (the embedded demo seals, seal codes, kind labels: `npm start` needs no font installed), else
 * a CJK font file read with fontkit (an installed WenQuanYi Zen Hei, Noto CJK or AR PL UMing, or `--font FILE`).
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

/** Fonts looked for when a text needs characters the committed outlines lack (Debian paths first). */
export const CJK_FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', // fonts-wqy-zenhei
  '/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', // fonts-noto-cjk
  '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/truetype/arphic/uming.ttc', // fonts-arphic-uming
  '/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc', // Fedora
  '/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc',
];

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

/** A font file (TrueType, OpenType, or the first font of a collection) as a glyph source. */
export function fontGlyphs(file: string): GlyphSource {
  let font: FontkitFont;
  try {
    const opened = fontkit.openSync(file) as unknown as FontkitFont & { fonts?: FontkitFont[] };
    font = opened.fonts?.[0] ?? opened;
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
      '`apt-get install fonts-wqy-zenhei`) or name a font file with --font',
  );
}
