/**
 * The seal images: real characters, checked against an independent renderer. A reference PDF is built with pdf-lib,
 * which embeds Noto Sans CJK SC itself (through @pdf-lib/fontkit, the SC face of Debian's collection) and draws each
 * character as text at the place and angle the seal's SVG gives it; poppler (pdftoppm) renders it at 300 dpi with FreeType; resvg renders seald's SVG at
 * the same resolution. The seal's ink must cover the reference's glyphs and stay near them, and the same comparison
 * with the characters in the wrong order must fail (so the check can fail).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fontkit from '@pdf-lib/fontkit';
import * as nodeFontkit from 'fontkit';
import { concatTransformationMatrix, PDFDocument, popGraphicsState, pushGraphicsState, rgb } from 'pdf-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { readSvgSeal } from '../../src/pdf/svg-seal.ts';
import {
  demoSealCode,
  drawOrganizationSeal,
  drawPersonalSeal,
  renderSealPng,
  SEAL_RED,
  sealImageSvg,
} from '../../src/provision/seal-image.ts';
import { committedGlyphs, fontGlyphs, glyphSourceFor } from '../../src/provision/seal-image/glyphs.ts';
import { GLYPH_UNITS_PER_EM } from '../../src/pdf/glyph-outlines.ts';
import { multiply, toPathData, type Matrix } from '../../src/pdf/vector-path.ts';
import { renderPage, type RenderedPage } from '../support/render.ts';
import { decodePng, pixelAt } from '../support/png.ts';

// The committed outlines' font (Debian fonts-noto-cjk): a collection whose SC face they come from.
const FONT = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';
const FACE = 'NotoSansCJKsc-Regular';
const OTHER_FONT = '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc'; // fonts-wqy-zenhei: different outlines
const ROOT = path.resolve(import.meta.dirname, '../..');
const NAME = '示例商贸有限公司';
const SEAL_MM = 42;
const DPI = 300;
const PX = Math.round((SEAL_MM / 25.4) * DPI); // 496
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-seal-image-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface SvgPath {
  d: string;
  transform?: Matrix;
}

function svgPaths(svg: string): SvgPath[] {
  return [...svg.matchAll(/<path ([^>]*)\/>/g)].map(([, attrs]) => {
    const d = /\sd="([^"]*)"/.exec(` ${attrs}`)![1]!;
    const m = /transform="matrix\(([^)]*)\)"/.exec(attrs!)?.[1];
    return m === undefined ? { d } : { d, transform: m.split(' ').map(Number) as unknown as Matrix };
  });
}

/** The reference: pdf-lib draws `chars` as text with the SVG glyphs' matrices, and the SVG's plain paths as paths. */
async function referencePdf(svg: string, chars: string[], file: string, [widthMm, heightMm] = [SEAL_MM, SEAL_MM]): Promise<void> {
  const doc = await PDFDocument.create();
  doc.registerFontkit({ create: (data: Uint8Array) => fontkit.create(data, FACE) });
  const font = await doc.embedFont(fs.readFileSync(FONT), { subset: true });
  const side = (widthMm / 25.4) * 72;
  const height = (heightMm / 25.4) * 72;
  const page = doc.addPage([side, height]);
  const s = side / 2000;
  const flip: Matrix = [s, 0, 0, -s, 0, height]; // the SVG's y-down viewBox onto the page
  const paths = svgPaths(svg);
  const glyphs = paths.filter((p) => p.transform !== undefined);
  expect(glyphs).toHaveLength(chars.length);
  for (const p of paths.filter((q) => q.transform === undefined)) {
    page.drawSvgPath(p.d, { x: 0, y: height, scale: s, color: rgb(0, 0, 0) });
  }
  glyphs.forEach((g, i) => {
    page.pushOperators(pushGraphicsState(), concatTransformationMatrix(...multiply(flip, g.transform!)));
    // Size = the font's units per em (1000, checked below): one font unit is one unit of the glyph's matrix.
    page.drawText(chars[i]!, { x: 0, y: 0, size: GLYPH_UNITS_PER_EM, font, color: rgb(0, 0, 0) });
    page.pushOperators(popGraphicsState());
  });
  fs.writeFileSync(file, await doc.save());
}

