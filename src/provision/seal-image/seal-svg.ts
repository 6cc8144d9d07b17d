/**
 * Seals drawn the way people expect them, as one-colour vector outlines in SVG (paths only, every path filled with
 * seal red, nonzero winding: the subset src/pdf/svg-seal.ts reads back into a PDF appearance):
 * - an organisation seal (公章 and the special-purpose seals, 合同专用章 …): a round seal with a thick ring, the
 *   organisation's name along the upper arc with each character upright towards the rim, a five-pointed star in the
 *   centre, the kind's label under the star, and the 13-digit seal code along the lower arc;
 * - an invoice seal (发票专用章): an oval, the taxpayer's name along its upper edge, the taxpayer identification number
 *   across the middle and 发票专用章 below it (invoiceSealSvg);
 * - a personal seal (名章) and a legal representative's seal (法定代表人章): a square frame with the name filling it,
 *   read in columns from the right, padded with 之印 / 印 as such seals are.
 *
 * Coordinates: a 2000 × 2000 viewBox, y down, integers (0.02 mm on a 42 mm seal). Each glyph keeps the font's own
 * outline in font units and is placed by a `transform="matrix(…)"`: repeated characters repeat the same path data,
 * which the PDF's Flate compression then stores once.
 */

/** A filled outline, placed by `transform` when it is in other units (a glyph in font units). */
interface Shape {
  path: readonly Segment[];
  transform?: Matrix;
}
import { multiply, pathBounds, toPathData, type Matrix, type Segment } from '../../pdf/vector-path.ts';
import { SealdError } from '../../errors.ts';
import type { GlyphSource } from './glyphs.ts';

export const SEAL_KINDS = ['official', 'contract', 'finance', 'invoice', 'legal-representative', 'personal'] as const;
export type SealImageKind = (typeof SEAL_KINDS)[number];

/** Seal red, close to the vermilion of printed Chinese e-seals. */
export const SEAL_RED = { r: 0xd9, g: 0x26, b: 0x1c } as const;
const FILL = '#d9261c';
const S = 2000;

/** The label under the star of a special-purpose seal (none on a plain 公章). */
export const KIND_LABELS: Record<SealImageKind, string> = {
  official: '',
  contract: '合同专用章',
  finance: '财务专用章',
  invoice: '发票专用章',
  'legal-representative': '',
  personal: '',
};

export interface OrganizationSealSpec {
  name: string;
  /** Digits along the lower arc (e.g. the 13-digit code of a Chinese official seal); empty for none. */
  code: string;
  kind: SealImageKind;
}

export function organizationSealSvg(spec: OrganizationSealSpec, glyphs: GlyphSource): string {
  const c = S / 2;
  // The ring reaches to 0.4 % of the edge: a cross-page seal's outer strips then show red up to the page edge.
  const [outer, inner] = [0.496 * S, 0.461 * S];
  const shapes: Shape[] = [{ path: ring(c, c, outer, inner) }, { path: star(c, c, 0.175 * S) }];
  const name = [...spec.name.trim()].filter((ch) => ch.trim() !== '');
  if (name.length === 0) throw new SealdError('invalid-input', 'BAD_SEAL_NAME', 'the seal needs a name');
  // The name: characters upright towards the rim, evenly spread over at most 240° of the upper arc.
  const h = 0.165 * S;
  const r = inner - 0.025 * S - h / 2;
  const natural = (h * 1.02) / r;
  const pitch = Math.min(natural * 1.25, ((240 / 180) * Math.PI) / name.length);
  const w = Math.min(0.82 * h, pitch * r * 0.94);
  name.forEach((ch, i) => {
    const theta = Math.PI / 2 + (pitch * name.length) / 2 - (i + 0.5) * pitch;
    shapes.push(placeGlyph(glyphs, ch, c + r * Math.cos(theta), c - r * Math.sin(theta), w, h, Math.PI / 2 - theta));
  });
  // The code: small digits along the lower arc, read left to right, their feet towards the rim.
  const code = [...spec.code.trim()];
  if (code.length > 0) {
    const hc = 0.05 * S;
    const rc = inner - 0.02 * S - hc / 2;
    const wc = hc * 0.62;
    const pc = Math.min((wc * 1.25) / rc, ((100 / 180) * Math.PI) / code.length);
    code.forEach((ch, i) => {
      const theta = (3 * Math.PI) / 2 - (pc * code.length) / 2 + (i + 0.5) * pc;
      shapes.push(placeGlyph(glyphs, ch, c + rc * Math.cos(theta), c - rc * Math.sin(theta), wc, hc, (3 * Math.PI) / 2 - theta));
    });
  }
  const label = [...KIND_LABELS[spec.kind]];
  const hl = 0.085 * S;
  const wl = hl * 0.9;
  label.forEach((ch, i) => {
    shapes.push(placeGlyph(glyphs, ch, c + (i - (label.length - 1) / 2) * wl * 1.08, c + 0.27 * S, wl, hl, 0));
  });
  return svg(shapes, 2, 0.007 * S);
}

