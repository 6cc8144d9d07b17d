/** Shapes as signed distances (analytic anti-aliasing: coverage = ½ − distance, clamped), painted into a coverage mask. */
export type Point = readonly [number, number];

export interface Shape {
  /** Pixel bounds to visit, inclusive of the anti-aliasing fringe. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Signed distance in pixels from a point to the shape's edge: negative inside. */
  distance(x: number, y: number): number;
}

/** Coverage (0..1) per pixel; shapes are combined by union (max). */
export class CoverageCanvas {
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

export function ring(cx: number, cy: number, rInner: number, rOuter: number): Shape {
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
export function segment(ax: number, ay: number, bx: number, by: number, halfWidth: number, cap: 'round' | 'square'): Shape {
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
export function roundedFrame(x0: number, y0: number, x1: number, y1: number, thickness: number, radius: number): Shape {
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
export const STAR_INNER_RATIO = Math.sin(Math.PI / 10) / Math.sin((3 * Math.PI) / 10);

/** Five-pointed star, one point straight up. */
export function star(cx: number, cy: number, rOuter: number, rInner: number): Shape {
  const pts: Point[] = [];
  for (let i = 0; i < 10; i++) {
    const r = i % 2 === 0 ? rOuter : rInner;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    pts.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
  }
  return polygon(pts);
}

export function polygon(pts: Point[]): Shape {
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

export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h || 1;
}

export function xorshift32(x: number): number {
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0 || 1;
}

