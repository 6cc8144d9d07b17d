/**
 * Default user space → displayed page coordinates: PDF points from the lower-left corner of the visible area (the
 * CropBox) as the reader sees it, after /Rotate (ISO 32000-1 §14.11.2, §7.7.3.3 Table 30). The inverse of
 * src/pdf/placement.ts `toUserSpace`, so a rectangle found here can be handed back to a PositionPlacement as is.
 */
import type { PageInfo } from '../document.ts';

export function toDisplay(page: PageInfo, x: number, y: number): [number, number] {
  const [x0, y0, x1, y1] = page.cropBox;
  switch (page.rotate) {
    case 90: return [y - y0, x1 - x];
    case 180: return [x1 - x, y1 - y];
    case 270: return [y1 - y, x - x0];
    default: return [x - x0, y - y0];
  }
}
