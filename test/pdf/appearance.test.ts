/**
 * The seal's appearance: SVG seals drawn as PDF paths (svg-seal.ts, vector-path.ts), one-colour PNGs, and the date
 * stamp (date-stamp.ts) — sealed on the real SoftHSM token and judged by pdfsig, qpdf and poppler's renderer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealDocument } from '../../src/engine/seal.ts';
import { checkDateStampFormat, formatDateStamp } from '../../src/pdf/date-stamp.ts';
import { checkTimeZone, pdfDate, utcOffsetMinutes } from '../../src/pdf/pdf-date.ts';
import { parsePdfDate } from '../../src/engine/verify/integrity.ts';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { looksLikeSvg, readSvgSeal } from '../../src/pdf/svg-seal.ts';
import { vectorAppearance } from '../../src/pdf/appearance-vector.ts';
import { PdfStream, dict } from '../../src/pdf/objects.ts';
import { parsePathData, toPathData, toPdfPathOps } from '../../src/pdf/vector-path.ts';
import { renderSealPng, sealImageSvg } from '../../src/provision/seal-image.ts';
import { fixture } from '../fixtures/index.ts';
import { pdfsig, qpdfCheck, redPixels, renderPage } from '../support/tools.ts';
import { openOrgSeal, type OrgSeal } from '../engine/org-seal.ts';

const svg = (body: string, attrs = 'viewBox="0 0 100 100"'): Buffer => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" ${attrs}>${body}</svg>`);

describe('SVG seals as PDF paths', () => {
  it('reads relative and shorthand path commands into absolute segments', () => {
    expect(toPathData(parsePathData('m10 10 l5 0 h5 v5 H10 z M1 1 q1 1 2 0 t2 0 c1 1 2 1 3 0 s2-1 3 0'))).toBe(
      'M10 10L15 10L20 10L20 15L10 15ZM1 1Q2 2 3 1Q4 0 5 1C6 2 7 2 8 1C9 0 10 0 11 1',
    );
    // A quadratic becomes the cubic through the same curve (control points ⅔ of the way to Q).
    expect(toPdfPathOps(parsePathData('M0 0Q3 3 6 0'))).toBe('0 0 m\n2 2 4 2 6 0 c');
    expect(() => parsePathData('M0 0A5 5 0 0 1 10 10')).toThrow(/arcs/);
    expect(() => parsePathData('M0 0L1')).toThrow(/missing a number/);
  });

  it('draws paths with their fill, stroke and matrix, flipped into y-up space', () => {
    const seal = readSvgSeal(svg('<g><path fill="#f00" d="M0 0H10V10Z"/><path fill="#d9261c" stroke="#d9261c" stroke-width="2" transform="matrix(1 0 0 -1 5 5)" d="M0 0L1 1Z"/></g>'));
    expect([seal.width, seal.height]).toEqual([100, 100]);
    expect(seal.content).toBe(
      'q 1 0 0 -1 0 100 cm\n1 0 0 rg\n0 0 m\n10 0 l\n10 10 l\nh\nf\nq 1 0 0 -1 5 5 cm\n0.85098 0.14902 0.109804 rg\n' +
        '0.85098 0.14902 0.109804 RG 2 w 1 j\n0 0 m\n1 1 l\nh\nB\nQ\nQ\n',
    );
  });

  it('reads a path-only form back as SVG for the report, and nothing else', () => {
    const content = readSvgSeal(svg('<path fill="#d9261c" d="M0 0H10V10Z"/>')).content;
    const back = vectorAppearance(new PdfStream(dict({ BBox: [0, 0, 100, 100] }), Buffer.from(content)), (o) => o);
    expect(back).toMatchObject({ format: 'svg', width: 100, height: 100 });
    expect(back!.svg).toContain('<path fill="#d9261c" transform="matrix(1 0 0 -1 0 100)" d="M0 0L10 0L10 10Z"/>');
    const withText = new PdfStream(dict({ BBox: [0, 0, 100, 100] }), Buffer.from('BT /F1 12 Tf (x) Tj ET'));
    expect(vectorAppearance(withText, (o) => o)).toBeUndefined();
  });

  it('refuses what it would draw wrongly, saying what', () => {
    for (const [body, attrs, message] of [
      ['<path d="M0 0L1 1Z"/>', '', /viewBox/],
      ['<circle r="5"/>', undefined, /<circle> is not supported/],
      ['<path style="fill:red" d="M0 0L1 1Z"/>', undefined, /style/],
      ['<g transform="rotate(5)"><path d="M0 0L1 1Z"/></g>', undefined, /transforms/],
      ['<path transform="rotate(5)" d="M0 0L1 1Z"/>', undefined, /matrix\(a b c d e f\)/],
      ['<path fill="red" d="M0 0L1 1Z"/>', undefined, /#rgb/],
      ['<text>印</text>', undefined, /text or markup/],
      ['<path fill="none" d="M0 0L1 1Z"/>', undefined, /draws nothing/],
    ] as const) {
      const bytes = svg(body, attrs);
      expect(looksLikeSvg(bytes)).toBe(true);
      expect(() => readSvgSeal(bytes)).toThrow(message);
    }
    expect(looksLikeSvg(fs.readFileSync(new URL('../../package.json', import.meta.url)))).toBe(false);
  });

  it('writes a one-colour PNG with a flat colour plane: only the soft mask carries the drawing', () => {
    const png = renderSealPng(sealImageSvg({ name: '示例商贸有限公司' }), 600);
    const image = prepareSealImage(png);
    if (image.kind === 'vector') throw new Error('expected a raster image');
    expect(image.rgb.length).toBeLessThan(2_000);
    expect(image.alpha!.length).toBeGreaterThan(5_000);
  });
});

describe('the date stamp format', () => {
  it('formats the UTC date of /M, and refuses characters it has no outline for', () => {
    const date = new Date('2026-12-01T16:05:09Z');
    expect(formatDateStamp('YYYY年MM月DD日', date)).toBe('2026年12月01日');
    expect(formatDateStamp('YYYY-MM-DD HH:mm:ss', date)).toBe('2026-12-01 16:05:09');
    expect(() => checkDateStampFormat('YYYY年MM月DD日')).not.toThrow();
    expect(() => checkDateStampFormat('Date: YYYY')).toThrow(/cannot draw "D", "a", "t", "e"/);
    expect(() => checkDateStampFormat('')).toThrow(/1 to 40/);
  });

  it('writes §7.9.4 dates in a zone with its offset at that instant, and refuses a zone nobody knows', () => {
    const late = new Date('2026-12-01T23:30:00Z'); // 07:30 on 2 December in Beijing
    expect(utcOffsetMinutes('Asia/Shanghai', late)).toBe(480);
    expect(pdfDate(late, 480)).toBe("D:20261202073000+08'00'");
    expect(pdfDate(late)).toBe("D:20261201233000+00'00'");
    expect(formatDateStamp('YYYY年MM月DD日 HH:mm', late, 480)).toBe('2026年12月02日 07:30');
    // Daylight saving time: Berlin is +01:00 in winter, +02:00 in summer; fixed and negative offsets.
    expect(utcOffsetMinutes('Europe/Berlin', late)).toBe(60);
    expect(utcOffsetMinutes('Europe/Berlin', new Date('2026-07-01T12:00:00Z'))).toBe(120);
    expect(pdfDate(late, utcOffsetMinutes('-03:30', late))).toBe("D:20261201200000-03'30'");
    expect(utcOffsetMinutes('+0545', late)).toBe(345);
    expect(utcOffsetMinutes('UTC', late)).toBe(0);
    // What verify reads back is the same instant.
    expect(parsePdfDate(pdfDate(late, 480))?.getTime()).toBe(late.getTime());
    expect(parsePdfDate(pdfDate(late, -210))?.getTime()).toBe(late.getTime());
    for (const bad of ['Mars/Olympus', '', '+25:00', 'Asia/Shanghai; rm -rf']) {
      expect(() => checkTimeZone(bad), bad).toThrow(expect.objectContaining({ code: 'BAD_TIME_ZONE' }));
    }
    expect(() => checkTimeZone('local')).not.toThrow();
  });
});

describe('a sealed page with the date stamp (时间章)', () => {
  let org: OrgSeal;
  let input: Buffer;
  beforeAll(async () => {
    org = await openOrgSeal();
    input = fs.readFileSync(await fixture('cjk-contract'));
  });
  afterAll(async () => org?.close());

  const CENTRE = { x: 300, y: 400 };
  const SEAL = 119; // openOrgSeal's default size, points
  const BAND = SEAL / 0.8 - SEAL; // the band under the seal (appearance.ts DATE_STAMP_BAND)

  async function sealed(name: string, signingTime: Date, dateStamp?: { enabled?: boolean; format?: string }, timeZone?: string) {
    const options = { signingTime, ...(dateStamp ? { dateStamp } : {}), ...(timeZone ? { timeZone } : {}) };
    const out = await sealDocument(bufferSource(input), org.seal, { kind: 'position', page: 2, ...CENTRE }, options);
    const file = path.join(org.dir, `${name}.pdf`);
    const bytes = Buffer.concat([input, out.appended]);
    fs.writeFileSync(file, bytes);
    return { file, bytes, appended: out.appended };
  }

  function band() {
    const top = CENTRE.y + (SEAL + BAND) / 2 - SEAL;
    return { x: CENTRE.x - SEAL / 2, y: top - BAND, w: SEAL, h: BAND };
  }

  it('is drawn under the seal from the date in /M; pdfsig valid, qpdf clean, the update incremental', async () => {
    const day1 = await sealed('day1', new Date('2027-03-01T03:00:00Z'), { enabled: true });
    expect(day1.bytes.subarray(0, input.length).equals(input)).toBe(true);
    expect(Buffer.from(day1.appended).toString('latin1')).toContain("/M (D:20270301030000+00'00')");
    expect((await qpdfCheck(day1.file)).status).toBe('ok');
    const report = await pdfsig(day1.file, { trustCaPems: [org.caPem] });
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]!.signatureValid, report.signatures[0]!.raw).toBe(true);

    const img = await renderPage(day1.file, 2, 150);
    const b = band();
    const inBand = redPixels(img, b);
    const seal = redPixels(img, { x: b.x, y: b.y + b.h, w: SEAL, h: SEAL });
    expect(inBand.inside).toBeGreaterThan(200); // the date, in seal red, under the seal
    expect(seal.inside).toBeGreaterThan(inBand.inside * 3); // the seal above it
    // Nothing of the date strays below the band.
    expect(redPixels(img, { x: b.x, y: b.y - 30, w: SEAL, h: 29 }).inside).toBe(0);

    // Another day draws other digits: the band's pixels differ, the seal's do not.
    const day2 = await sealed('day2', new Date('2027-03-02T03:00:00Z'), { enabled: true });
    const img2 = await renderPage(day2.file, 2, 150);
    expect(redPixels(img2, b).inside).not.toBe(inBand.inside);
    expect(redPixels(img2, { x: b.x, y: b.y + b.h, w: SEAL, h: SEAL }).inside).toBe(seal.inside);

    // Without the option the mark is the seal alone: no ink below it.
    const plain = await sealed('plain', new Date('2027-03-01T03:00:00Z'));
    const img3 = await renderPage(plain.file, 2, 150);
    expect(redPixels(img3, { x: b.x, y: CENTRE.y - SEAL / 2 - 20, w: SEAL, h: 18 }).inside).toBe(0);
    expect(plain.appended.length).toBeLessThan(day1.appended.length);
  });

  it('at 23:30 UTC in Asia/Shanghai: /M says 07:30+08:00 the next day, and the stamp draws that day', async () => {
    const late = new Date('2027-03-01T23:30:00Z');
    const beijing = await sealed('beijing', late, { enabled: true }, 'Asia/Shanghai');
    const text = Buffer.from(beijing.appended).toString('latin1');
    expect(text).toContain("/M (D:20270302073000+08'00')");
    expect((await qpdfCheck(beijing.file)).status).toBe('ok');
    const report = await pdfsig(beijing.file, { trustCaPems: [org.caPem] });
    expect(report.signatures[0]!.signatureValid, report.signatures[0]!.raw).toBe(true);

    // The same seal written in UTC at the same instant draws 2027年03月01日; one at 03:00 UTC on 2 March draws
    // 2027年03月02日. Poppler's page is pixel for pixel the latter's: the digits of the Beijing date, nothing else.
    const utcSameInstant = await sealed('utc-late', late, { enabled: true });
    expect(Buffer.from(utcSameInstant.appended).toString('latin1')).toContain("/M (D:20270301233000+00'00')");
    const utcNextDay = await sealed('utc-next-day', new Date('2027-03-02T03:00:00Z'), { enabled: true });
    const [beijingPage, sameInstantPage, nextDayPage] = await Promise.all(
      [beijing, utcSameInstant, utcNextDay].map((s) => renderPage(s.file, 2, 150)),
    );
    expect(redPixels(beijingPage!, band()).inside).toBeGreaterThan(200);
    expect(beijingPage!.rgb.equals(nextDayPage!.rgb)).toBe(true);
    expect(beijingPage!.rgb.equals(sameInstantPage!.rgb)).toBe(false);
    expect(redPixels(beijingPage!, band()).inside).not.toBe(redPixels(sameInstantPage!, band()).inside);
  });

  it('refuses an unknown time zone before anything is signed', async () => {
    await expect(
      sealDocument(bufferSource(input), org.seal, { kind: 'position', page: 1, x: 300, y: 300 }, { timeZone: 'Asia/Peking Duck' }),
    ).rejects.toMatchObject({ code: 'BAD_TIME_ZONE' });
  });

  it('refuses a format it cannot draw before anything is signed', async () => {
    await expect(
      sealDocument(bufferSource(input), org.seal, { kind: 'position', page: 1, x: 300, y: 300 }, { dateStamp: { enabled: true, format: 'Signed YYYY' } }),
    ).rejects.toMatchObject({ code: 'BAD_DATE_STAMP_FORMAT' });
  });
});
