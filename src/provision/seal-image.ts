/**
 * Demo seal images that seald draws itself, so a fresh install can seal without anyone supplying artwork.
 *
 * Two looks, both in seal red on a transparent background:
 * - the organisation seal (公章): a round seal with a thick outer ring, a thin inner ring, the name along the upper
 *   arc, a five-pointed star in the centre, "DEMO" under the star and a 13-digit seal code along the lower arc (the
 *   place where Chinese official seals carry theirs);
 * - the personal seal (私章 / 名章): a square seal with a border and four blocky glyphs in two columns.
 *
 * Everything is drawn from signed distances (analytic anti-aliasing: coverage = ½ − distance, clamped), so no image or
 * font library is needed. ASCII letters and digits come from a small built-in stroke font; any other character becomes
 * a made-up glyph of straight strokes, seeded by its code point, which reads as "text" at seal size.
 * The result is a PNG (RGBA, 8 bits per channel) written by the small encoder at the end of this file.
 */
import { crc32, deflateSync } from 'node:zlib';

export interface SealImageOptions {
  /** Width and height of the square image in pixels. */
  sizePx: number;
  /** Organisation or person the seal is drawn for. */
  name: string;
}

export const DEFAULT_ORGANIZATION_SEAL_SIZE_PX = 600;
export const DEFAULT_PERSONAL_SEAL_SIZE_PX = 300;

/** Seal red, close to the vermilion of printed Chinese e-seals. */
export const SEAL_RED = { r: 0xd9, g: 0x26, b: 0x1c } as const;

const MIN_SIZE_PX = 32;
const MAX_SIZE_PX = 4096;

export function drawOrganizationSeal(opts: SealImageOptions): Buffer {
  const size = checkedSize(opts.sizePx);
  const canvas = new CoverageCanvas(size, size);
  const c = size / 2;
  const s = size; // every length below is a fraction of the image size

  canvas.paint(ring(c, c, 0.437 * s, 0.49 * s));
  canvas.paint(ring(c, c, 0.404 * s, 0.412 * s));
  canvas.paint(star(c, c, 0.155 * s, 0.155 * s * STAR_INNER_RATIO));

  const strokeWidth = Math.max(1.5, 0.019 * s);
  drawTextOnArc(canvas, {
    text: displayName(opts.name),
    cx: c,
    cy: c,
    baselineRadius: 0.262 * s,
    capHeight: 0.112 * s,
    strokeWidth,
    centreDeg: 90,
    maxSpanDeg: 250,
    outward: true,
  });
  drawTextOnArc(canvas, {
    text: sealCode(opts.name),
    cx: c,
    cy: c,
    baselineRadius: 0.37 * s,
    capHeight: 0.036 * s,
    strokeWidth: Math.max(1, 0.0075 * s),
    centreDeg: 270,
    maxSpanDeg: 70,
    outward: false,
  });
  drawTextLine(canvas, { text: 'DEMO', cx: c, baselineY: c + 0.255 * s, capHeight: 0.06 * s, strokeWidth: 0.013 * s });

  return encodePng(size, size, canvas.toRgba(SEAL_RED));
}

export function drawPersonalSeal(opts: SealImageOptions): Buffer {
  const size = checkedSize(opts.sizePx);
  const canvas = new CoverageCanvas(size, size);
  const s = size;

  const margin = 0.03 * s;
  const border = 0.075 * s;
  canvas.paint(roundedFrame(margin, margin, s - margin, s - margin, border, 0.06 * s));

  // Two columns of two glyphs, read top to bottom, right column first, as traditional seals are.
  const inner0 = margin + border + 0.045 * s;
  const inner1 = s - inner0;
  const gap = 0.05 * s;
  const cell = (inner1 - inner0 - gap) / 2;
  const glyphs = personalSealGlyphs(opts.name);
  const stroke = 0.034 * s;
  const cells: [number, number][] = [
    [inner0 + cell + gap, inner0],
    [inner0 + cell + gap, inner0 + cell + gap],
    [inner0, inner0],
    [inner0, inner0 + cell + gap],
  ];
  cells.forEach(([x, y], i) => {
    for (const stroke2 of pseudoGlyph(glyphs[i]!)) {
      const [a, b] = stroke2;
      // Glyph cells use y up in [0, 1]; the image has y down.
      canvas.paint(
        segment(x + a[0] * cell, y + (1 - a[1]) * cell, x + b[0] * cell, y + (1 - b[1]) * cell, stroke / 2, 'square'),
      );
    }
  });

  return encodePng(size, size, canvas.toRgba(SEAL_RED));
}

