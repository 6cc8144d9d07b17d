/**
 * A seal image, decoded and compressed once when the service starts, then written into every sealed document as an
 * image XObject (§8.9.5) with a soft mask (§11.6.5.3) for its transparent background.
 */
import { deflateSync } from 'node:zlib';
import { decodePng } from './png.ts';

export interface SealImage {
  readonly width: number;
  readonly height: number;
  /** FlateDecode'd 8-bit DeviceRGB samples. */
  readonly rgb: Uint8Array;
  /** FlateDecode'd 8-bit DeviceGray alpha, when the image has transparency. */
  readonly alpha: Uint8Array | undefined;
}

/** Decode a PNG (with or without alpha) into the streams a PDF image XObject and its /SMask need. */
export function prepareSealImage(png: Uint8Array): SealImage {
  const img = decodePng(png);
  return {
    width: img.width,
    height: img.height,
    rgb: deflateSync(img.rgb, { level: 9 }),
    alpha: img.alpha ? deflateSync(img.alpha, { level: 9 }) : undefined,
  };
}
