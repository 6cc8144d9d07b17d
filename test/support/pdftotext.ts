/**
 * Where poppler sees text: `pdftotext -bbox-layout -cropbox` word boxes, turned into seald's coordinates (points
 * from the lower-left corner of the displayed page, CropBox and /Rotate applied), and the boxes of a keyword found in
 * them. An independent second opinion for src/pdf/text: nothing here uses seald's code.
 *
 * poppler reports boxes from the top-left corner of the displayed page, but its <page> width and height are those of
 * the unrotated crop box; the page's /Rotate (from pdfinfo) says which of the two is the displayed height.
 */
import { runOk } from './run.ts';

export interface PopplerWord {
  text: string;
  /** Displayed coordinates, origin at the lower left. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface PopplerPage {
  /** Displayed size. */
  width: number;
  height: number;
  rotate: number;
  lines: PopplerWord[][];
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

async function pageRotation(file: string, page: number): Promise<number> {
  const { stdout } = await runOk('pdfinfo', ['-f', String(page), '-l', String(page), file]);
  const m = new RegExp(`Page\\s+${page} rot:\\s+(\\d+)`).exec(stdout.toString('utf8'));
  return m ? Number(m[1]) % 360 : 0;
}

export async function popplerPage(file: string, page: number): Promise<PopplerPage> {
  const [{ stdout }, rotate] = await Promise.all([
    runOk('pdftotext', ['-bbox-layout', '-cropbox', '-enc', 'UTF-8', '-f', String(page), '-l', String(page), file, '-']),
    pageRotation(file, page),
  ]);
  const xml = stdout.toString('utf8');
  const size = /<page width="([\d.]+)" height="([\d.]+)"/.exec(xml);
  if (!size) throw new Error(`pdftotext printed no page for page ${page} of ${file}`);
  const quarter = rotate === 90 || rotate === 270;
  const width = quarter ? Number(size[2]) : Number(size[1]);
  const height = quarter ? Number(size[1]) : Number(size[2]);
  const lines: PopplerWord[][] = [];
  for (const lineXml of xml.split('<line ').slice(1)) {
    const words: PopplerWord[] = [];
    const re = /<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)<\/word>/g;
    for (let m = re.exec(lineXml); m; m = re.exec(lineXml)) {
      words.push({
        text: unescapeXml(m[5]!),
        x0: Number(m[1]),
        x1: Number(m[3]),
        y0: height - Number(m[4]),
        y1: height - Number(m[2]),
      });
    }
    if (words.length) lines.push(words);
  }
  return { width, height, rotate, lines };
}

export interface PopplerBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** NFKC without white space: the comparison the keyword rules promise (docs/placement-keyword.md). */
function plain(s: string): string {
  return s.normalize('NFKC').replace(/\s/gu, '');
}

/**
 * The boxes of every occurrence of `needle` on the page, by poppler's words. A match that covers part of a word gets
 * that part of the word's box in proportion to the characters (exact for CJK and monospaced text, which is what the
 * fixtures use). Horizontal text only: poppler lays vertical words out differently (see the vertical-writing test).
 */
export async function popplerKeywordBoxes(file: string, page: number, needle: string): Promise<PopplerBox[]> {
  const { lines } = await popplerPage(file, page);
  const want = [...plain(needle)];
  const boxes: PopplerBox[] = [];
  for (const words of lines) {
    const chars: { ch: string; word: PopplerWord; index: number; count: number }[] = [];
    for (const word of words) {
      const wchars = [...plain(word.text)];
      wchars.forEach((ch, index) => chars.push({ ch, word, index, count: wchars.length }));
    }
    for (let i = 0; i + want.length <= chars.length; ) {
      if (!want.every((ch, k) => chars[i + k]!.ch === ch)) {
        i++;
        continue;
      }
      const first = chars[i]!;
      const last = chars[i + want.length - 1]!;
      const covered = new Set(chars.slice(i, i + want.length).map((c) => c.word));
      const xStart = first.word.x0 + ((first.word.x1 - first.word.x0) * first.index) / first.count;
      const xEnd = last.word.x0 + ((last.word.x1 - last.word.x0) * (last.index + 1)) / last.count;
      const y0 = Math.min(...[...covered].map((w) => w.y0));
      const y1 = Math.max(...[...covered].map((w) => w.y1));
      boxes.push({ x: xStart, y: y0, width: xEnd - xStart, height: y1 - y0 });
      i += want.length;
    }
  }
  return boxes;
}