function checkedSize(sizePx: number): number {
  if (!Number.isInteger(sizePx) || sizePx < MIN_SIZE_PX || sizePx > MAX_SIZE_PX) {
    throw new RangeError(`seal image size must be an integer from ${MIN_SIZE_PX} to ${MAX_SIZE_PX} px, got ${sizePx}`);
  }
  return sizePx;
}

function displayName(name: string): string {
  const trimmed = name.trim().replace(/\s+/g, ' ');
  return (trimmed === '' ? 'SEALD' : trimmed).toUpperCase();
}

/** Thirteen digits derived from the name: the look of the code on a Chinese official seal, not a real one. */
function sealCode(name: string): string {
  let h = fnv1a(name);
  let digits = '';
  for (let i = 0; i < 13; i++) {
    h = xorshift32(h);
    digits += String(h % 10);
  }
  return digits;
}

/** The four characters of a personal seal: the name's own, padded with its hash, e.g. 张三 → 张三之印 in spirit. */
function personalSealGlyphs(name: string): number[] {
  const points = [...name.trim()].filter((ch) => ch.trim() !== '').map((ch) => ch.codePointAt(0)!);
  const seeds = points.slice(0, 4);
  let h = fnv1a(name);
  while (seeds.length < 4) {
    h = xorshift32(h);
    seeds.push(h);
  }
  return seeds;
}

// ---------------------------------------------------------------------------------------------------------------
// Text: a stroke font for ASCII and made-up glyphs for everything else
// ---------------------------------------------------------------------------------------------------------------

type Point = readonly [number, number];
type Polyline = Point[];

/**
 * Stroke glyphs on a 4 × 6 grid, y up, baseline at 0. Polylines are separated by ';', points by spaces.
 */
