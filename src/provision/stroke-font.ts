/** Text for the demo seals: a stroke font for ASCII and made-up glyphs of straight strokes for everything else. */
import { CoverageCanvas, segment, xorshift32, type Point } from './raster.ts';
export type Polyline = Point[];

/**
 * Stroke glyphs on a 4 × 6 grid, y up, baseline at 0. Polylines are separated by ';', points by spaces.
 */
export const STROKE_FONT: Record<string, string> = {
  A: '0,0 0,4 2,6 4,4 4,0; 0,3 4,3',
  B: '0,0 0,6 3,6 4,5 4,4 3,3 0,3; 3,3 4,2 4,1 3,0 0,0',
  C: '4,5 3,6 1,6 0,5 0,1 1,0 3,0 4,1',
  D: '0,0 0,6 2,6 4,4 4,2 2,0 0,0',
  E: '4,6 0,6 0,0 4,0; 0,3 3,3',
  F: '4,6 0,6 0,0; 0,3 3,3',
  G: '4,5 3,6 1,6 0,5 0,1 1,0 3,0 4,1 4,3 2,3',
  H: '0,0 0,6; 4,0 4,6; 0,3 4,3',
  I: '1,6 3,6; 2,6 2,0; 1,0 3,0',
  J: '4,6 4,1 3,0 1,0 0,1',
  K: '0,0 0,6; 4,6 0,2; 1,3 4,0',
  L: '0,6 0,0 4,0',
  M: '0,0 0,6 2,3 4,6 4,0',
  N: '0,0 0,6 4,0 4,6',
  O: '1,0 0,1 0,5 1,6 3,6 4,5 4,1 3,0 1,0',
  P: '0,0 0,6 3,6 4,5 4,4 3,3 0,3',
  Q: '1,0 0,1 0,5 1,6 3,6 4,5 4,1 3,0 1,0; 2,2 4,0',
  R: '0,0 0,6 3,6 4,5 4,4 3,3 0,3; 2,3 4,0',
  S: '4,5 3,6 1,6 0,5 0,4 1,3 3,3 4,2 4,1 3,0 1,0 0,1',
  T: '0,6 4,6; 2,6 2,0',
  U: '0,6 0,1 1,0 3,0 4,1 4,6',
  V: '0,6 2,0 4,6',
  W: '0,6 1,0 2,4 3,0 4,6',
  X: '0,0 4,6; 0,6 4,0',
  Y: '0,6 2,3 4,6; 2,3 2,0',
  Z: '0,6 4,6 0,0 4,0',
  '0': '1,0 0,1 0,5 1,6 3,6 4,5 4,1 3,0 1,0; 3.5,5 0.5,1',
  '1': '1,5 2,6 2,0; 1,0 3,0',
  '2': '0,5 1,6 3,6 4,5 4,4 0,0 4,0',
  '3': '0,5 1,6 3,6 4,5 4,4 3,3 4,2 4,1 3,0 1,0 0,1; 1,3 3,3',
  '4': '3,0 3,6 0,2 4,2',
  '5': '4,6 0,6 0,3 3,3 4,2 4,1 3,0 0,0',
  '6': '4,5 3,6 1,6 0,5 0,1 1,0 3,0 4,1 4,2 3,3 0,3',
  '7': '0,6 4,6 1,0',
  '8': '1,3 0,4 0,5 1,6 3,6 4,5 4,4 3,3 1,3 0,2 0,1 1,0 3,0 4,1 4,2 3,3',
  '9': '0,1 1,0 3,0 4,1 4,5 3,6 1,6 0,5 0,4 1,3 4,3',
  '&': '4,0 0,5 1,6 2,6 3,5 0,2 0,1 1,0 2,0 4,2',
  '.': '2,0 2,0.01',
  ',': '2,0.6 1.4,-0.6',
  '-': '1,3 3,3',
  "'": '2,6 2,4.5',
  '/': '0,0 4,6',
  '(': '3,6 2,5 2,1 3,0',
  ')': '1,6 2,5 2,1 1,0',
  '+': '2,1 2,5; 0,3 4,3',
};

export const ASCII_GLYPH_WIDTH = 4;
export const PSEUDO_GLYPH_WIDTH = 6;
export const GLYPH_HEIGHT = 6;

