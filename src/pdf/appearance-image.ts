/**
 * The image a signature widget shows, read back for a verification report a person reads: the widget's normal
 * appearance (ISO 32000-1 §12.5.5: /AP /N, a stream or a dictionary of states chosen by /AS), followed through nested
 * form XObjects (§8.10) to the largest image XObject (§8.9.5) in their /Resources /XObject, with its soft mask
 * (§11.6.5.3) as alpha. seald's own seals are one FlateDecode DeviceRGB image with a DeviceGray /SMask
 * (signature.ts); other signers' images may be DCTDecode (kept as JPEG bytes, which a browser shows as they are),
 * indexed, grey, CMYK or ICC-based.
 *
 * The document is hostile input: depth, images examined, pixel count and decoded size are bounded, and anything this
 * reader does not understand gives `undefined` (the report then says the image cannot be shown), never an exception.
 */
import { decodeStream, streamFilters } from './filters.ts';
import { PdfDict, PdfName, PdfStream, PdfString, type PdfObject } from './objects.ts';
import { vectorAppearance, type VectorAppearance } from './appearance-vector.ts';

export type AppearanceImage =
  /** A DCTDecode image: the JPEG file itself (§7.4.8). Its soft mask, if any, is not applied. */
  | { format: 'jpeg'; width: number; height: number; bytes: Uint8Array }
  /** Decoded pixels: 8-bit straight RGBA, row by row. */
  | { format: 'rgba'; width: number; height: number; rgba: Uint8Array }
  /** A seal drawn as paths (seald's SVG seals, appearance-vector.ts), as an SVG document. */
  | VectorAppearance;

type Resolve = (o: PdfObject | undefined) => PdfObject | undefined;

const MAX_DEPTH = 6;
const MAX_XOBJECTS = 64;
const MAX_PIXELS = 16 * 1024 * 1024;

/**
 * The widget annotation of a signature field: the field itself when field and widget are merged (§12.7.3.1, as seald
 * writes them), else its first kid with an appearance.
 */
export function signatureWidget(field: PdfDict, resolve: Resolve): PdfDict | undefined {
  if (field.has('AP')) return field;
  const kids = resolve(field.get('Kids'));
  if (!Array.isArray(kids)) return undefined;
  for (const kid of kids.slice(0, MAX_XOBJECTS)) {
    const widget = resolve(kid);
    if (widget instanceof PdfDict && widget.has('AP')) return widget;
  }
  return undefined;
}

