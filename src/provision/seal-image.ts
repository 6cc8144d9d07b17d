/**
 * Demo seal images that seald draws itself, so a fresh install can seal without anyone supplying artwork.
 *
 * Two looks, both in seal red on a transparent background:
 * - the organisation seal (公章): a round seal with a thick outer ring, a thin inner ring, the name along the upper
 *   arc, a five-pointed star in the centre, "DEMO" under the star and a 13-digit seal code along the lower arc (the
 *   place where Chinese official seals carry theirs);
 * - the personal seal (私章 / 名章): a square seal with a border and four blocky glyphs in two columns.
 *
 * Everything is drawn from signed distances (analytic anti-aliasing: coverage = ½ − distance, clamped), so no image or
 * font library is needed. ASCII letters and digits come from a small built-in stroke font; any other character becomes
 * a made-up glyph of straight strokes, seeded by its code point, which reads as "text" at seal size.
 * The result is a PNG (RGBA, 8 bits per channel) written by png-encode.ts. The stroke font is stroke-font.ts, the
 * shapes and the coverage canvas raster.ts.
 */
import { encodePng } from './png-encode.ts';
import { CoverageCanvas, fnv1a, ring, roundedFrame, segment, star, STAR_INNER_RATIO, xorshift32 } from './raster.ts';
import { drawTextLine, drawTextOnArc, pseudoGlyph } from './stroke-font.ts';

export { encodePng };

export interface SealImageOptions {
  /** Width and height of the square image in pixels. */
  sizePx: number;
  /** Organisation or person the seal is drawn for. */
  name: string;
}

export const DEFAULT_ORGANIZATION_SEAL_SIZE_PX = 600;
export const DEFAULT_PERSONAL_SEAL_SIZE_PX = 300;

/** Seal red, close to the vermilion of printed Chinese e-seals. */
export const SEAL_RED = { r: 0xd9, g: 0x26, b: 0x1c } as const;

const MIN_SIZE_PX = 32;
const MAX_SIZE_PX = 4096;

export function drawOrganizationSeal(opts: SealImageOptions): Buffer {
  const size = checkedSize(opts.sizePx);
  const canvas = new CoverageCanvas(size, size);
  const c = size / 2;
  const s = size; // every length below is a fraction of the image size

  canvas.paint(ring(c, c, 0.437 * s, 0.49 * s));
  canvas.paint(ring(c, c, 0.404 * s, 0.412 * s));
  canvas.paint(star(c, c, 0.155 * s, 0.155 * s * STAR_INNER_RATIO));

  const strokeWidth = Math.max(1.5, 0.019 * s);
  drawTextOnArc(canvas, {
    text: displayName(opts.name),
    cx: c,
    cy: c,
    baselineRadius: 0.262 * s,
    capHeight: 0.112 * s,
    strokeWidth,
    centreDeg: 90,
    maxSpanDeg: 250,
    outward: true,
  });
  drawTextOnArc(canvas, {
    text: sealCode(opts.name),
    cx: c,
    cy: c,
    baselineRadius: 0.37 * s,
    capHeight: 0.036 * s,
    strokeWidth: Math.max(1, 0.0075 * s),
    centreDeg: 270,
    maxSpanDeg: 70,
    outward: false,
  });
  drawTextLine(canvas, { text: 'DEMO', cx: c, baselineY: c + 0.255 * s, capHeight: 0.06 * s, strokeWidth: 0.013 * s });

  return encodePng(size, size, canvas.toRgba(SEAL_RED));
}

export function drawPersonalSeal(opts: SealImageOptions): Buffer {
  const size = checkedSize(opts.sizePx);
  const canvas = new CoverageCanvas(size, size);
  const s = size;

  const margin = 0.03 * s;
  const border = 0.075 * s;
  canvas.paint(roundedFrame(margin, margin, s - margin, s - margin, border, 0.06 * s));

  // Two columns of two glyphs, read top to bottom, right column first, as traditional seals are.
  const inner0 = margin + border + 0.045 * s;
  const inner1 = s - inner0;
  const gap = 0.05 * s;
  const cell = (inner1 - inner0 - gap) / 2;
  const glyphs = personalSealGlyphs(opts.name);
  const stroke = 0.034 * s;
  const cells: [number, number][] = [
    [inner0 + cell + gap, inner0],
    [inner0 + cell + gap, inner0 + cell + gap],
    [inner0, inner0],
    [inner0, inner0 + cell + gap],
  ];
  cells.forEach(([x, y], i) => {
    for (const stroke2 of pseudoGlyph(glyphs[i]!)) {
      const [a, b] = stroke2;
      // Glyph cells use y up in [0, 1]; the image has y down.
      canvas.paint(
        segment(x + a[0] * cell, y + (1 - a[1]) * cell, x + b[0] * cell, y + (1 - b[1]) * cell, stroke / 2, 'square'),
      );
    }
  });

  return encodePng(size, size, canvas.toRgba(SEAL_RED));
}

function checkedSize(sizePx: number): number {
  if (!Number.isInteger(sizePx) || sizePx < MIN_SIZE_PX || sizePx > MAX_SIZE_PX) {
    throw new RangeError(`seal image size must be an integer from ${MIN_SIZE_PX} to ${MAX_SIZE_PX} px, got ${sizePx}`);
  }
  return sizePx;
}

function displayName(name: string): string {
  const trimmed = name.trim().replace(/\s+/g, ' ');
  return (trimmed === '' ? 'SEALD' : trimmed).toUpperCase();
}

/** Thirteen digits derived from the name: the look of the code on a Chinese official seal, not a real one. */
function sealCode(name: string): string {
  let h = fnv1a(name);
  let digits = '';
  for (let i = 0; i < 13; i++) {
    h = xorshift32(h);
    digits += String(h % 10);
  }
  return digits;
}

/** The four characters of a personal seal: the name's own, padded with its hash, e.g. 张三 → 张三之印 in spirit. */
function personalSealGlyphs(name: string): number[] {
  const points = [...name.trim()].filter((ch) => ch.trim() !== '').map((ch) => ch.codePointAt(0)!);
  const seeds = points.slice(0, 4);
  let h = fnv1a(name);
  while (seeds.length < 4) {
    h = xorshift32(h);
    seeds.push(h);
  }
  return seeds;
}

