/**
 * From what a caller asks ("centre the seal at (x, y) on page 2, 42 mm wide") to a rectangle in the page's default
 * user space. Coordinates are PDF points from the lower-left corner of the page as the reader sees it: the visible
 * area (CropBox) after /Rotate is applied (ISO 32000-1 §14.11.2, §7.7.3.3 Table 30).
 */
import type { PageInfo, Rect } from './document.ts';
import { SealdError } from '../errors.ts';
import { toDisplay } from './text/display.ts';

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

/** A user-space rectangle (an annotation's /Rect) as the reader sees it on the page: what a report draws it as. */
export function userSpaceToDisplayedRect(page: PageInfo, [ax, ay, bx, by]: Rect): DisplayedRect {
  const [u0, v0] = toDisplay(page, ax, ay);
  const [u1, v1] = toDisplay(page, bx, by);
  return { x: Math.min(u0, u1), y: Math.min(v0, v1), width: Math.abs(u1 - u0), height: Math.abs(v1 - v0) };
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

/** A point of the page (and of the mark) as displayed: a corner, the middle of an edge, or the centre. */
export type Anchor =
  | 'top-left' | 'top' | 'top-right'
  | 'left' | 'centre' | 'right'
  | 'bottom-left' | 'bottom' | 'bottom-right';

export const ANCHORS: readonly Anchor[] = ['top-left', 'top', 'top-right', 'left', 'centre', 'right', 'bottom-left', 'bottom', 'bottom-right'];

/** A distance in points, millimetres, or per cent of the displayed page's width (x) or height (y). */
export interface Length {
  value: number;
  unit: 'pt' | 'mm' | '%';
}

/**
 * The centre, in displayed points, of a `width` × `height` mark anchored at `anchor` of the page as displayed: the
 * mark's anchor point on the page's, moved inwards from an edge by the margin, or right/up from the middle. The whole
 * mark must fit the displayed page; otherwise BAD_PLACEMENT says by how much it does not.
 */
export function anchoredCentre(
  page: PageInfo,
  anchor: Anchor,
  margin: { x: Length; y: Length },
  width: number,
  height: number,
): { x: number; y: number } {
  const [w, h] = displayedSize(page);
  const mx = points(margin.x, w, 'x');
  const my = points(margin.y, h, 'y');
  const horizontal = anchor.endsWith('left') ? 'left' : anchor.endsWith('right') ? 'right' : 'middle';
  const vertical = anchor.startsWith('top') ? 'top' : anchor.startsWith('bottom') ? 'bottom' : 'middle';
  const x = horizontal === 'left' ? mx + width / 2 : horizontal === 'right' ? w - mx - width / 2 : w / 2 + mx;
  const y = vertical === 'bottom' ? my + height / 2 : vertical === 'top' ? h - my - height / 2 : h / 2 + my;
  const eps = 1e-6;
  if (x - width / 2 < -eps || x + width / 2 > w + eps || y - height / 2 < -eps || y + height / 2 > h + eps) {
    throw new SealdError(
      'invalid-input',
      'BAD_PLACEMENT',
      `a ${round(width)}×${round(height)} pt mark at ${anchor} with margins ${describe(margin.x)}, ${describe(margin.y)} ` +
        `does not fit page ${page.number}, which is ${round(w)}×${round(h)} pt as displayed`,
    );
  }
  return { x, y };
}

function points(length: Length, extent: number, axis: 'x' | 'y'): number {
  if (!Number.isFinite(length.value)) throw new SealdError('invalid-input', 'BAD_PLACEMENT', `the ${axis} margin must be a number`);
  switch (length.unit) {
    case 'pt':
      return length.value;
    case 'mm':
      return (length.value * 72) / 25.4;
    case '%':
      return (length.value / 100) * extent;
  }
}

function describe(length: Length): string {
  return `${length.value}${length.unit === '%' ? '%' : ` ${length.unit}`}`;
}