/** The largest image the widget's normal appearance draws, decoded; undefined when there is none this can read. */
export function widgetAppearanceImage(widget: PdfDict, resolve: Resolve): AppearanceImage | undefined {
  try {
    const ap = resolve(widget.get('AP'));
    if (!(ap instanceof PdfDict)) return undefined;
    let normal = resolve(ap.get('N'));
    if (normal instanceof PdfDict) {
      const state = widget.name('AS');
      normal = state === undefined ? undefined : resolve(normal.get(state));
    }
    if (!(normal instanceof PdfStream)) return undefined;
    const images: PdfStream[] = [];
    collectImages(normal, resolve, 0, new Set(), images);
    const largest = images
      .map((image) => ({ image, pixels: num(image.dict, 'Width', resolve) * num(image.dict, 'Height', resolve) }))
      .sort((a, b) => b.pixels - a.pixels)
      .find(({ image }) => decodable(image, resolve));
    if (largest !== undefined) return decodeImage(largest.image, resolve);
    // No image: a seal drawn as paths, in a form of its own (seald's vector seals) or in the appearance itself.
    const forms: PdfStream[] = [];
    collectForms(normal, resolve, 0, new Set(), forms);
    for (const form of forms) {
      const vector = vectorAppearance(form, resolve);
      if (vector !== undefined) return vector;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

function collectImages(form: PdfStream, resolve: Resolve, depth: number, seen: Set<PdfStream>, out: PdfStream[]): void {
  if (depth > MAX_DEPTH || seen.has(form) || seen.size > MAX_XOBJECTS) return;
  seen.add(form);
  const resources = resolve(form.dict.get('Resources'));
  const xobjects = resources instanceof PdfDict ? resolve(resources.get('XObject')) : undefined;
  if (!(xobjects instanceof PdfDict)) return;
  for (const entry of xobjects.entries.values()) {
    const x = resolve(entry);
    if (!(x instanceof PdfStream) || seen.has(x)) continue;
    const subtype = x.dict.name('Subtype');
    if (subtype === 'Image') {
      seen.add(x);
      out.push(x);
    } else if (subtype === 'Form') {
      collectImages(x, resolve, depth + 1, seen, out);
    }
  }
}

/** Forms that draw no further XObject (leaves), the appearance itself included, in the order met. */
function collectForms(form: PdfStream, resolve: Resolve, depth: number, seen: Set<PdfStream>, out: PdfStream[]): void {
  if (depth > MAX_DEPTH || seen.has(form) || seen.size > MAX_XOBJECTS) return;
  seen.add(form);
  const resources = resolve(form.dict.get('Resources'));
  const xobjects = resources instanceof PdfDict ? resolve(resources.get('XObject')) : undefined;
  if (!(xobjects instanceof PdfDict) || xobjects.entries.size === 0) {
    out.push(form);
    return;
  }
  for (const entry of xobjects.entries.values()) {
    const x = resolve(entry);
    if (x instanceof PdfStream && x.dict.name('Subtype') === 'Form') collectForms(x, resolve, depth + 1, seen, out);
  }
}

function num(d: PdfDict, key: string, resolve: Resolve): number {
  const v = resolve(d.get(key));
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 0;
}

function decodable(image: PdfStream, resolve: Resolve): boolean {
  const w = num(image.dict, 'Width', resolve);
  const h = num(image.dict, 'Height', resolve);
  return w > 0 && h > 0 && w * h <= MAX_PIXELS && resolve(image.dict.get('ImageMask')) !== true;
}

function decodeImage(image: PdfStream, resolve: Resolve): AppearanceImage | undefined {
  const width = num(image.dict, 'Width', resolve);
  const height = num(image.dict, 'Height', resolve);
  const filters = streamFilters(image, resolve).map((f) => f.name);
  if (filters.length === 1 && (filters[0] === 'DCTDecode' || filters[0] === 'DCT')) {
    return { format: 'jpeg', width, height, bytes: image.encoded() };
  }
  const colour = colourSpace(resolve(image.dict.get('ColorSpace')), resolve);
  const bpc = num(image.dict, 'BitsPerComponent', resolve);
  if (colour === undefined || ![1, 2, 4, 8, 16].includes(bpc)) return undefined;
  const samples = readSamples(decodeStream(image, resolve, decodedBound(width, height, colour.components, bpc)), width, height, colour.components, bpc);
  if (samples === undefined) return undefined;
  if (!colour.indexed && bpc < 8) {
    const scale = 255 / ((1 << bpc) - 1);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(samples[i]! * scale);
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    colour.toRgb(samples, i * colour.components, rgba, i * 4);
    rgba[i * 4 + 3] = 255;
  }
  const smask = resolve(image.dict.get('SMask'));
  if (smask instanceof PdfStream) applySoftMask(smask, resolve, rgba, width, height);
  return { format: 'rgba', width, height, rgba };
}

/** The most bytes an image of this size can need decoded (a PNG predictor adds a byte a row): more is a bomb. */
function decodedBound(width: number, height: number, components: number, bpc: number): number {
  return (Math.ceil((width * components * bpc) / 8) + 1) * height + 1024;
}

/**
 * The samples, `components` per pixel, as they are for 1–8 bits (the high byte of 16); rows are byte-aligned (§8.9.3).
 * /Decode arrays are not applied.
 */
function readSamples(data: Uint8Array, width: number, height: number, components: number, bpc: number): Uint8Array | undefined {
  const rowBytes = Math.ceil((width * components * bpc) / 8);
  if (data.length < rowBytes * height) return undefined;
  const out = new Uint8Array(width * height * components);
  const max = (1 << Math.min(bpc, 8)) - 1;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const row = y * rowBytes;
    for (let s = 0; s < width * components; s++) {
      let v: number;
      if (bpc === 8) v = data[row + s]!;
      else if (bpc === 16) v = data[row + s * 2]!; // the high byte
      else {
        const bit = s * bpc;
        v = (data[row + (bit >> 3)]! >> (8 - bpc - (bit & 7))) & max;
      }
      out[o++] = v;
    }
  }
  return out;
}

interface Colour {
  components: number;
  /** Samples at `at` of `samples` → 8-bit RGB at `to` of `rgba`. */
  toRgb(samples: Uint8Array, at: number, rgba: Uint8Array, to: number): void;
  /** Samples are palette indices (an /Indexed space): not scaled to 0–255. */
  indexed?: boolean;
}

const GREY: Colour = { components: 1, toRgb: (s, at, out, to) => void out.fill(s[at]!, to, to + 3) };
const RGB: Colour = { components: 3, toRgb: (s, at, out, to) => out.set(s.subarray(at, at + 3), to) };
const CMYK: Colour = {
  components: 4,
  toRgb(s, at, out, to) {
    const k = 255 - s[at + 3]!;
    for (let c = 0; c < 3; c++) out[to + c] = ((255 - s[at + c]!) * k) / 255;
  },
};

/** §8.6: the device, CIE-based and indexed spaces a seal image uses; others (Separation, DeviceN, Lab…) give undefined. */
function colourSpace(cs: PdfObject | undefined, resolve: Resolve, depth = 0): Colour | undefined {
  if (depth > 2) return undefined;
  if (cs instanceof PdfName) {
    if (cs.name === 'DeviceGray' || cs.name === 'CalGray' || cs.name === 'G') return GREY;
    if (cs.name === 'DeviceRGB' || cs.name === 'CalRGB' || cs.name === 'RGB') return RGB;
    if (cs.name === 'DeviceCMYK' || cs.name === 'CMYK') return CMYK;
    return undefined;
  }
  if (!Array.isArray(cs) || cs.length === 0) return undefined;
  const family = resolve(cs[0]);
  if (!(family instanceof PdfName)) return undefined;
  if (family.name === 'CalGray') return GREY;
  if (family.name === 'CalRGB') return RGB;
  if (family.name === 'ICCBased') {
    // §8.6.5.5: /N components; the profile itself is not applied (close enough for a picture of a seal).
    const profile = resolve(cs[1]);
    const n = profile instanceof PdfStream ? resolve(profile.dict.get('N')) : undefined;
    return n === 1 ? GREY : n === 3 ? RGB : n === 4 ? CMYK : undefined;
  }
  if (family.name === 'Indexed' || family.name === 'I') return indexed(cs, resolve, depth);
  return undefined;
}

/** §8.6.6.3 [/Indexed base hival lookup]: one index per pixel into a table of base-space colours. */
function indexed(cs: PdfObject[], resolve: Resolve, depth: number): Colour | undefined {
  const base = colourSpace(resolve(cs[1]), resolve, depth + 1);
  const hival = resolve(cs[2]);
  const lookupObject = resolve(cs[3]);
  if (base === undefined || base.indexed || typeof hival !== 'number') return undefined;
  const lookup =
    lookupObject instanceof PdfString ? lookupObject.bytes : lookupObject instanceof PdfStream ? decodeStream(lookupObject, resolve) : undefined;
  if (lookup === undefined) return undefined;
  const entries = Math.min(hival + 1, Math.floor(lookup.length / base.components));
  return {
    components: 1,
    indexed: true,
    toRgb(s, at, out, to) {
      const index = Math.min(s[at]!, entries - 1);
      base.toRgb(lookup, index * base.components, out, to);
    },
  };
}

/** A soft mask is a DeviceGray image (§11.6.5.3), possibly of another size: sampled to the image's grid. */
function applySoftMask(smask: PdfStream, resolve: Resolve, rgba: Uint8Array, width: number, height: number): void {
  if (!decodable(smask, resolve)) return;
  const mw = num(smask.dict, 'Width', resolve);
  const mh = num(smask.dict, 'Height', resolve);
  const bpc = num(smask.dict, 'BitsPerComponent', resolve);
  if (![1, 2, 4, 8, 16].includes(bpc)) return;
  const alpha = readSamples(decodeStream(smask, resolve, decodedBound(mw, mh, 1, bpc)), mw, mh, 1, bpc);
  if (alpha === undefined) return;
  const scale = 255 / ((1 << Math.min(bpc, 8)) - 1);
  for (let y = 0; y < height; y++) {
    const my = Math.min(mh - 1, Math.floor((y * mh) / height));
    for (let x = 0; x < width; x++) {
      const mx = Math.min(mw - 1, Math.floor((x * mw) / width));
      rgba[(y * width + x) * 4 + 3] = Math.round(alpha[my * mw + mx]! * scale);
    }
  }
}