function inkOfPng(png: Buffer): { w: number; h: number; ink: Uint8Array } {
  const img = decodePng(png);
  const ink = new Uint8Array(img.width * img.height);
  for (let i = 0; i < ink.length; i++) ink[i] = img.rgba[4 * i + 3]! >= 128 ? 1 : 0;
  return { w: img.width, h: img.height, ink };
}

function inkOfRender(r: RenderedPage): { w: number; h: number; ink: Uint8Array } {
  const ink = new Uint8Array(r.width * r.height);
  for (let i = 0; i < ink.length; i++) ink[i] = r.rgb[3 * i]! + r.rgb[3 * i + 1]! + r.rgb[3 * i + 2]! < 3 * 128 ? 1 : 0;
  return { w: r.width, h: r.height, ink };
}

/** Recall: reference ink the seal covers; precision: seal ink within `slack` px of reference ink. */
function compare(ours: ReturnType<typeof inkOfPng>, ref: ReturnType<typeof inkOfPng>, slack = 3) {
  const w = Math.min(ours.w, ref.w);
  const h = Math.min(ours.h, ref.h);
  let refInk = 0, covered = 0, ourInk = 0, near = 0;
  const refAt = (x: number, y: number) => ref.ink[y * ref.w + x] === 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = ours.ink[y * ours.w + x] === 1;
      if (refAt(x, y)) {
        refInk++;
        if (o) covered++;
      }
      if (!o) continue;
      ourInk++;
      search: for (let dy = -slack; dy <= slack; dy++) {
        for (let dx = -slack; dx <= slack; dx++) {
          const [xx, yy] = [x + dx, y + dy];
          if (xx >= 0 && yy >= 0 && xx < w && yy < h && refAt(xx, yy)) {
            near++;
            break search;
          }
        }
      }
    }
  }
  return { recall: covered / refInk, precision: near / ourInk };
}

