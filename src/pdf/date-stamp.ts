/**
 * The date stamp (时间章): the signing date drawn under the seal, the same wall-clock date and time as the signature
 * dictionary's /M (§12.8.1, Table 252), which is written in the seal's time zone with its offset (pdf-date.ts,
 * §7.9.4), as filled glyph outlines (glyph-outlines.ts): no font is embedded, the stamp costs a few hundred bytes.
 *
 * Format tokens: YYYY, MM, DD, HH, mm, ss (zero padded, in the zone of /M); every other character is drawn as it is
 * and must be one of the committed glyphs (digits, - . / : and 年月日) or a space.
 */
import { SealdError } from '../errors.ts';
import { GLYPH_OUTLINES, GLYPH_UNITS_PER_EM } from './glyph-outlines.ts';
import { parsePathData, toPdfPathOps } from './vector-path.ts';
import { wallClock } from './pdf-date.ts';

export const DEFAULT_DATE_STAMP_FORMAT = 'YYYY年MM月DD日';
const MAX_FORMAT_LENGTH = 40;

/** The text of the stamp for the instant `at`, in the zone `offsetMinutes` east of UT (/M's zone; default UT). */
export function formatDateStamp(format: string, at: Date, offsetMinutes = 0): string {
  const p = (v: number, n = 2): string => String(v).padStart(n, '0');
  const date = wallClock(at, offsetMinutes);
  return format.replace(/YYYY|MM|DD|HH|mm|ss/g, (token) => {
    switch (token) {
      case 'YYYY': return p(date.getUTCFullYear(), 4);
      case 'MM': return p(date.getUTCMonth() + 1);
      case 'DD': return p(date.getUTCDate());
      case 'HH': return p(date.getUTCHours());
      case 'mm': return p(date.getUTCMinutes());
      default: return p(date.getUTCSeconds());
    }
  });
}

/** Refuse a format the stamp cannot draw, before anything is signed. */
export function checkDateStampFormat(format: string): void {
  if (format.length === 0 || format.length > MAX_FORMAT_LENGTH) {
    throw new SealdError('invalid-input', 'BAD_DATE_STAMP_FORMAT', `a date stamp format has 1 to ${MAX_FORMAT_LENGTH} characters`);
  }
  const text = formatDateStamp(format, new Date(0));
  const missing = [...new Set(text)].filter((ch) => ch !== ' ' && GLYPH_OUTLINES[ch] === undefined);
  if (missing.length > 0) {
    throw new SealdError(
      'invalid-input',
      'BAD_DATE_STAMP_FORMAT',
      `the date stamp cannot draw ${missing.map((c) => JSON.stringify(c)).join(', ')}: use YYYY MM DD HH mm ss, digits, - . / : 年 月 日 and spaces`,
    );
  }
}

const parsed = new Map<string, string>();

/**
 * PDF content drawing `text` centred in the box [x, x + width] × [y, y + height] (y up), filled with the current
 * colour: glyphs one em high at most, scaled down to fit the width.
 */
export function dateStampContent(text: string, box: { x: number; y: number; width: number; height: number }): string {
  const em = GLYPH_UNITS_PER_EM;
  const chars = [...text];
  const advance = (ch: string): number => (ch === ' ' ? em / 3 : GLYPH_OUTLINES[ch]?.[0] ?? em);
  const total = chars.reduce((sum, ch) => sum + advance(ch), 0);
  const size = Math.min(box.height * 0.8, (box.width * 0.96 * em) / Math.max(1, total));
  const k = size / em;
  const x = box.x + (box.width - total * k) / 2;
  // Centre the ideographic em box ([−0.12, 0.88] em) vertically in the band.
  const baseline = box.y + (box.height - size) / 2 + 0.12 * size;
  // Glyphs stay in font units (integers) under one `cm`: a repeated digit repeats the same bytes, which Flate stores once.
  const ops: string[] = [];
  let advanced = 0;
  for (const ch of chars) {
    const entry = GLYPH_OUTLINES[ch];
    if (entry !== undefined) {
      let path = parsed.get(ch);
      if (path === undefined) {
        path = toPdfPathOps(parsePathData(entry[1]));
        parsed.set(ch, path);
      }
      ops.push(`q 1 0 0 1 ${Math.round(advanced)} 0 cm\n${path}\nf Q`);
    }
    advanced += advance(ch);
  }
  const n = (v: number): string => String(Math.round(v * 1e5) / 1e5);
  return ops.length === 0 ? '' : `q ${n(k)} 0 0 ${n(k)} ${n(x)} ${n(baseline)} cm\n${ops.join('\n')}\nQ\n`;
}
