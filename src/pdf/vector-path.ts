/**
 * Filled outlines as data: SVG path data (SVG 1.1 §8.3) read into absolute segments, moved by an affine matrix, and
 * written back as SVG path data or as PDF path construction operators (ISO 32000-1 §8.5.2, Table 59). Glyph
 * outlines (glyph-outlines.ts), seal images drawn as vectors (svg-seal.ts) and the date stamp (date-stamp.ts) share it.
 *
 * PDF has no quadratic Bézier: a quadratic segment (P0, Q, P) becomes the cubic with control points P0 + ⅔(Q − P0)
 * and P + ⅔(Q − P), the same curve. Elliptical arcs (SVG `A`) are refused: seald's own drawings use none.
 */
import { SealdError } from '../errors.ts';

/** One absolute segment: M x y, L x y, Q x1 y1 x y, C x1 y1 x2 y2 x y, or Z. */
export type Segment =
  | { op: 'M' | 'L'; p: [number, number] }
  | { op: 'Q'; p: [number, number, number, number] }
  | { op: 'C'; p: [number, number, number, number, number, number] }
  | { op: 'Z' };

/** [a b c d e f]: x' = a·x + c·y + e, y' = b·x + d·y + f (§8.3.3). */
export type Matrix = readonly [number, number, number, number, number, number];

