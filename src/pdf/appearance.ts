/**
 * The marks' normal appearances (§12.5.5): form XObjects drawing the one shared seal. A whole mark fits the seal
 * (aspect kept) and centres it; a strip draws the whole seal shifted so that its window falls on the form's /BBox,
 * which clips the rest (§8.10.1). On a rotated page, /Matrix turns the appearance with the page so the seal looks
 * upright to the reader. Marks of the same size and rotation share one form.
 *
 * The seal itself is written once per signature: an image XObject (§8.9.5) with its /SMask (§11.6.5.3), or, for a
 * vector seal (image.ts), a form XObject of paths whose /Matrix maps it onto the unit square, so both are drawn by the
 * same `cm … /Seal Do`. With a date stamp (date-stamp.ts), a whole mark keeps a band under the seal for the date.
 */
import { PdfRef, PdfStream, dict, name } from './objects.ts';
import type { IncrementalWriter } from './incremental.ts';
import type { SealImage } from './image.ts';
import { numberToken } from './serialize.ts';
import { dateStampContent } from './date-stamp.ts';
import { deflateSync } from 'node:zlib';

/** The date stamp's band under the seal, as a fraction of the seal's height. */
export const DATE_STAMP_BAND = 0.2;

export interface DateStamp {
  /** The text to draw (formatDateStamp of the signing time). */
  text: string;
  /** DeviceRGB fill, 0–1 (default seal red). */
  colour?: readonly [number, number, number];
}

/**
 * A window on the seal, in displayed points from the seal's lower-left corner: the seal is drawn `sealWidth` ×
 * `sealHeight` (the image fitted, aspect kept, centred) and the mark shows [x, x + width] × [y, y + height] of it.
 */
export interface SealWindow {
  sealWidth: number;
  sealHeight: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What an appearance needs of a mark (signature.ts Mark). */
export interface AppearanceMark {
  page: { rotate: number };
  rect: readonly number[];
  window?: SealWindow;
}

const SEAL_RED: readonly [number, number, number] = [0xd9 / 255, 0x26 / 255, 0x1c / 255];

export class Appearances {
  private sealRef: PdfRef | undefined;
  private readonly forms = new Map<string, PdfRef>();

  constructor(
    private readonly w: IncrementalWriter,
    private readonly image: SealImage,
    private readonly dateStamp?: DateStamp,
  ) {}

  of(mark: AppearanceMark): PdfRef {
    const rotate = mark.page.rotate;
    const [x0 = 0, y0 = 0, x1 = 0, y1 = 0] = mark.rect;
    // The form's own width and height are the mark's as the reader sees it.
    const quarter = rotate === 90 || rotate === 270;
    const bw = quarter ? y1 - y0 : x1 - x0;
    const bh = quarter ? x1 - x0 : y1 - y0;
    const win = mark.window ?? { sealWidth: bw, sealHeight: bh, x: 0, y: 0, width: bw, height: bh };
    const key = [rotate, bw, bh, win.sealWidth, win.sealHeight, win.x, win.y].map(round).join(' ');
    let form = this.forms.get(key);
    if (form === undefined) {
      form = this.w.add(this.form(rotate, bw, bh, win, mark.window === undefined));
      this.forms.set(key, form);
    }
    return form;
  }

  private form(rotate: number, bw: number, bh: number, win: SealWindow, whole: boolean): PdfStream {
    const { image } = this;
    const n = numberToken;
    // A whole mark with a date stamp: the seal fits the box above the band, the date fills the band.
    const stamp = whole ? this.dateStamp : undefined;
    const band = stamp === undefined ? 0 : Math.min(bh * DATE_STAMP_BAND, bh / 2);
    const sealHeight = win.sealHeight - band;
    const scale = Math.min(win.sealWidth / image.width, sealHeight / image.height);
    const iw = image.width * scale;
    const ih = image.height * scale;
    // A strip also clips explicitly: some viewers are lax about clipping a form to its /BBox.
    const clip = !showsPart(win, bw, bh) ? '' : `0 0 ${n(round(bw))} ${n(round(bh))} re W n `;
    let content = `q ${clip}${n(iw)} 0 0 ${n(ih)} ${n((win.sealWidth - iw) / 2 - win.x)} ${n(band + (sealHeight - ih) / 2 - win.y)} cm /Seal Do Q\n`;
    if (stamp !== undefined) {
      const [r, g, b] = stamp.colour ?? SEAL_RED;
      const text = dateStampContent(stamp.text, { x: 0, y: 0, width: bw, height: band });
      if (text !== '') content += `q ${[r, g, b].map((v) => n(round(v))).join(' ')} rg\n${text}Q\n`;
    }
    const rad = (rotate * Math.PI) / 180;
    const [c, s] = [Math.round(Math.cos(rad)), Math.round(Math.sin(rad))];
    const bytes = Buffer.from(content, 'latin1');
    const compress = bytes.length > 512;
    return new PdfStream(
      dict({
        Type: name('XObject'),
        Subtype: name('Form'),
        BBox: [0, 0, round(bw), round(bh)],
        Matrix: rotate ? [c, s, -s, c, 0, 0] : undefined,
        Resources: dict({ XObject: dict({ Seal: this.sealObject() }) }),
        Filter: compress ? name('FlateDecode') : undefined,
      }),
      compress ? deflateSync(bytes, { level: 9 }) : bytes,
    );
  }

  /** The seal, written once per signature. */
  private sealObject(): PdfRef {
    if (this.sealRef !== undefined) return this.sealRef;
    const { w, image } = this;
    if (image.kind === 'vector') {
      // A form XObject (§8.10) in the drawing's own units; /Matrix maps its /BBox onto the unit square, as an image is.
      this.sealRef = w.add(
        new PdfStream(
          dict({
            Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, image.width, image.height],
            Matrix: [1 / image.width, 0, 0, 1 / image.height, 0, 0], Filter: name('FlateDecode'),
          }),
          image.content,
        ),
      );
      return this.sealRef;
    }
    const smask = image.alpha
      ? w.add(
          new PdfStream(
            dict({ Type: name('XObject'), Subtype: name('Image'), Width: image.width, Height: image.height, ColorSpace: name('DeviceGray'), BitsPerComponent: 8, Filter: name('FlateDecode') }),
            image.alpha,
          ),
        )
      : undefined;
    this.sealRef = w.add(
      new PdfStream(
        dict({
          Type: name('XObject'), Subtype: name('Image'), Width: image.width, Height: image.height,
          ColorSpace: name('DeviceRGB'), BitsPerComponent: 8, Filter: name('FlateDecode'), SMask: smask,
        }),
        image.rgb,
      ),
    );
    return this.sealRef;
  }
}

/** True when the window is only part of the seal (a strip). */
function showsPart(win: SealWindow, bw: number, bh: number): boolean {
  return win.x !== 0 || win.y !== 0 || win.sealWidth > bw + 1e-6 || win.sealHeight > bh + 1e-6;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
