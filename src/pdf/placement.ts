/**
 * From what a caller asks ("centre the seal at (x, y) on page 2, 42 mm wide") to a rectangle in the page's default
 * user space. Coordinates are PDF points from the lower-left corner of the page as the reader sees it: the visible
 * area (CropBox) after /Rotate is applied (ISO 32000-1 §14.11.2, §7.7.3.3 Table 30).
 */
import type { PageInfo, Rect } from './document.ts';
import { SealdError } from '../errors.ts';

/** A rectangle on the page as displayed: lower-left corner and size, in points. */
export interface DisplayedRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface CentredMark {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Size of the page as displayed: [width, height]. */
export function displayedSize(page: PageInfo): [number, number] {
  const [x0, y0, x1, y1] = page.cropBox;
  const quarter = page.rotate === 90 || page.rotate === 270;
  return quarter ? [y1 - y0, x1 - x0] : [x1 - x0, y1 - y0];
}

/** Map a displayed point (u, v) to default user space, for a page shown rotated clockwise by /Rotate. */
export function toUserSpace(page: PageInfo, u: number, v: number): [number, number] {
  const [x0, y0, x1, y1] = page.cropBox;
  switch (page.rotate) {
    case 90: return [x1 - v, y0 + u];
    case 180: return [x1 - u, y1 - v];
    case 270: return [x0 + v, y1 - u];
    default: return [x0 + u, y0 + v];
  }
}

export function centredMarkRect(page: PageInfo, m: CentredMark): Rect {
  for (const [k, v] of Object.entries(m)) {
    if (!Number.isFinite(v)) throw new SealdError('invalid-input', 'BAD_PLACEMENT', `placement ${k} must be a number`);
  }
  if (m.width <= 0 || m.height <= 0 || m.width > 14400 || m.height > 14400) {
    throw new SealdError('invalid-input', 'BAD_PLACEMENT', `seal size ${m.width}×${m.height} pt is not between 0 and 14400`);
  }
  const [w, h] = displayedSize(page);
  if (m.x < 0 || m.y < 0 || m.x > w || m.y > h) {
    throw new SealdError(
      'invalid-input',
      'BAD_PLACEMENT',
      `the seal centre (${m.x}, ${m.y}) is outside page ${page.number}, which is ${round(w)}×${round(h)} pt`,
    );
  }
  return displayedRectToUserSpace(page, { x: m.x - m.width / 2, y: m.y - m.height / 2, width: m.width, height: m.height });
}

/** A rectangle given as the reader sees the page (lower-left corner, width, height) in default user space. */
export function displayedRectToUserSpace(page: PageInfo, r: DisplayedRect): Rect {
  const [ax, ay] = toUserSpace(page, r.x, r.y);
  const [bx, by] = toUserSpace(page, r.x + r.width, r.y + r.height);
  return [Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by)];
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
