/**
 * What a page looks like, through poppler's renderer: `pdftoppm` draws one page as a binary PPM (P6) and the helpers
 * below count seal-red pixels, so a test can say "the seal is where it was asked to be, and nowhere else".
 *
 * pdftoppm renders the page's crop box, turned by /Rotate: coordinates here are PDF points (1/72 in) from the lower
 * left corner of that rendered area, which is also how seald's placements are given.
 */
import { runOk } from './run.ts';

export interface RenderedPage {
  width: number;
  height: number;
  /** 3 bytes per pixel, rows top to bottom. */
  rgb: Buffer;
  dpi: number;
  /**
   * Size of the rendered area in points (crop box, turned by /Rotate), from pdfinfo. The raster's size is this times
   * dpi/72 rounded up, so y must be measured from the top edge with the exact height, not from the last pixel row.
   */
  widthPts: number;
  heightPts: number;
}

/** A rectangle in PDF points from the lower-left corner of the rendered page. */
export interface RectPts {
  x: number;
  y: number;
  w: number;
  h: number;
}

export async function renderPage(
  file: string,
  page: number,
  dpi: number,
  opts: { userPassword?: string } = {},
): Promise<RenderedPage> {
  // -cropbox: render what a viewer shows (the crop box); pdftoppm's default is the media box.
  const args = ['-cropbox', '-r', String(dpi), '-f', String(page), '-l', String(page)];
  if (opts.userPassword !== undefined) args.push('-upw', opts.userPassword);
  const [{ stdout }, size] = await Promise.all([
    runOk('pdftoppm', [...args, file]), // no output root: the PPM goes to stdout
    renderedSizePts(file, page, opts.userPassword),
  ]);
  return { ...parsePpm(stdout), dpi, widthPts: size.width, heightPts: size.height };
}

/** "Page    1 size: 595.28 x 841.89 pts (A4)" (the crop box) and "Page    1 rot:  90" from pdfinfo. */
async function renderedSizePts(
  file: string,
  page: number,
  userPassword?: string,
): Promise<{ width: number; height: number }> {
  const args = ['-f', String(page), '-l', String(page)];
  if (userPassword !== undefined) args.push('-upw', userPassword);
  const info = (await runOk('pdfinfo', [...args, file])).stdout.toString('utf8');
  const size = /^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts/m.exec(info);
  const rot = Number(/^Page\s+\d+ rot:\s+(\d+)/m.exec(info)?.[1] ?? 0);
  if (!size) throw new Error(`pdfinfo printed no page size for page ${page} of ${file}`);
  const [w, h] = [Number(size[1]), Number(size[2])];
  return rot % 180 === 0 ? { width: w, height: h } : { width: h, height: w };
}

/** Netpbm P6 with maxval ≤ 255: "P6", width, height, maxval as whitespace-separated ASCII (with # comments). */
export function parsePpm(data: Buffer): { width: number; height: number; rgb: Buffer } {
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (pos < data.length && /\s/.test(String.fromCharCode(data[pos]!))) pos++;
      if (data[pos] === 0x23 /* # */) {
        while (pos < data.length && data[pos] !== 0x0a) pos++;
        continue;
      }
      break;
    }
    const start = pos;
    while (pos < data.length && !/\s/.test(String.fromCharCode(data[pos]!))) pos++;
    return data.toString('latin1', start, pos);
  };
  const magic = token();
  const width = Number(token());
  const height = Number(token());
  const maxval = Number(token());
  if (magic !== 'P6' || !(width > 0) || !(height > 0) || maxval !== 255) {
    throw new Error(`not an 8-bit P6 PPM: ${magic} ${width}x${height} maxval ${maxval}`);
  }
  pos++; // exactly one whitespace byte before the raster
  const rgb = data.subarray(pos, pos + width * height * 3);
  if (rgb.length !== width * height * 3) throw new Error('PPM raster is truncated');
  return { width, height, rgb };
}

/**
 * "Seal red": strongly red, little green or blue. Tuned on poppler renders of #d9261c (217, 38, 28) seals at 72–150
 * dpi: solid strokes render as themselves, anti-aliased edges over white turn pink (G, B ≥ 120) and are not counted,
 * and black or grey text never qualifies.
 */
export function isSealRed(r: number, g: number, b: number): boolean {
  return r >= 150 && g <= 110 && b <= 110 && r - Math.max(g, b) >= 90;
}

export interface RedPixelCount {
  /** Seal-red pixels whose centre lies inside the rectangle (0 when no rectangle was given). */
  inside: number;
  outside: number;
  total: number;
  /** Pixels of the page inside the rectangle, red or not. */
  rectPixels: number;
}

export function redPixels(img: RenderedPage, rectPts?: RectPts, dpi: number = img.dpi): RedPixelCount {
  const box = rectPts ? pixelBox(img, rectPts, dpi) : undefined;
  let inside = 0;
  let total = 0;
  let rectPixels = 0;
  for (let y = 0; y < img.height; y++) {
    const inRows = box !== undefined && y >= box.y0 && y < box.y1;
    for (let x = 0; x < img.width; x++) {
      const isInside = inRows && x >= box.x0 && x < box.x1;
      if (isInside) rectPixels++;
      const i = (y * img.width + x) * 3;
      if (!isSealRed(img.rgb[i]!, img.rgb[i + 1]!, img.rgb[i + 2]!)) continue;
      total++;
      if (isInside) inside++;
    }
  }
  return { inside, outside: total - inside, total, rectPixels };
}

/** The smallest rectangle (in PDF points) holding every seal-red pixel, or undefined when there are none. */
export function redBounds(img: RenderedPage, dpi: number = img.dpi): RectPts | undefined {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 3;
      if (!isSealRed(img.rgb[i]!, img.rgb[i + 1]!, img.rgb[i + 2]!)) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return undefined;
  const k = 72 / dpi;
  return { x: x0 * k, y: img.heightPts - (y1 + 1) * k, w: (x1 + 1 - x0) * k, h: (y1 + 1 - y0) * k };
}

/** Pixel rows and columns [x0, x1) × [y0, y1) of a rectangle in points; y flips because rasters start at the top. */
function pixelBox(img: RenderedPage, r: RectPts, dpi: number): { x0: number; y0: number; x1: number; y1: number } {
  const k = dpi / 72;
  return {
    x0: Math.round(r.x * k),
    x1: Math.round((r.x + r.w) * k),
    y0: Math.round((img.heightPts - (r.y + r.h)) * k),
    y1: Math.round((img.heightPts - r.y) * k),
  };
}