/**
 * The invoice seal as the State Taxation Administration's notice on its pattern describes it (国家税务总局公告 2011 年
 * 第 7 号, 发票专用章式样): an oval with a 40 mm long and 30 mm short axis and a 1 mm border; the taxpayer's name
 * along the upper edge, left to right, 4.2 mm high; the taxpayer identification number across the middle, 3.7 mm high
 * and 1.3 mm wide a character; 发票专用章 under it, 4.6 mm high and 3 mm wide; no star. The viewBox is 2000 × 1500
 * (50 units a millimetre).
 */
export function invoiceSealSvg(spec: { name: string; code: string }, glyphs: GlyphSource): string {
  const mm = S / 40;
  const [cx, cy] = [S / 2, (S * 3) / 8];
  // As the round seal's ring, the border reaches to 0.4 % of the edge.
  const [rx, ry] = [0.496 * S, 0.496 * ((S * 3) / 4)];
  const border = 1 * mm;
  const shapes: Shape[] = [{ path: ellipseRing(cx, cy, rx, ry, border) }];
  const name = [...spec.name.trim()].filter((ch) => ch.trim() !== '');
  if (name.length === 0) throw new SealdError('invalid-input', 'BAD_SEAL_NAME', 'the seal needs a name');
  // The name: on an ellipse inside the border, spread evenly by arc length over at most 210° of the upper edge (its
  // ends beside the number's row).
  const h = 4.2 * mm;
  const [a, b] = [rx - border - 1 * mm - h / 2, ry - border - 1 * mm - h / 2];
  const span = (105 / 180) * Math.PI;
  const arc = ellipseArc(a, b, Math.PI / 2 - span, Math.PI / 2 + span);
  const pitch = Math.min(h * 1.05, arc.length / name.length);
  name.forEach((ch, i) => {
    // Left to right: the first character furthest along the arc (the larger parameter is further left).
    const t = arc.parameterAt(arc.length / 2 + (pitch * name.length) / 2 - (i + 0.5) * pitch);
    const up = Math.atan2(a * Math.sin(t), b * Math.cos(t)); // the ellipse's outward normal, y up
    // Where the oval bends hard (its ends), the characters' inner sides sit on a tighter curve: narrow them so that
    // neighbours do not touch there (radius of curvature (a² sin² t + b² cos² t)^{3/2} / ab).
    const bend = Math.pow(a * a * Math.sin(t) ** 2 + b * b * Math.cos(t) ** 2, 1.5) / (a * b);
    const w = Math.min(0.82 * h, pitch * 0.92 * Math.max(0.5, (bend - h / 2) / bend));
    shapes.push(placeGlyph(glyphs, ch, cx + a * Math.cos(t), cy - b * Math.sin(t), w, h, Math.PI / 2 - up));
  });
  // The identification number: narrow characters across the middle.
  const code = [...spec.code.trim()];
  if (code.length > 0) {
    const pc = Math.min(1.4 * mm, (2 * (rx - border) - 12 * mm) / code.length);
    const wc = Math.min(1.3 * mm, pc * 0.87);
    code.forEach((ch, i) => {
      shapes.push(placeGlyph(glyphs, ch, cx + (i - (code.length - 1) / 2) * pc, cy, wc, 3.7 * mm, 0));
    });
  }
  const label = [...KIND_LABELS.invoice];
  label.forEach((ch, i) => {
    shapes.push(placeGlyph(glyphs, ch, cx + (i - (label.length - 1) / 2) * 3.4 * mm, cy + 7.5 * mm, 3 * mm, 4.6 * mm, 0));
  });
  return svg(shapes, 1, 0.007 * S, [S, (S * 3) / 4]);
}

