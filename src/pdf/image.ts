/** A seal image decoded once at start-up and kept ready as PDF image streams. */
export interface SealImage {
  readonly width: number;
  readonly height: number;
}

/** Decode a PNG (with or without alpha) into the streams a PDF image XObject and its /SMask need. */
export function prepareSealImage(_png: Uint8Array): SealImage {
  throw new Error('prepareSealImage: being written');
}