const TOKEN = /([MmLlHhVvCcSsQqTtZzAa])|([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/g;

function bad(detail: string): SealdError {
  return new SealdError('invalid-input', 'BAD_PATH_DATA', `path data: ${detail}`);
}

/** SVG path data → absolute segments (H, V, S and T expanded; relative commands resolved). */
export function parsePathData(d: string): Segment[] {
  const out: Segment[] = [];
  const rest = d.replace(TOKEN, '').replace(/[\s,]/g, '');
  if (rest !== '') throw bad(`unexpected "${rest.slice(0, 20)}"`);
  const tokens = [...d.matchAll(TOKEN)];
  let i = 0;
  let x = 0, y = 0, startX = 0, startY = 0;
  let lastCubic: [number, number] | undefined; // second control point of the previous C/S
  let lastQuad: [number, number] | undefined; // control point of the previous Q/T
  let command = '';
  const num = (): number => {
    const t = tokens[i++];
    if (t === undefined || t[2] === undefined) throw bad(`command ${command} is missing a number`);
    return Number(t[2]);
  };
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (t[1] !== undefined) {
      command = t[1];
      i++;
    } else if (command === '' || command === 'Z' || command === 'z') {
      throw bad('a number outside any command');
    } else if (command === 'M') command = 'L'; // further pairs after M are line-tos
    else if (command === 'm') command = 'l';
    const upper = command.toUpperCase();
    const rel = command !== upper;
    if (upper === 'A') throw bad('elliptical arcs (A) are not supported; convert them to curves');
    const ox = rel ? x : 0, oy = rel ? y : 0;
    let quad: [number, number] | undefined;
    let cubic: [number, number] | undefined;
    switch (upper) {
      case 'M':
        x = ox + num(); y = oy + num();
        [startX, startY] = [x, y];
        out.push({ op: 'M', p: [x, y] });
        break;
      case 'L':
        x = ox + num(); y = oy + num();
        out.push({ op: 'L', p: [x, y] });
        break;
      case 'H':
        x = ox + num();
        out.push({ op: 'L', p: [x, y] });
        break;
      case 'V':
        y = oy + num();
        out.push({ op: 'L', p: [x, y] });
        break;
      case 'C': {
        const p = [ox + num(), oy + num(), ox + num(), oy + num(), ox + num(), oy + num()] as const;
        out.push({ op: 'C', p: [...p] });
        cubic = [p[2], p[3]];
        [x, y] = [p[4], p[5]];
        break;
      }
      case 'S': {
        const [rx, ry] = lastCubic ? [2 * x - lastCubic[0], 2 * y - lastCubic[1]] : [x, y];
        const p = [ox + num(), oy + num(), ox + num(), oy + num()] as const;
        out.push({ op: 'C', p: [rx, ry, ...p] });
        cubic = [p[0], p[1]];
        [x, y] = [p[2], p[3]];
        break;
      }
      case 'Q': {
        const p = [ox + num(), oy + num(), ox + num(), oy + num()] as const;
        out.push({ op: 'Q', p: [...p] });
        quad = [p[0], p[1]];
        [x, y] = [p[2], p[3]];
        break;
      }
      case 'T': {
        const q: [number, number] = lastQuad ? [2 * x - lastQuad[0], 2 * y - lastQuad[1]] : [x, y];
        x = ox + num(); y = oy + num();
        out.push({ op: 'Q', p: [...q, x, y] });
        quad = q;
        break;
      }
      case 'Z':
        out.push({ op: 'Z' });
        [x, y] = [startX, startY];
        break;
    }
    lastCubic = cubic;
    lastQuad = quad;
    if (upper === 'Z' && i < tokens.length && tokens[i]![1] === undefined) throw bad('a number after Z');
  }
  if (out.length > 0 && out[0]!.op !== 'M') throw bad('path data must start with a moveto');
  return out;
}

export function transformPath(path: readonly Segment[], [a, b, c, d, e, f]: Matrix): Segment[] {
  const pt = (p: readonly number[]): number[] => {
    const r: number[] = [];
    for (let k = 0; k < p.length; k += 2) r.push(a * p[k]! + c * p[k + 1]! + e, b * p[k]! + d * p[k + 1]! + f);
    return r;
  };
  return path.map((s) => (s.op === 'Z' ? s : ({ op: s.op, p: pt(s.p) } as Segment)));
}

/** matrix m applied after n: (m ∘ n)(p) = m(n(p)). */
export function multiply(m: Matrix, n: Matrix): Matrix {
  return [
    m[0] * n[0] + m[2] * n[1],
    m[1] * n[0] + m[3] * n[1],
    m[0] * n[2] + m[2] * n[3],
    m[1] * n[2] + m[3] * n[3],
    m[0] * n[4] + m[2] * n[5] + m[4],
    m[1] * n[4] + m[3] * n[5] + m[5],
  ];
}

const fixed = (decimals: number) => (v: number): string => {
  const s = v.toFixed(decimals);
  return s.includes('.') ? s.replace(/\.?0+$/, '') || '0' : s === '-0' ? '0' : s;
};

/** Absolute SVG path data with `decimals` digits after the point (trailing zeros dropped). */
export function toPathData(path: readonly Segment[], decimals = 0): string {
  const n = fixed(decimals);
  let d = '';
  for (const s of path) {
    if (s.op === 'Z') d += 'Z';
    else d += s.op + s.p.map(n).join(' ').replace(/ -/g, '-');
  }
  return d;
}

/** PDF path construction operators (§8.5.2: m l c h), quadratics raised to cubics; no painting operator. */
export function toPdfPathOps(path: readonly Segment[], decimals = 0): string {
  const n = (v: number): string => {
    const s = fixed(decimals)(v);
    return s === '-0' ? '0' : s;
  };
  const parts: string[] = [];
  let x = 0, y = 0;
  for (const s of path) {
    switch (s.op) {
      case 'M':
      case 'L':
        [x, y] = s.p;
        parts.push(`${n(x)} ${n(y)} ${s.op === 'M' ? 'm' : 'l'}`);
        break;
      case 'C':
        parts.push(`${s.p.map(n).join(' ')} c`);
        [x, y] = [s.p[4], s.p[5]];
        break;
      case 'Q': {
        const [qx, qy, ex, ey] = s.p;
        const c = [x + (2 / 3) * (qx - x), y + (2 / 3) * (qy - y), ex + (2 / 3) * (qx - ex), ey + (2 / 3) * (qy - ey), ex, ey];
        parts.push(`${c.map(n).join(' ')} c`);
        [x, y] = [ex, ey];
        break;
      }
      case 'Z':
        parts.push('h');
        break;
    }
  }
  return parts.join('\n');
}

/** Bounding box of the points (control points included: an upper bound of the curve's box). */
export function pathBounds(path: readonly Segment[]): [number, number, number, number] {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const s of path) {
    if (s.op === 'Z') continue;
    for (let k = 0; k < s.p.length; k += 2) {
      x0 = Math.min(x0, s.p[k]!); x1 = Math.max(x1, s.p[k]!);
      y0 = Math.min(y0, s.p[k + 1]!); y1 = Math.max(y1, s.p[k + 1]!);
    }
  }
  return [x0, y0, x1, y1];
}
