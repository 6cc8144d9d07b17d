import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ORGANIZATION_SEAL_SIZE_PX,
  DEFAULT_PERSONAL_SEAL_SIZE_PX,
  SEAL_RED,
  drawOrganizationSeal,
  drawPersonalSeal,
  encodePng,
} from '../../src/provision/seal-image.ts';
import { decodePng, pixelAt } from '../support/png.ts';

const isSolidSealRed = ([r, g, b, a]: number[]): boolean =>
  r === SEAL_RED.r && g === SEAL_RED.g && b === SEAL_RED.b && a === 255;

describe('drawOrganizationSeal', () => {
  const size = DEFAULT_ORGANIZATION_SEAL_SIZE_PX;
  const png = drawOrganizationSeal({ sizePx: size, name: 'Acme Trading Co., Ltd.' });
  const img = decodePng(png); // checks signature and every chunk CRC

  it('is an 8-bit RGBA PNG of the requested size', () => {
    expect(img.chunks).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(png[24]).toBe(8); // IHDR bit depth
    expect(png[25]).toBe(6); // IHDR colour type: RGBA
    expect([img.width, img.height]).toEqual([size, size]);
  });

  it('has a transparent background', () => {
    for (const [x, y] of [
      [0, 0],
      [size - 1, 0],
      [0, size - 1],
      [size - 1, size - 1],
      [Math.round(size * 0.1), Math.round(size * 0.1)], // inside the square, outside the circle
    ] as const) {
      expect(pixelAt(img, x, y)[3]).toBe(0);
    }
  });

  it('draws a solid red outer ring, a gap inside it, and a star in the centre', () => {
    const c = size / 2;
    // Ring spans radius 0.437–0.49 of the size; sample its middle at the four compass points.
    const r = Math.round(size * 0.4635);
    for (const [x, y] of [
      [c, c - r],
      [c + r, c],
      [c, c + r],
      [c - r, c],
    ] as const) {
      expect(isSolidSealRed(pixelAt(img, Math.round(x), Math.round(y)))).toBe(true);
    }
    // Between the thick ring (0.437) and the thin ring (0.412) at 3 o'clock: empty.
    expect(pixelAt(img, Math.round(c + size * 0.425), c)[3]).toBe(0);
    expect(isSolidSealRed(pixelAt(img, c, c))).toBe(true); // star centre
    expect(isSolidSealRed(pixelAt(img, c, Math.round(c - size * 0.14)))).toBe(true); // star's top point
  });

  it('anti-aliases its edges', () => {
    const alphas = new Set<number>();
    for (let i = 3; i < img.rgba.length; i += 4) alphas.add(img.rgba[i]!);
    expect(alphas.has(0)).toBe(true);
    expect(alphas.has(255)).toBe(true);
    expect(alphas.size).toBeGreaterThan(100); // partial coverage along every curve
  });

  it('is deterministic and depends on the name', () => {
    expect(drawOrganizationSeal({ sizePx: size, name: 'Acme Trading Co., Ltd.' }).equals(png)).toBe(true);
    expect(drawOrganizationSeal({ sizePx: size, name: 'Other Name GmbH' }).equals(png)).toBe(false);
  });

  it('draws names it has no glyphs for (CJK) and very long names', () => {
    for (const name of [
      '上海某某科技有限公司',
      'The Very Long International Holding Company Limited of Somewhere',
      '',
    ]) {
      const other = decodePng(drawOrganizationSeal({ sizePx: 300, name }));
      expect(other.width).toBe(300);
    }
  });

  it('is accepted by an independent PNG decoder (pdf-lib)', async () => {
    const doc = await PDFDocument.create();
    const embedded = await doc.embedPng(png);
    expect([embedded.width, embedded.height]).toEqual([size, size]);
  });
});

describe('drawPersonalSeal', () => {
  const size = DEFAULT_PERSONAL_SEAL_SIZE_PX;
  const png = drawPersonalSeal({ sizePx: size, name: '张三' });
  const img = decodePng(png);

  it('is a square RGBA PNG with transparent corners and a solid red border', () => {
    expect([img.width, img.height]).toEqual([size, size]);
    expect(pixelAt(img, 0, 0)[3]).toBe(0);
    expect(pixelAt(img, size - 1, size - 1)[3]).toBe(0);
    // Border: from 3 % to 10.5 % of the size on every side.
    const mid = Math.round(size * 0.0675);
    expect(isSolidSealRed(pixelAt(img, size / 2, mid))).toBe(true);
    expect(isSolidSealRed(pixelAt(img, mid, size / 2))).toBe(true);
    expect(isSolidSealRed(pixelAt(img, size - 1 - mid, size / 2))).toBe(true);
  });

  it('fills its inside with glyph strokes, not solid ink', () => {
    let opaque = 0;
    let clear = 0;
    const from = Math.round(size * 0.15);
    const to = Math.round(size * 0.85);
    for (let y = from; y < to; y++) {
      for (let x = from; x < to; x++) {
        const a = pixelAt(img, x, y)[3];
        if (a === 255) opaque++;
        if (a === 0) clear++;
      }
    }
    const area = (to - from) ** 2;
    expect(opaque / area).toBeGreaterThan(0.15);
    expect(clear / area).toBeGreaterThan(0.3);
  });

  it('depends on the name', () => {
    expect(drawPersonalSeal({ sizePx: size, name: '李四' }).equals(png)).toBe(false);
    expect(drawPersonalSeal({ sizePx: size, name: '张三' }).equals(png)).toBe(true);
  });
});

describe('size checks and the encoder', () => {
  it('refuses sizes that are not sensible integers', () => {
    for (const sizePx of [0, 10, 100.5, 5000, Number.NaN]) {
      expect(() => drawOrganizationSeal({ sizePx, name: 'x' })).toThrow(RangeError);
      expect(() => drawPersonalSeal({ sizePx, name: 'x' })).toThrow(RangeError);
    }
  });

  it('round-trips arbitrary pixels through encodePng and the test decoder', () => {
    const rgba = new Uint8Array(7 * 5 * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 37 + 11) & 0xff;
    const decoded = decodePng(encodePng(7, 5, rgba));
    expect([decoded.width, decoded.height]).toEqual([7, 5]);
    expect(Buffer.from(decoded.rgba).equals(Buffer.from(rgba))).toBe(true);
  });

  it('writes CRCs the decoder checks (a flipped data byte is caught)', () => {
    const png = Buffer.from(drawPersonalSeal({ sizePx: 64, name: 'x' }));
    png[45] ^= 0xff; // inside the IDAT data (8 signature + 25 IHDR + 8 IDAT header = 41)
    expect(() => decodePng(png)).toThrow(/CRC/);
  });
});
