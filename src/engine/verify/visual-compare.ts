/**
 * One page compared as the signed revision showed it and as the final document shows it, pixel by pixel, at a fixed
 * resolution (visual-check.ts VISUAL_DPI). Two questions:
 *   - outside the expected areas (the rectangles of the annotations that changed, visual-areas.ts): does anything
 *     look different? Nothing may: that is a change the object analysis did not see (a shadow attack);
 *   - inside them: is signed page content hidden? A pixel that was ink in the signed revision, ink of the page's own
 *     content (rendered with annotations hidden), and is now much lighter, was painted over — an annotation that
 *     hides what was signed (the "hide" shadow attack), not a comment beside it or a transparent highlight on it.
 *
 * Tolerances: the renderer is deterministic, so the same objects give the same pixels; what differs legitimately is
 * anti-aliasing where an annotation's edge shares a pixel with what lies next to it. Hence a margin of EDGE_PIXELS
 * around each expected area, a per-channel tolerance of CHANNEL_TOLERANCE (of 255), and at least MIN_PIXELS pixels
 * before a difference counts.
 */
import type { PageInfo } from '../../pdf/page-tree.ts';
import { displayedRectToUserSpace, displayedSize, userSpaceToDisplayedRect } from '../../pdf/placement.ts';
import type { Box } from '../../pdf/compare.ts';
import type { VisualDifference, VisualDifferenceKind } from './visual-report.ts';

/** A rendered page: `width` × `height` pixels, RGB, rows top to bottom (pdftoppm's PPM, -cropbox). */
export interface PageRaster {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export const EDGE_PIXELS = 2;
export const CHANNEL_TOLERANCE = 40;
/** A pixel darker than this (luminance of 255) is ink; one that became lighter by HIDDEN_LIGHTENING was painted over. */
export const INK_LUMINANCE = 160;
export const HIDDEN_LIGHTENING = 96;
export const MIN_PIXELS = 3;

/**
 * `signed` and `final` with annotations, `signedContent` the signed revision without them (pdftoppm
 * -hide-annotations); `areas` in default user space.
 */
export function comparePage(
  page: PageInfo,
  areas: readonly Box[],
  signed: PageRaster,
  signedContent: PageRaster,
  final: PageRaster,
): VisualDifference[] {
  const { width, height } = signed;
  const [pw, ph] = displayedSize(page);
  const whole = (kind: VisualDifferenceKind): VisualDifference => ({ page: page.number, kind, rect: displayedRectToUserSpace(page, { x: 0, y: 0, width: pw, height: ph }), pixels: width * height });
  if (final.width !== width || final.height !== height || signedContent.width !== width || signedContent.height !== height) return [whole('page-size')];
  const sx = width / pw;
  const sy = height / ph;
  const expected = new Uint8Array(width * height);
  for (const box of areas) {
    const r = userSpaceToDisplayedRect(page, box);
    const x0 = Math.max(0, Math.floor(r.x * sx) - EDGE_PIXELS);
    const x1 = Math.min(width, Math.ceil((r.x + r.width) * sx) + EDGE_PIXELS);
    const y0 = Math.max(0, Math.floor((ph - r.y - r.height) * sy) - EDGE_PIXELS);
    const y1 = Math.min(height, Math.ceil((ph - r.y) * sy) + EDGE_PIXELS);
    for (let y = y0; y < y1; y++) expected.fill(1, y * width + x0, y * width + Math.max(x0, x1));
  }
  const outside = new Extent();
  const hidden = new Extent();
  const a = signed.rgb;
  const c = signedContent.rgb;
  const f = final.rgb;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const i = p * 3;
      if (expected[p] === 0) {
        if (Math.abs(a[i]! - f[i]!) > CHANNEL_TOLERANCE || Math.abs(a[i + 1]! - f[i + 1]!) > CHANNEL_TOLERANCE || Math.abs(a[i + 2]! - f[i + 2]!) > CHANNEL_TOLERANCE) {
          outside.add(x, y);
        }
      } else {
        const was = luminance(a, i);
        if (was < INK_LUMINANCE && luminance(c, i) < INK_LUMINANCE && luminance(f, i) - was > HIDDEN_LIGHTENING) hidden.add(x, y);
      }
    }
  }
  const out: VisualDifference[] = [];
  for (const [kind, extent] of [['outside-changes', outside], ['hides-signed-content', hidden]] as const) {
    if (extent.count < MIN_PIXELS) continue;
    const r = { x: extent.x0 / sx, y: ph - (extent.y1 + 1) / sy, width: (extent.x1 + 1 - extent.x0) / sx, height: (extent.y1 + 1 - extent.y0) / sy };
    const rect = displayedRectToUserSpace(page, r).map((v) => Math.round(v * 10) / 10) as [number, number, number, number];
    out.push({ page: page.number, kind, rect, pixels: extent.count });
  }
  return out;
}

/** ITU-R BT.601 luma of the RGB pixel at `i`. */
function luminance(rgb: Uint8Array, i: number): number {
  return 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!;
}

class Extent {
  count = 0;
  x0 = Infinity;
  y0 = Infinity;
  x1 = -1;
  y1 = -1;
  add(x: number, y: number): void {
    this.count++;
    if (x < this.x0) this.x0 = x;
    if (x > this.x1) this.x1 = x;
    if (y < this.y0) this.y0 = y;
    if (y > this.y1) this.y1 = y;
  }
}