export interface Glyph {
  width: number; // in grid units
  strokes: Polyline[];
}

export const parsedGlyphs = new Map<string, Glyph>();

export function glyphFor(ch: string): Glyph {
  const cached = parsedGlyphs.get(ch);
  if (cached) return cached;
  let glyph: Glyph;
  const def = STROKE_FONT[ch];
  if (ch === ' ') {
    glyph = { width: ASCII_GLYPH_WIDTH * 0.6, strokes: [] };
  } else if (def !== undefined) {
    glyph = {
      width: ASCII_GLYPH_WIDTH,
      strokes: def.split(';').map((line) =>
        line
          .trim()
          .split(/\s+/)
          .map((pt) => {
            const [x, y] = pt.split(',').map(Number);
            return [x!, y!] as const;
          }),
      ),
    };
  } else {
    // Square made-up glyph, scaled from the unit cell to the 6 × 6 grid.
    glyph = {
      width: PSEUDO_GLYPH_WIDTH,
      strokes: pseudoGlyph(ch.codePointAt(0)!).map(([a, b]) => [
        [a[0] * PSEUDO_GLYPH_WIDTH, a[1] * GLYPH_HEIGHT],
        [b[0] * PSEUDO_GLYPH_WIDTH, b[1] * GLYPH_HEIGHT],
      ]),
    };
  }
  parsedGlyphs.set(ch, glyph);
  return glyph;
}

export interface ArcText {
  text: string;
  cx: number;
  cy: number;
  /** Radius of the glyphs' baseline: inside the tops (outward text) or outside them (inward text). */
  baselineRadius: number;
  capHeight: number;
  strokeWidth: number;
  /** Where the middle of the text sits, in degrees counter-clockwise from 3 o'clock. */
  centreDeg: number;
  maxSpanDeg: number;
  /** true: tops point away from the centre, read clockwise (upper arc); false: tops point inwards (lower arc). */
  outward: boolean;
}

/** Lays text along an arc, each glyph upright to the radius; glyphs are condensed when the text would not fit. */
export function drawTextOnArc(canvas: CoverageCanvas, t: ArcText): void {
  const glyphs = [...t.text].map(glyphFor);
  if (glyphs.length === 0) return;
  const unit = t.capHeight / GLYPH_HEIGHT;
  const tracking = 1.6; // grid units between glyphs
  const midRadius = t.outward ? t.baselineRadius + t.capHeight / 2 : t.baselineRadius - t.capHeight / 2;
  const naturalLength = (glyphs.reduce((sum, g) => sum + g.width, 0) + tracking * (glyphs.length - 1)) * unit;
  const maxLength = (t.maxSpanDeg * Math.PI * midRadius) / 180;
  const condense = Math.min(1, maxLength / naturalLength);
  const length = naturalLength * condense;
  // Condensed glyphs need thinner strokes, or their counters fill in.
  const halfStroke = Math.min(t.strokeWidth, ASCII_GLYPH_WIDTH * unit * condense * 0.22) / 2;

  // Arc position runs left to right as read: clockwise on the upper arc, counter-clockwise on the lower.
  const dir = t.outward ? -1 : 1;
  const centre = (t.centreDeg * Math.PI) / 180;
  let along = -length / 2;
  for (const g of glyphs) {
    const w = g.width * unit * condense;
    const theta = centre + (dir * (along + w / 2)) / midRadius;
    const radial: Point = [Math.cos(theta), Math.sin(theta)];
    const up: Point = t.outward ? radial : [-radial[0], -radial[1]];
    const right: Point = [up[1], -up[0]]; // up rotated a quarter turn clockwise
    const origin: Point = [radial[0] * t.baselineRadius, radial[1] * t.baselineRadius];
    for (const line of g.strokes) {
      const pts = line.map(([gx, gy]): Point => {
        const lx = (gx - g.width / 2) * unit * condense;
        const ly = gy * unit;
        const mx = origin[0] + right[0] * lx + up[0] * ly;
        const my = origin[1] + right[1] * lx + up[1] * ly;
        return [t.cx + mx, t.cy - my]; // maths y up → image y down
      });
      paintPolyline(canvas, pts, halfStroke);
    }
    along += w + tracking * unit * condense;
  }
}

