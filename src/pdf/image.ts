/**
 * A seal image, read and compressed once when the service starts, then written into every sealed document:
 * - a PNG becomes an image XObject (§8.9.5) with a soft mask (§11.6.5.3) for its transparent background; when every
 *   visible pixel has one colour (a seal in seal red), every sample is written in that colour, so the colour plane
 *   compresses to almost nothing and only the alpha carries the drawing (what is transparent shows no colour);
 * - an SVG (the subset svg-seal.ts reads) becomes a form XObject of filled paths: a few KB, sharp at any resolution.
 */
import { deflateSync } from 'node:zlib';
import { decodePng } from './png.ts';
import { looksLikeSvg, readSvgSeal } from './svg-seal.ts';

export type SealImage = RasterSealImage | VectorSealImage;

export interface RasterSealImage {
  readonly kind?: 'raster';
  readonly width: number;
  readonly height: number;
  /** FlateDecode'd 8-bit DeviceRGB samples. */
  readonly rgb: Uint8Array;
  /** FlateDecode'd 8-bit DeviceGray alpha, when the image has transparency. */
  readonly alpha: Uint8Array | undefined;
}

export interface VectorSealImage {
  readonly kind: 'vector';
  /** The drawing's own width and height (its aspect is the seal's). */
  readonly width: number;
  readonly height: number;
  /** FlateDecode'd content stream drawing the seal in [0, width] × [0, height], y up. */
  readonly content: Uint8Array;
}

/** Decode a PNG (with or without alpha) or read an SVG into what the appearance needs. */
export function prepareSealImage(bytes: Uint8Array): SealImage {
  if (looksLikeSvg(bytes)) {
    const svg = readSvgSeal(bytes);
    return { kind: 'vector', width: svg.width, height: svg.height, content: deflateSync(Buffer.from(svg.content, 'latin1'), { level: 9 }) };
  }
  const img = decodePng(bytes);
  const single = img.alpha !== undefined ? oneColour(img.rgb, img.alpha) : undefined;
  return {
    kind: 'raster',
    width: img.width,
    height: img.height,
    rgb: deflateSync(single === undefined ? img.rgb : Buffer.alloc(img.rgb.length, single), { level: 9 }),
    alpha: img.alpha ? deflateSync(img.alpha, { level: 9 }) : undefined,
  };
}

/** The one colour of every fully opaque pixel when partly covered pixels agree with it, else undefined. */
function oneColour(rgb: Uint8Array, alpha: Uint8Array): Uint8Array | undefined {
  const first = alpha.indexOf(255);
  if (first < 0) return undefined;
  const [r, g, b] = [rgb[3 * first]!, rgb[3 * first + 1]!, rgb[3 * first + 2]!];
  for (let i = 0; i < alpha.length; i++) {
    const a = alpha[i]!;
    if (a === 0) continue;
    const d = Math.max(Math.abs(rgb[3 * i]! - r), Math.abs(rgb[3 * i + 1]! - g), Math.abs(rgb[3 * i + 2]! - b));
    // Anti-aliased edges carry colours rounded after un-premultiplying: the less covered, the larger the error allowed.
    if (a === 255 ? d !== 0 : d > 8 + (255 - a) / 2) return undefined;
  }
  return Buffer.from([r, g, b]);
}