export interface PersonalSealSpec {
  name: string;
  kind: 'personal' | 'legal-representative';
}

/** The characters a square seal carries: 张三 → 张三之印 (personal), 张三印 (legal representative). */
export function squareSealText({ name, kind }: PersonalSealSpec): string[] {
  const chars = [...name.trim()].filter((ch) => ch.trim() !== '');
  if (chars.length === 0) throw new SealdError('invalid-input', 'BAD_SEAL_NAME', 'the seal needs a name');
  if (chars.length >= 4) return chars;
  if (kind === 'legal-representative' || chars.length === 3) return [...chars, '印'];
  return [...chars, '之', '印'];
}

export function squareSealSvg(spec: PersonalSealSpec, glyphs: GlyphSource): string {
  const margin = 0.03 * S;
  const border = 0.075 * S;
  const shapes: Shape[] = [{ path: frame(margin, S - margin, border) }];
  const text = squareSealText(spec);
  // Columns of two, read from the right; an odd count leaves the last column one tall character.
  const columns: string[][] = [];
  for (let i = 0; i < text.length; i += 2) columns.push(text.slice(i, i + 2));
  const inner0 = margin + border + 0.04 * S;
  const inner = S - 2 * inner0;
  const gap = 0.04 * S;
  const cw = (inner - gap * (columns.length - 1)) / columns.length;
  columns.forEach((column, k) => {
    const x = S - inner0 - (k + 1) * cw - k * gap;
    const ch = (inner - gap * (column.length - 1)) / column.length;
    column.forEach((char, j) => {
      shapes.push(fitGlyph(glyphs, char, x, inner0 + j * (ch + gap), cw, ch));
    });
  });
  return svg(shapes, 1, 0.012 * S);
}

/**
 * Glyph shapes (all but the first `plain`) get an outline stroke of `weight`: the font's light strokes made bold.
 * `size` is the viewBox's width and height (default S × S).
 */
