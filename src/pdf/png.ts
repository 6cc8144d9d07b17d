/**
 * A PNG decoder for seal images (PNG 1.2 / ISO 15948): non-interlaced, every colour type, bit depths 1–16, tRNS.
 * Output is 8-bit RGB plus an 8-bit alpha plane when the image has transparency.
 */
import { inflateSync } from 'node:zlib';
import { SealdError } from '../errors.ts';
import { unfilterRows } from './filters.ts';

export interface DecodedImage {
  width: number;
  height: number;
  rgb: Uint8Array;
  alpha: Uint8Array | undefined;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX_PIXELS = 64 * 1024 * 1024;

function bad(detail: string): SealdError {
  return new SealdError('invalid-input', 'BAD_SEAL_IMAGE', `the seal image is not a usable PNG: ${detail}`);
}

export function decodePng(png: Uint8Array): DecodedImage {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw bad('no PNG signature');
  let pos = 8;
  let width = 0, height = 0, depth = 0, colorType = 0, interlace = 0;
  let palette: Buffer | undefined;
  let trns: Buffer | undefined;
  const idat: Buffer[] = [];
  while (pos + 8 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (data.length !== len) throw bad(`chunk ${type} is truncated`);
    pos += 12 + len;
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8]!;
      colorType = data[9]!;
      interlace = data[12]!;
    } else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') trns = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  if (!width || !height || width * height > MAX_PIXELS) throw bad(`bad dimensions ${width}×${height}`);
  if (interlace) throw bad('interlaced PNGs are not supported; save it non-interlaced');
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth)) throw bad(`unsupported colour type ${colorType} / depth ${depth}`);
  if (colorType === 3 && !palette) throw bad('palette image without PLTE');

  const raw = inflateSync(Buffer.concat(idat));
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  if (raw.length < height * (stride + 1)) throw bad('image data is shorter than its size says');
  let pixels: Buffer;
  try {
    const rows = unfilterRows(raw, stride, bpp, height);
    pixels = Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength);
  } catch {
    throw bad('bad row filter');
  }

  const sample = (y: number, x: number, c: number): number => {
    // One channel of one pixel, scaled to 8 bits.
    if (depth === 8) return pixels[y * stride + x * channels + c]!;
    if (depth === 16) return pixels[y * stride + (x * channels + c) * 2]!;
    const bitIndex = (x * channels + c) * depth;
    const byte = pixels[y * stride + (bitIndex >> 3)]!;
    const v = (byte >> (8 - depth - (bitIndex & 7))) & ((1 << depth) - 1);
    return colorType === 3 ? v : Math.round((v * 255) / ((1 << depth) - 1));
  };
  const raw16 = (y: number, x: number, c: number): number =>
    depth === 16 ? pixels.readUInt16BE(y * stride + (x * channels + c) * 2) : sample(y, x, c);

  const rgb = new Uint8Array(width * height * 3);
  const alpha = new Uint8Array(width * height);
  let transparent = false;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      let r: number, g: number, b: number, a = 255;
      if (colorType === 3) {
        const i = sample(y, x, 0);
        r = palette![i * 3] ?? 0;
        g = palette![i * 3 + 1] ?? 0;
        b = palette![i * 3 + 2] ?? 0;
        if (trns && i < trns.length) a = trns[i]!;
      } else if (colorType === 0 || colorType === 4) {
        r = g = b = sample(y, x, 0);
        if (colorType === 4) a = sample(y, x, 1);
        else if (trns && trns.length >= 2 && raw16(y, x, 0) === trns.readUInt16BE(0)) a = 0;
      } else {
        r = sample(y, x, 0);
        g = sample(y, x, 1);
        b = sample(y, x, 2);
        if (colorType === 6) a = sample(y, x, 3);
        else if (
          trns && trns.length >= 6 &&
          raw16(y, x, 0) === trns.readUInt16BE(0) && raw16(y, x, 1) === trns.readUInt16BE(2) && raw16(y, x, 2) === trns.readUInt16BE(4)
        ) a = 0;
      }
      rgb[o * 3] = r;
      rgb[o * 3 + 1] = g;
      rgb[o * 3 + 2] = b;
      alpha[o] = a;
      if (a !== 255) transparent = true;
    }
  }
  return { width, height, rgb, alpha: transparent ? alpha : undefined };
}