const STROKE_FONT: Record<string, string> = {
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

const ASCII_GLYPH_WIDTH = 4;
const PSEUDO_GLYPH_WIDTH = 6;
const GLYPH_HEIGHT = 6;

interface Glyph {
  width: number; // in grid units
  strokes: Polyline[];
}

const parsedGlyphs = new Map<string, Glyph>();

function glyphFor(ch: string): Glyph {
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

interface ArcText {
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
function drawTextOnArc(canvas: CoverageCanvas, t: ArcText): void {
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

function drawTextLine(
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

function paintPolyline(canvas: CoverageCanvas, pts: Point[], halfWidth: number): void {
  for (let i = 0; i + 1 < pts.length; i++) {
    const [a, b] = [pts[i]!, pts[i + 1]!];
    canvas.paint(segment(a[0], a[1], b[0], b[1], halfWidth, 'round'));
  }
}

type UnitStroke = readonly [Point, Point];

/**
 * A made-up glyph of horizontal and vertical strokes in the unit cell (y up), seeded by `seed`. It combines one or two
 * components the way many Han characters do (左右 or 上下 structure), each a comb, a box or a frame.
 */
function pseudoGlyph(seed: number): UnitStroke[] {
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

// ---------------------------------------------------------------------------------------------------------------
// Shapes as signed distances, painted into a coverage mask
// ---------------------------------------------------------------------------------------------------------------

interface Shape {
  /** Pixel bounds to visit, inclusive of the anti-aliasing fringe. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Signed distance in pixels from a point to the shape's edge: negative inside. */
  distance(x: number, y: number): number;
}

/** Coverage (0..1) per pixel; shapes are combined by union (max). */
class CoverageCanvas {
  readonly coverage: Float32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.coverage = new Float32Array(width * height);
  }

  paint(shape: Shape): void {
    const x0 = Math.max(0, Math.floor(shape.x0 - 1));
    const y0 = Math.max(0, Math.floor(shape.y0 - 1));
    const x1 = Math.min(this.width - 1, Math.ceil(shape.x1 + 1));
    const y1 = Math.min(this.height - 1, Math.ceil(shape.y1 + 1));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        // A pixel is covered by how much of its unit square lies inside: ½ − distance is exact for a straight edge.
        const cov = 0.5 - shape.distance(x + 0.5, y + 0.5);
        if (cov <= 0) continue;
        const i = y * this.width + x;
        const c = cov >= 1 ? 1 : cov;
        if (c > this.coverage[i]!) this.coverage[i] = c;
      }
    }
  }

  /**
   * Straight (not premultiplied) RGBA. Transparent pixels keep the seal colour too, so a viewer that interpolates
   * colour and alpha separately does not draw a dark fringe round the edges.
   */
  toRgba(color: { r: number; g: number; b: number }): Uint8Array {
    const out = new Uint8Array(this.width * this.height * 4);
    for (let i = 0; i < this.coverage.length; i++) {
      out[i * 4] = color.r;
      out[i * 4 + 1] = color.g;
      out[i * 4 + 2] = color.b;
      out[i * 4 + 3] = Math.round(this.coverage[i]! * 255);
    }
    return out;
  }
}

function ring(cx: number, cy: number, rInner: number, rOuter: number): Shape {
  return {
    x0: cx - rOuter,
    y0: cy - rOuter,
    x1: cx + rOuter,
    y1: cy + rOuter,
    distance: (x, y) => {
      const d = Math.hypot(x - cx, y - cy);
      return Math.max(d - rOuter, rInner - d);
    },
  };
}

/** Capsule ('round') or flat-ended ('square', extended by the half width) stroke from (ax, ay) to (bx, by). */
function segment(ax: number, ay: number, bx: number, by: number, halfWidth: number, cap: 'round' | 'square'): Shape {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const len = Math.sqrt(len2);
  return {
    x0: Math.min(ax, bx) - halfWidth * 1.5,
    y0: Math.min(ay, by) - halfWidth * 1.5,
    x1: Math.max(ax, bx) + halfWidth * 1.5,
    y1: Math.max(ay, by) + halfWidth * 1.5,
    distance:
      cap === 'round' || len === 0
        ? (x, y) => {
            const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len2));
            return Math.hypot(x - (ax + t * dx), y - (ay + t * dy)) - halfWidth;
          }
        : (x, y) => {
            // Box distance in the stroke's own frame: u along, w across.
            const u = Math.abs(((x - ax) * dx + (y - ay) * dy) / len - len / 2) - (len / 2 + halfWidth);
            const w = Math.abs(((x - ax) * dy - (y - ay) * dx) / len) - halfWidth;
            return Math.max(u, w) > 0 ? Math.hypot(Math.max(u, 0), Math.max(w, 0)) : Math.max(u, w);
          },
  };
}

/** The frame between a rounded rectangle and the same one shrunk by `thickness`. */
function roundedFrame(x0: number, y0: number, x1: number, y1: number, thickness: number, radius: number): Shape {
  const box = (x: number, y: number, inset: number, r: number): number => {
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const hx = (x1 - x0) / 2 - inset - r;
    const hy = (y1 - y0) / 2 - inset - r;
    const qx = Math.abs(x - cx) - hx;
    const qy = Math.abs(y - cy) - hy;
    return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
  };
  const innerRadius = Math.max(radius - thickness, radius * 0.25);
  return { x0, y0, x1, y1, distance: (x, y) => Math.max(box(x, y, 0, radius), -box(x, y, thickness, innerRadius)) };
}

/** Inner/outer radius of a regular pentagram's outline: sin 18° / sin 54°. */
const STAR_INNER_RATIO = Math.sin(Math.PI / 10) / Math.sin((3 * Math.PI) / 10);

/** Five-pointed star, one point straight up. */
function star(cx: number, cy: number, rOuter: number, rInner: number): Shape {
  const pts: Point[] = [];
  for (let i = 0; i < 10; i++) {
    const r = i % 2 === 0 ? rOuter : rInner;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    pts.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
  }
  return polygon(pts);
}

function polygon(pts: Point[]): Shape {
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  return {
    x0: Math.min(...xs),
    y0: Math.min(...ys),
    x1: Math.max(...xs),
    y1: Math.max(...ys),
    distance: (x, y) => {
      let best = Infinity;
      let inside = false;
      for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
        const [ax, ay] = pts[j]!;
        const [bx, by] = pts[i]!;
        const dx = bx - ax;
        const dy = by - ay;
        const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
        best = Math.min(best, Math.hypot(x - (ax + t * dx), y - (ay + t * dy)));
        if (ay > y !== by > y && x < ax + ((y - ay) * dx) / dy) inside = !inside; // even-odd crossing test
      }
      return inside ? -best : best;
    },
  };
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h || 1;
}

function xorshift32(x: number): number {
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0 || 1;
}

// ---------------------------------------------------------------------------------------------------------------
// PNG encoder (ISO/IEC 15948 / PNG 3rd edition): signature, IHDR, one IDAT, IEND
// ---------------------------------------------------------------------------------------------------------------

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Encodes 8-bit straight RGBA as a PNG (colour type 6). Each scanline uses filter type 1 (Sub). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (rgba.length !== width * height * 4) throw new RangeError('encodePng: pixel buffer size does not match');
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: truecolour with alpha
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace

  const stride = width * 4;
  const filtered = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const out = y * (stride + 1);
    filtered[out] = 1; // Sub: each byte minus the byte of the pixel to its left
    for (let i = 0; i < stride; i++) {
      const left = i >= 4 ? rgba[row + i - 4]! : 0;
      filtered[out + 1 + i] = (rgba[row + i]! - left) & 0xff;
    }
  }

  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(filtered, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  // The CRC covers the chunk type and data, not the length.
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}
