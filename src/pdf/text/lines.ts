/**
 * Glyphs → text lines in reading order. A glyph continues a line when it runs the same way, sits on the same
 * baseline (within 0.35 em across it) and starts where the line ends: not more than 3 em after it (a wider gap is a
 * column or a form field apart), and not back over it. Text drawn twice a hair apart for a bold look (common in
 * Chinese contracts) is kept once. Lines are followed across show operators and across interleaved drawing: a glyph
 * may continue any of the last few lines, not only the latest, and pieces drawn in the wrong order are joined.
 */
import type { PlacedGlyph } from './interpreter.ts';

export type TextLine = PlacedGlyph[];

const SAME_DIRECTION = 0.96;
const BASELINE_TOLERANCE = 0.35;
const MAX_GAP = 3;
const MAX_OVERLAP = 0.25;
const DUPLICATE_DISTANCE = 0.2;
const OPEN_LINES = 8;
const DUPLICATE_WINDOW = 64;

function onBaseline(p: PlacedGlyph, g: PlacedGlyph): boolean {
  if (p.dx * g.dx + p.dy * g.dy < SAME_DIRECTION) return false;
  const size = Math.max(p.size, g.size);
  const rx = g.ox - p.ox;
  const ry = g.oy - p.oy;
  return Math.abs(-rx * p.dy + ry * p.dx) <= BASELINE_TOLERANCE * size;
}

function continues(p: PlacedGlyph, g: PlacedGlyph): boolean {
  if (!onBaseline(p, g)) return false;
  const size = Math.max(p.size, g.size);
  const gap = (g.ox - p.ox) * p.dx + (g.oy - p.oy) * p.dy - p.advance;
  return gap <= MAX_GAP * size && gap >= -MAX_OVERLAP * size;
}

function isDuplicate(line: TextLine, g: PlacedGlyph): boolean {
  for (let i = line.length - 1; i >= Math.max(0, line.length - DUPLICATE_WINDOW); i--) {
    const p = line[i]!;
    if (p.text === g.text && Math.hypot(p.ox - g.ox, p.oy - g.oy) < DUPLICATE_DISTANCE * Math.max(p.size, g.size)) return true;
  }
  return false;
}

export function buildLines(glyphs: readonly PlacedGlyph[]): TextLine[] {
  const lines: TextLine[] = [];
  const open: TextLine[] = [];
  for (const g of glyphs) {
    if (!(g.size > 0)) continue;
    if (open.some((line) => onBaseline(line[line.length - 1]!, g) && isDuplicate(line, g))) continue;
    const at = open.findIndex((line) => continues(line[line.length - 1]!, g));
    if (at >= 0) {
      const line = open[at]!;
      line.push(g);
      open.splice(at, 1);
      open.unshift(line);
      continue;
    }
    const line = [g];
    lines.push(line);
    open.unshift(line);
    if (open.length > OPEN_LINES) open.pop();
  }
  return joinPieces(lines);
}

/**
 * Pieces of one line drawn out of order (the end first, or with other text between them) are joined: lines are
 * sorted by direction, baseline and position along it, and neighbours where one starts where the other ends merge.
 */
function joinPieces(lines: TextLine[]): TextLine[] {
  const keyed = lines.map((line) => {
    const g = line[0]!;
    return {
      line,
      angle: Math.round((Math.atan2(g.dy, g.dx) * 180) / Math.PI),
      across: -g.ox * g.dy + g.oy * g.dx,
      along: g.ox * g.dx + g.oy * g.dy,
    };
  });
  keyed.sort((a, b) => a.angle - b.angle || a.across - b.across || a.along - b.along);
  const out: TextLine[] = [];
  let current: TextLine | undefined;
  for (const { line } of keyed) {
    if (current && continues(current[current.length - 1]!, line[0]!)) current.push(...line);
    else {
      current = [...line];
      out.push(current);
    }
  }
  return out;
}
