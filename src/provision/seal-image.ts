/**
 * Demo and operator seal images that seald draws itself, so that a fresh install can seal without anyone supplying
 * artwork, and `seald admin seal-image` can give an operator a starting point.
 *
 * The seal is composed as vector outlines (seal-image/seal-svg.ts: real CJK glyphs from glyph-outlines.ts or an
 * installed font, read with fontkit) in a small SVG. seald seals with the SVG itself (src/pdf/svg-seal.ts draws it as
 * paths in the appearance: a few KB per seal, sharp at any resolution); a PNG, for people and for tools that want
 * pixels, is rendered from the same SVG by resvg (@resvg/resvg-js).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { encodePng } from './png-encode.ts';
import { glyphSourceFor } from './seal-image/glyphs.ts';
import {
  invoiceSealSvg,
  KIND_LABELS,
  organizationSealSvg,
  SEAL_KINDS,
  SEAL_RED,
  squareSealSvg,
  squareSealText,
  type SealImageKind,
} from './seal-image/seal-svg.ts';
import { SealdError } from '../errors.ts';

export { encodePng, SEAL_KINDS, SEAL_RED, type SealImageKind };

export interface SealImageOptions {
  /** Width and height of the square image in pixels. */
  sizePx: number;
  /** Organisation or person the seal is drawn for. */
  name: string;
}

export interface SealSvgOptions {
  name: string;
  /** Default official (公章). */
  kind?: SealImageKind;
  /** The digits along an organisation seal's lower arc; default 13 digits derived from the name. */
  code?: string;
  /** A font file for characters the committed outlines lack; default an installed CJK font. */
  font?: string;
}

export const DEFAULT_ORGANIZATION_SEAL_SIZE_PX = 600;
export const DEFAULT_PERSONAL_SEAL_SIZE_PX = 300;

const MIN_SIZE_PX = 32;
const MAX_SIZE_PX = 4096;

/** The seal as SVG (paths only, one colour). */
export function sealImageSvg(opts: SealSvgOptions): string {
  const kind = opts.kind ?? 'official';
  if (!(SEAL_KINDS as readonly string[]).includes(kind)) {
    throw new SealdError('invalid-input', 'BAD_SEAL_KIND', `unknown seal kind "${kind}" (one of ${SEAL_KINDS.join(', ')})`);
  }
  if (kind === 'personal' || kind === 'legal-representative') {
    const glyphs = glyphSourceFor(squareSealText({ name: opts.name, kind }), opts.font);
    return squareSealSvg({ name: opts.name, kind }, glyphs);
  }
  // An invoice seal carries the taxpayer identification number (18 characters, the unified social credit code).
  const code = opts.code ?? demoSealCode(opts.name, kind === 'invoice' ? 18 : 13);
  if (!/^[0-9A-Za-z-]{0,24}$/.test(code)) {
    throw new SealdError('invalid-input', 'BAD_SEAL_CODE', 'the seal code takes up to 24 digits, letters or hyphens');
  }
  const glyphs = glyphSourceFor([opts.name, code, KIND_LABELS[kind]], opts.font);
  if (kind === 'invoice') return invoiceSealSvg({ name: opts.name, code }, glyphs);
  return organizationSealSvg({ name: opts.name, code, kind }, glyphs);
}

/** Render an SVG to an RGBA PNG `sizePx` wide, as tall as its aspect (resvg, anti-aliased, transparent background). */
export function renderSealPng(svg: string, sizePx: number): Buffer {
  const size = checkedSize(sizePx);
  // Loaded on first use: resvg is a native module, and `seald serve` (whose demo seals are SVG) never needs it.
  const { Resvg } = createRequire(import.meta.url)('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  return Buffer.from(new Resvg(svg, { fitTo: { mode: 'width', value: size }, font: { loadSystemFonts: false } }).render().asPng());
}

export function drawOrganizationSeal(opts: SealImageOptions & Omit<SealSvgOptions, 'name'>): Buffer {
  return renderSealPng(sealImageSvg(opts), opts.sizePx);
}

export function drawPersonalSeal(opts: SealImageOptions & { font?: string }): Buffer {
  return renderSealPng(sealImageSvg({ ...opts, kind: 'personal' }), opts.sizePx);
}

function checkedSize(sizePx: number): number {
  if (!Number.isInteger(sizePx) || sizePx < MIN_SIZE_PX || sizePx > MAX_SIZE_PX) {
    throw new RangeError(`seal image size must be an integer from ${MIN_SIZE_PX} to ${MAX_SIZE_PX} px, got ${sizePx}`);
  }
  return sizePx;
}

/**
 * Digits derived from the name: the look of the 13-digit code on a Chinese official seal (or, 18 long, of an invoice
 * seal's taxpayer identification number), not a real one.
 */
export function demoSealCode(name: string, length = 13): string {
  const digest = createHash('sha256').update(name, 'utf8').digest();
  let digits = '';
  for (let i = 0; i < length; i++) digits += String(digest[i]! % 10);
  return digits;
}