export function drawTextLine(
  canvas: CoverageCanvas,
  t: { text: string; cx: number; baselineY: number; capHeight: number; strokeWidth: number },
): void {
  const glyphs = [...t.text].map(glyphFor);
  const unit = t.capHeight / GLYPH_HEIGHT;
  const tracking = 1.8;
  const total = (glyphs.reduce((sum, g) => sum + g.width, 0) + tracking * (glyphs.length - 1)) * unit;
  let x = t.cx - total / 2;
  for (const g of glyphs) {
    for (const line of g.strokes) {
      paintPolyline(
        canvas,
        line.map(([gx, gy]): Point => [x + gx * unit, t.baselineY - gy * unit]),
        t.strokeWidth / 2,
      );
    }
    x += (g.width + tracking) * unit;
  }
}

export function paintPolyline(canvas: CoverageCanvas, pts: Point[], halfWidth: number): void {
  for (let i = 0; i + 1 < pts.length; i++) {
    const [a, b] = [pts[i]!, pts[i + 1]!];
    canvas.paint(segment(a[0], a[1], b[0], b[1], halfWidth, 'round'));
  }
}

export type UnitStroke = readonly [Point, Point];

/**
 * A made-up glyph of horizontal and vertical strokes in the unit cell (y up), seeded by `seed`. It combines one or two
 * components the way many Han characters do (左右 or 上下 structure), each a comb, a box or a frame.
 */
export function pseudoGlyph(seed: number): UnitStroke[] {
  let state = xorshift32((seed * 2654435761) >>> 0 || 1);
  const rand = (): number => {
    state = xorshift32(state);
    return state / 0x1_0000_0000;
  };
  const pick = (n: number): number => Math.floor(rand() * n);
  const strokes: UnitStroke[] = [];
  // prettier-ignore
  const h = (x0: number, x1: number, y: number): void => void strokes.push([[x0, y], [x1, y]]);
  // prettier-ignore
  const v = (x: number, y0: number, y1: number): void => void strokes.push([[x, y0], [x, y1]]);

  const component = (x0: number, y0: number, x1: number, y1: number): void => {
    const w = x1 - x0;
    const ht = y1 - y0;
    switch (pick(4)) {
      case 0: {
        // comb: 王 / 丰 (bars at least 0.2 of the cell apart, or they run together)
        const n = Math.min(2 + pick(2), 1 + Math.floor(ht / 0.2));
        for (let i = 0; i < n; i++) h(x0, x1, y0 + (ht * i) / (n - 1));
        v(x0 + w / 2, y0, y1);
        break;
      }
      case 1: {
        // box with a bar: 日 / 目
        h(x0, x1, y0);
        h(x0, x1, y1);
        v(x0, y0, y1);
        v(x1, y0, y1);
        const n = Math.min(1 + pick(2), Math.max(0, Math.floor(ht / 0.2) - 1));
        for (let i = 1; i <= n; i++) h(x0, x1, y0 + (ht * i) / (n + 1));
        break;
      }
      case 2: {
        // open frame: 冂 with an inner stroke
        h(x0, x1, y1);
        v(x0, y0, y1);
        v(x1, y0, y1);
        h(x0 + w * 0.3, x1 - w * 0.3, y0 + ht * 0.5);
        v(x0 + w / 2, y0, y0 + ht * 0.5);
        break;
      }
      default: {
        // posts: 山 / 皿
        const n = 2 + pick(2);
        for (let i = 0; i < n; i++) v(x0 + (w * i) / (n - 1), y0, y1 - (i % 2 === 0 ? 0 : ht * 0.3));
        h(x0, x1, y0);
        break;
      }
    }
  };

  const lo = 0.08;
  const hi = 0.92;
  switch (pick(3)) {
    case 0:
      component(lo, lo, hi, hi);
      break;
    case 1: {
      const split = 0.4 + rand() * 0.15;
      component(lo, lo, split - 0.06, hi);
      component(split + 0.06, lo, hi, hi);
      break;
    }
    default: {
      const split = 0.4 + rand() * 0.2;
      component(lo, lo, hi, split - 0.06);
      component(lo, split + 0.06, hi, hi);
      break;
    }
  }
  return strokes;
}

