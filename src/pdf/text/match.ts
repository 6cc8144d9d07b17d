/**
 * Keyword matching over text lines. Both the keyword and the page text are folded the same way: Unicode NFKC
 * (full-width forms to ASCII, `（` → `(`, `：` → `:`, the ideographic space to a space, compatibility and Kangxi radical
 * ideographs such as `⽅` to the unified `方`), curly quotes to straight ones and the minus sign to a hyphen; then all
 * white space is dropped, so a space the PDF draws or leaves out between glyphs never matters. Each folded character
 * remembers the glyph it came from; a hit's rectangle is the union of the boxes of the glyphs it covers. A match stays
 * within one line (lines.ts); occurrences do not overlap.
 */
import type { TextLine } from './lines.ts';

const EXTRA_FOLDS: Record<string, string> = {
  '\u2018': "'", '\u2019': "'", '\u201a': "'", '\u201b': "'", '\u2032': "'",
  '\u201c': '"', '\u201d': '"', '\u201e': '"', '\u201f': '"', '\u2033': '"',
  '\u2212': '-',
};

/** White space and invisible format characters (zero-width space and joiners, BOM, soft hyphen). */
const IGNORED = /[\s\u00ad\u200b-\u200d\u2060\ufeff]/u;

/** The folded form of `text`, one entry per UTF-16 unit kept. */
export function fold(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFKC')) {
    if (IGNORED.test(ch)) continue;
    out += EXTRA_FOLDS[ch] ?? ch;
  }
  return out;
}

export interface LineMatch {
  /** Index of the first and last glyph (inclusive) in the line. */
  first: number;
  last: number;
}

export function matchLine(line: TextLine, needle: string): LineMatch[] {
  let folded = '';
  const owner: number[] = [];
  line.forEach((g, i) => {
    const f = fold(g.text);
    folded += f;
    for (let k = 0; k < f.length; k++) owner.push(i);
  });
  const found: LineMatch[] = [];
  for (let at = folded.indexOf(needle); at >= 0; at = folded.indexOf(needle, at + needle.length)) {
    found.push({ first: owner[at]!, last: owner[at + needle.length - 1]! });
  }
  return found;
}