describe('the organisation seal (公章)', () => {
  const code = demoSealCode(NAME);
  const svg = sealImageSvg({ name: NAME, kind: 'official' });

  it('draws the name, the star, the ring and the code as real glyphs: pdftoppm over a reference PDF agrees', async () => {
    const ours = inkOfPng(renderSealPng(svg, PX));
    const file = path.join(dir, 'reference.pdf');
    await referencePdf(svg, [...NAME, ...code], file);
    const ref = inkOfRender(await renderPage(file, 1, DPI));
    const { recall, precision } = compare(ours, ref);
    expect(recall).toBeGreaterThan(0.97);
    expect(precision).toBeGreaterThan(0.97);

    // The same check with the name's characters in the wrong order fails: it reads the characters, not just ink.
    const wrong = path.join(dir, 'wrong.pdf');
    await referencePdf(svg, [...[...NAME].reverse(), ...code], wrong);
    const bad = compare(ours, inkOfRender(await renderPage(wrong, 1, DPI)));
    expect(bad.recall).toBeLessThan(0.9);
  });

  it('uses the committed outlines for the demo name, identical to the font file', () => {
    expect(glyphSourceFor([NAME, code])).toBe(committedGlyphs);
    const file = fontGlyphs(FONT);
    expect(file.description).toBe(`${FONT} (${FACE})`); // the collection's SC face, not its first (Japanese) one
    expect(committedGlyphs.unitsPerEm).toBe(file.unitsPerEm);
    expect(sealImageSvg({ name: NAME, font: FONT })).toBe(svg);
    // Every committed glyph is the SC face's, rounded as the generator rounds (43 characters).
    const chars = [...new Set([...NAME, ...'0123456789-./:年月日合同财务发票专用章张三法定代表人之印'])];
    expect(chars).toHaveLength(43);
    for (const ch of chars) {
      const [ours, theirs] = [committedGlyphs.glyph(ch)!, file.glyph(ch)!];
      expect([ours.advance, toPathData(ours.path)], ch).toEqual([theirs.advance, toPathData(theirs.path)]);
    }
    expect(committedGlyphs.glyph('0')!.path.filter((seg) => seg.op === 'C').length).toBeGreaterThan(4); // CFF: cubics
    // The comparison tells fonts apart: WenQuanYi Zen Hei's outlines give another seal.
    expect(sealImageSvg({ name: NAME, font: OTHER_FONT })).not.toBe(svg);
  });

  it('ships the outlines with the font\'s name, version, copyright and the OFL 1.1 text', () => {
    const header = fs.readFileSync(path.join(ROOT, 'src/pdf/glyph-outlines.ts'), 'utf8').split('*/')[0]!;
    const face = nodeFontkit.openSync(FONT, FACE) as { familyName: string; version: string; copyright: string; unitsPerEm: number };
    expect(GLYPH_UNITS_PER_EM).toBe(face.unitsPerEm);
    expect(header).toContain(`${face.familyName} (${FACE}, ${face.version})`);
    expect(header).toContain(`Font copyright: ${face.copyright.trim()}`);
    expect(header).toContain('SIL Open Font License, Version 1.1');
    expect(header).not.toMatch(/GPL|WenQuanYi/);
    const licence = fs.readFileSync(path.join(ROOT, header.match(/LICENSES\/[\w.-]+/)![0]), 'utf8');
    expect(licence).toContain(face.copyright.trim());
    expect(licence).toContain('SIL OPEN FONT LICENSE Version 1.1 - 26 February 2007');
    expect(licence).toContain('5) The Font Software, modified or unmodified, in part or in whole, must');
  });

  it('reads names beyond the committed outlines from an installed font, and says what is missing otherwise', () => {
    const other = sealImageSvg({ name: '上海浦东新区某某国际贸易发展有限责任公司', kind: 'contract', code: '3101150012345' });
    expect(svgPaths(other).filter((p) => p.transform)).toHaveLength(20 + 13 + 5); // name, code, 合同专用章
    // Noto CJK comes first among the installed fonts (fonts-wqy-zenhei is installed too), its SC face.
    expect(glyphSourceFor(['上海浦东']).description).toBe(`${FONT} (${FACE})`);
    expect(() => sealImageSvg({ name: '上海某某', font: '/nonexistent.ttf' })).toThrow(/cannot read the font/);
    const latin = fontGlyphs('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf');
    expect(latin.glyph('上')).toBeUndefined();
    expect(() => sealImageSvg({ name: '上海', font: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf' })).toThrow(/no glyph for 上海/);
  });

  it('is an SVG seald reads back into a PDF appearance, deterministic and depending on name, code and kind', () => {
    const read = readSvgSeal(Buffer.from(svg));
    expect([read.width, read.height]).toEqual([2000, 2000]);
    expect(read.content).toMatch(/ cm\n/);
    expect(sealImageSvg({ name: NAME })).toBe(svg);
    expect(sealImageSvg({ name: NAME, code: '1234567890123' })).not.toBe(svg);
    expect(sealImageSvg({ name: NAME, kind: 'finance' })).not.toBe(svg);
    expect(() => sealImageSvg({ name: NAME, kind: 'nonsense' as never })).toThrow(/unknown seal kind/);
    expect(() => sealImageSvg({ name: '  ' })).toThrow(/needs a name/);
  });

  it('renders to an anti-aliased RGBA PNG in seal red on transparency', () => {
    const png = drawOrganizationSeal({ sizePx: 600, name: NAME });
    const img = decodePng(png);
    expect([img.width, img.height]).toEqual([600, 600]);
    for (const [x, y] of [[0, 0], [599, 599], [60, 60]] as const) expect(pixelAt(img, x, y)[3]).toBe(0);
    // The ring (radius 0.461–0.496 of the size) at 3 o'clock, and the star's centre: solid seal red.
    for (const [x, y] of [[Math.round(600 * 0.972), 300], [300, 300]] as const) {
      expect(pixelAt(img, x, y)).toEqual([SEAL_RED.r, SEAL_RED.g, SEAL_RED.b, 255]);
    }
    const alphas = new Set<number>();
    for (let i = 3; i < img.rgba.length; i += 4) alphas.add(img.rgba[i]!);
    expect(alphas.size).toBeGreaterThan(16); // partial coverage along every edge
  });
});

describe('the invoice seal (发票专用章)', () => {
  const TAX_NUMBER = '911101085923662400';
  const svg = sealImageSvg({ name: NAME, kind: 'invoice', code: TAX_NUMBER });
  const OVAL_PX = Math.round((40 / 25.4) * DPI); // 472 × 354

  it('is the oval of its pattern: name along the upper edge, the number across the middle, 发票专用章 below; pdftoppm agrees', async () => {
    const read = readSvgSeal(Buffer.from(svg));
    expect([read.width, read.height]).toEqual([2000, 1500]); // 40 × 30 mm
    const ours = inkOfPng(renderSealPng(svg, OVAL_PX));
    expect([ours.w, ours.h]).toEqual([OVAL_PX, Math.round((OVAL_PX * 3) / 4)]);
    const file = path.join(dir, 'invoice.pdf');
    await referencePdf(svg, [...NAME, ...TAX_NUMBER, ...'发票专用章'], file, [40, 30]);
    const ref = inkOfRender(await renderPage(file, 1, DPI));
    const { recall, precision } = compare(ours, ref);
    expect(recall).toBeGreaterThan(0.97);
    expect(precision).toBeGreaterThan(0.97);
    // Where each part is: the name's glyphs in the upper third, the number on the middle row, the label under it.
    const rows = (from: number, to: number) => {
      let ink = 0;
      for (let y = Math.round(ours.h * from); y < Math.round(ours.h * to); y++) {
        for (let x = Math.round(ours.w * 0.3); x < Math.round(ours.w * 0.7); x++) ink += ours.ink[y * ours.w + x]!;
      }
      return ink;
    };
    expect(rows(0.1, 0.3)).toBeGreaterThan(1500); // the name along the top
    expect(rows(0.44, 0.56)).toBeGreaterThan(1500); // the number
    expect(rows(0.68, 0.82)).toBeGreaterThan(1500); // 发票专用章
    expect(rows(0.6, 0.64) + rows(0.86, 0.94)).toBeLessThan(200); // clear between and below them
    // The number's row alone agrees too, and fails with its characters in the wrong order: it reads the digits.
    const middle = (img: ReturnType<typeof inkOfPng>) => ({ ...img, ink: img.ink.map((v, i) => (Math.abs(i / img.w / img.h - 0.5) < 0.07 ? v : 0)) });
    expect(compare(middle(ours), middle(ref)).recall).toBeGreaterThan(0.97);
    const wrong = path.join(dir, 'invoice-wrong.pdf');
    await referencePdf(svg, [...NAME, ...[...TAX_NUMBER].reverse(), ...'发票专用章'], wrong, [40, 30]);
    expect(compare(middle(ours), middle(inkOfRender(await renderPage(wrong, 1, DPI)))).recall).toBeLessThan(0.85);
  });

  it('takes an 18-character number by default, and letters in it from an installed font', () => {
    const byDefault = sealImageSvg({ name: NAME, kind: 'invoice' });
    expect(svgPaths(byDefault).filter((p) => p.transform)).toHaveLength(8 + 18 + 5);
    expect(svgPaths(byDefault)[0]!.transform).toBeUndefined(); // the oval ring, and no star
    expect(svgPaths(byDefault).filter((p) => !p.transform)).toHaveLength(1);
    const letters = sealImageSvg({ name: NAME, kind: 'invoice', code: '91310115MA1K4ABC2X' });
    expect(svgPaths(letters).filter((p) => p.transform)).toHaveLength(8 + 18 + 5);
  });
});

describe('square seals (名章, 法定代表人章)', () => {
  it('draws 张三之印 and 张三印 from the committed outlines, matching the font rendered by pdftoppm', async () => {
    for (const [kind, chars] of [['personal', '张三之印'], ['legal-representative', '张三印']] as const) {
      const svg = sealImageSvg({ name: '张三', kind });
      const file = path.join(dir, `${kind}.pdf`);
      await referencePdf(svg, [...chars], file);
      const { recall, precision } = compare(inkOfPng(renderSealPng(svg, PX)), inkOfRender(await renderPage(file, 1, DPI)));
      expect(recall, kind).toBeGreaterThan(0.97);
      expect(precision, kind).toBeGreaterThan(0.95);
    }
  });

  it('keeps the old entry point and refuses silly sizes', () => {
    const img = decodePng(drawPersonalSeal({ sizePx: 300, name: '张三' }));
    expect([img.width, img.height]).toEqual([300, 300]);
    for (const sizePx of [0, 10, 100.5, 5000, Number.NaN]) {
      expect(() => drawPersonalSeal({ sizePx, name: '张三' })).toThrow(RangeError);
    }
  });
});
