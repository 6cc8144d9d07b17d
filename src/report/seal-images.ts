/**
 * The seal images of a verified document, as a report embeds them: each signature's widget image as it was in the
 * revision the signature covers (a later replacement is a change the report lists, not the seal), as a data: URI
 * (PNG re-encoded from the decoded pixels, or the JPEG as it is), so that the report fetches nothing.
 */
import { createHash } from 'node:crypto';
import { signatureWidget, widgetAppearanceImage, type AppearanceImage } from '../pdf/appearance-image.ts';
import { Budget, DEFAULT_VERIFY_LIMITS } from '../pdf/limits.ts';
import { signatureFields } from '../pdf/signature-fields.ts';
import type { ByteSource } from '../pdf/source.ts';
import { encodePng } from '../provision/png-encode.ts';
import { renderSealPng } from '../provision/seal-image.ts';
import type { VerificationReport } from '../engine/verify/report.ts';
import { RevisionDocuments } from './revision-documents.ts';

export interface SealImage {
  /** `data:image/png;base64,…` or `data:image/jpeg;base64,…`. */
  dataUri: string;
  width: number;
  height: number;
}

/** The longest side of an embedded image: a seal printed 50 mm wide at 300 dpi. */
const MAX_SIDE = 600;

/** field name → its seal image, for the signatures of `report` whose widget shows one this can read. */
export async function sealImages(
  source: ByteSource,
  report: VerificationReport,
  opened?: RevisionDocuments,
): Promise<Map<string, SealImage>> {
  const images = new Map<string, SealImage>();
  if (report.signatures.length === 0) return images;
  const docs = opened ?? (await RevisionDocuments.open(source));
  if (docs === undefined) return images;
  const budget = new Budget(DEFAULT_VERIFY_LIMITS);
  for (const signature of report.signatures) {
    try {
      const doc = docs.at(signature.revision);
      const field = signatureFields(doc, budget).find((f) => f.name === signature.field);
      const widget = field === undefined ? undefined : signatureWidget(field.field, (o) => doc.resolve(o));
      const image = widget === undefined ? undefined : widgetAppearanceImage(widget, (o) => doc.resolve(o));
      if (image !== undefined) images.set(signature.field, asDataUri(image));
    } catch {
      // An image that cannot be read is shown as such; the verdict does not depend on it.
    }
  }
  return images;
}

export function asDataUri(image: AppearanceImage): SealImage {
  if (image.format === 'svg') {
    // A seal drawn as paths: rasterised by resvg (provision/seal-image.ts) like any other seal image.
    const size = Math.max(1, Math.round((MAX_SIDE * Math.min(image.width, image.height)) / Math.max(image.width, image.height)));
    const png = renderSealPng(image.svg, image.width >= image.height ? MAX_SIDE : size);
    const [width, height] = image.width >= image.height ? [MAX_SIDE, size] : [size, MAX_SIDE];
    return { dataUri: `data:image/png;base64,${png.toString('base64')}`, width, height };
  }
  if (image.format === 'jpeg') {
    return { dataUri: `data:image/jpeg;base64,${Buffer.from(image.bytes).toString('base64')}`, width: image.width, height: image.height };
  }
  const scaled = fitWithin(image, MAX_SIDE);
  const png = encodePng(scaled.width, scaled.height, scaled.rgba);
  return { dataUri: `data:image/png;base64,${png.toString('base64')}`, width: scaled.width, height: scaled.height };
}

/** Nearest-neighbour downscale so that neither side exceeds `max`. */
function fitWithin(image: Extract<AppearanceImage, { format: 'rgba' }>, max: number): Extract<AppearanceImage, { format: 'rgba' }> {
  const scale = Math.min(1, max / Math.max(image.width, image.height));
  if (scale === 1) return image;
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.floor(y / scale));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.floor(x / scale));
      rgba.set(image.rgba.subarray((sy * image.width + sx) * 4, (sy * image.width + sx) * 4 + 4), (y * width + x) * 4);
    }
  }
  return { format: 'rgba', width, height, rgba };
}

/** SHA-256 of the whole document, hex: what a reader of the report compares with the file they hold. */
export async function documentDigest(source: ByteSource): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of source.chunks()) hash.update(chunk);
  return hash.digest('hex');
}