function svg(shapes: Shape[], plain: number, weight: number, [width, height]: readonly [number, number] = [S, S]): string {
  const paths = shapes
    .map(({ path, transform }, i) => {
      // The stroke is drawn in the path's own units: divide by the transform's scale to keep `weight` in the viewBox.
      const scale = transform === undefined ? 1 : Math.sqrt(Math.abs(transform[0] * transform[3] - transform[1] * transform[2]));
      const stroke = i < plain ? '' : ` stroke="${FILL}" stroke-width="${num(weight / scale, 1)}" stroke-linejoin="round"`;
      const matrix = transform === undefined ? '' : ` transform="matrix(${transform.map((v) => num(v, 5)).join(' ')})"`;
      return `<path fill="${FILL}"${stroke}${matrix} d="${toPathData(path)}"/>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">\n${paths}\n</svg>\n`;
}

function glyphOf(glyphs: GlyphSource, ch: string) {
  const g = glyphs.glyph(ch);
  if (g === undefined) throw new SealdError('invalid-input', 'GLYPHS_MISSING', `${glyphs.description} has no glyph for ${ch}`);
  return g;
}

/**
 * A glyph's em box (advance × [−0.12, 0.88] em, the ideographic em box) scaled to w × h, centred on (x, y) and turned
 * by `turn` radians clockwise (y down).
 */
function placeGlyph(glyphs: GlyphSource, ch: string, x: number, y: number, w: number, h: number, turn: number): Shape {
  const g = glyphOf(glyphs, ch);
  const em = glyphs.unitsPerEm;
  const sx = w / g.advance;
  const sy = h / em;
  const local: Matrix = [sx, 0, 0, -sy, (-g.advance / 2) * sx, 0.38 * em * sy];
  const [cos, sin] = [Math.cos(turn), Math.sin(turn)];
  return { path: g.path, transform: multiply([cos, sin, -sin, cos, x, y], local) };
}

/** A glyph stretched to fill the cell (x, y, w, h), as characters fill a square seal. */
function fitGlyph(glyphs: GlyphSource, ch: string, x: number, y: number, w: number, h: number): Shape {
  const g = glyphOf(glyphs, ch);
  const [x0, y0, x1, y1] = pathBounds(g.path);
  const sx = w / Math.max(1, x1 - x0);
  const sy = h / Math.max(1, y1 - y0);
  return { path: g.path, transform: [sx, 0, 0, -sy, x - x0 * sx, y + y1 * sy] };
}

function num(v: number, decimals: number): string {
  const s = Number(v.toFixed(decimals)).toString();
  return s === '-0' ? '0' : s;
}

const KAPPA = 0.5522847498; // cubic Bézier quarter circle

function circle(cx: number, cy: number, r: number, clockwise: boolean): Segment[] {
  return ellipse(cx, cy, r, r, clockwise);
}

/** An axis-aligned ellipse as four cubic Béziers (the same quarter-curve constant scales with each radius). */
function ellipse(cx: number, cy: number, rx: number, ry: number, clockwise: boolean): Segment[] {
  const [kx, ky] = [rx * KAPPA, ry * KAPPA];
  const s = clockwise ? 1 : -1;
  return [
    { op: 'M', p: [cx + rx, cy] },
    { op: 'C', p: [cx + rx, cy + s * ky, cx + kx, cy + s * ry, cx, cy + s * ry] },
    { op: 'C', p: [cx - kx, cy + s * ry, cx - rx, cy + s * ky, cx - rx, cy] },
    { op: 'C', p: [cx - rx, cy - s * ky, cx - kx, cy - s * ry, cx, cy - s * ry] },
    { op: 'C', p: [cx + kx, cy - s * ry, cx + rx, cy - s * ky, cx + rx, cy] },
    { op: 'Z' },
  ];
}

/** An oval ring `t` wide: the inner ellipse's radii `t` shorter (close to the true offset curve for a thin border). */
function ellipseRing(cx: number, cy: number, rx: number, ry: number, t: number): Segment[] {
  return [...ellipse(cx, cy, rx, ry, true), ...ellipse(cx, cy, rx - t, ry - t, false)];
}

/**
 * The arc of the ellipse (a cos t, b sin t) from t0 to t1, measured: its length, and the parameter at a length from
 * t0 (sampled every 0.25°, linear between samples), so that characters can be spaced evenly along it.
 */
function ellipseArc(a: number, b: number, t0: number, t1: number): { length: number; parameterAt(s: number): number } {
  const steps = Math.ceil(((t1 - t0) * 180) / Math.PI / 0.25);
  const lengths = [0];
  for (let i = 1; i <= steps; i++) {
    const [p, q] = [t0 + ((i - 1) * (t1 - t0)) / steps, t0 + (i * (t1 - t0)) / steps];
    lengths.push(lengths[i - 1]! + Math.hypot(a * (Math.cos(q) - Math.cos(p)), b * (Math.sin(q) - Math.sin(p))));
  }
  const length = lengths[steps]!;
  return {
    length,
    parameterAt(s) {
      const target = Math.min(length, Math.max(0, s));
      let i = 1;
      while (i < steps && lengths[i]! < target) i++;
      const f = (target - lengths[i - 1]!) / Math.max(1e-9, lengths[i]! - lengths[i - 1]!);
      return t0 + ((i - 1 + f) * (t1 - t0)) / steps;
    },
  };
}

/** A ring: two circles wound opposite ways, so nonzero filling leaves the inside clear. */
function ring(cx: number, cy: number, outer: number, inner: number): Segment[] {
  return [...circle(cx, cy, outer, true), ...circle(cx, cy, inner, false)];
}

/** A square frame from `a` to `b` on both axes, `t` thick. */
function frame(a: number, b: number, t: number): Segment[] {
  const rect = (x0: number, x1: number, clockwise: boolean): Segment[] => {
    const pts = clockwise ? [[x0, x0], [x1, x0], [x1, x1], [x0, x1]] : [[x0, x0], [x0, x1], [x1, x1], [x1, x0]];
    return [...pts.map(([x, y], i) => ({ op: i === 0 ? 'M' : 'L', p: [x!, y!] }) as Segment), { op: 'Z' }];
  };
  return [...rect(a, b, true), ...rect(a + t, b - t, false)];
}

/** A five-pointed star, point up (inner radius 0.382 of the outer: the regular pentagram's). */
function star(cx: number, cy: number, r: number): Segment[] {
  const inner = r * 0.381966;
  const path: Segment[] = [];
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    const rr = i % 2 === 0 ? r : inner;
    path.push({ op: i === 0 ? 'M' : 'L', p: [cx + rr * Math.cos(a), cy + rr * Math.sin(a)] });
  }
  path.push({ op: 'Z' });
  return path;
}
