/**
 * The report for people in a real browser (headless Chromium, Debian's package): for two valid seals, a forged change
 * after a seal and a cross-page seal, in zh and en, what a person would check — the badges are there and coloured,
 * every seal image and page thumbnail decoded (no broken image), each thumbnail's seal rectangle on its page, the
 * words are the page's language; a forged signer name stays text;
 * and two screenshots as a person sees the page (its CSP intact), kept in docs/ (SEALD_UPDATE_SCREENSHOTS=1 rewrites them).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict, VerificationReport } from '../../src/engine/verify/report.ts';
import { verifyDocument } from '../../src/engine/verify/verify.ts';
import { decodePng } from '../../src/pdf/png.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { htmlReport } from '../../src/report/document-report.ts';
import { findPageRenderer } from '../../src/report/page-render.ts';
import { renderReportHtml } from '../../src/report/html.ts';
import type { ReportLanguage } from '../../src/report/language.ts';
import { BADGE_COLOURS, THUMBNAIL_MARK } from '../../src/report/style.ts';
import { openSealer, type Sealer } from '../engine/verify/sealer.ts';
import { pooled, probe, screenshot, WINDOW } from './chromium.ts';
import { reportDocuments, type ReportDocuments } from './documents.ts';
import { hostileReport } from './hostile-report.ts';

const DOCS = path.resolve(import.meta.dirname, '../../docs');
const SCREENSHOTS = { zh: 'verify-report-zh.png', en: 'verify-report-en.png' } as const;
const AT = new Date('2026-12-01T08:00:00Z');
const NAMES = ['twoSeals', 'forged', 'crossPage'] as const;

let sealer: Sealer;
let dir: string;
let docs: ReportDocuments;
const reports = new Map<string, VerificationReport>();
const pages = new Map<string, string>();

beforeAll(async () => {
  sealer = await openSealer('seald-report-browser-');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-report-browser-'));
  docs = await reportDocuments(sealer);
  for (const name of NAMES) {
    const report = await verifyDocument(bufferSource(docs[name]), { trustAnchors: sealer.anchors });
    reports.set(name, report);
    const expectedSigners = name === 'crossPage' ? [] : report.signatures.map((s) => `CN=${s.signer!.subject.split(',')[0]!.slice(3)}`);
    for (const language of ['zh', 'en'] as const) {
      const options = { language, documentName: `${name}.pdf`, generatedAt: AT, expectedSigners, pageRenderer: findPageRenderer(process.env) };
      pages.set(`${name}-${language}`, await htmlReport(bufferSource(docs[name]), report, options));
    }
  }
}, 120_000);
afterAll(async () => {
  await sealer?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const rgb = (c: readonly number[]) => `rgb(${c.join(', ')})`;

/** Words only one of the two pages has. */
const WORDS: Record<ReportLanguage, { has: string[]; not: RegExp }> = {
  zh: { has: ['电子签章验证报告', '签章顺序', '检查结果', '签章之后的改动'], not: /\b(?:Valid|Invalid|Summary|Certificate)\b/ },
  en: { has: ['Electronic seal verification report', 'Order of sealing', 'Checks', 'Changes after this seal'], not: /[有无]效|签章/ },
};

describe('the report in Chromium', () => {
  it('every page: badges coloured by verdict, every seal image decoded, the words of its language', async () => {
    const keys = NAMES.flatMap((name) => (['zh', 'en'] as const).map((language) => ({ name, language })));
    const probes = await pooled(keys.map(({ name, language }) => () => probe(pages.get(`${name}-${language}`)!, dir, `${name}-${language}`)), 3);
    for (const [i, { name, language }] of keys.entries()) {
      const p = probes[i]!;
      const report = reports.get(name)!;
      const where = `${name} ${language}`;
      expect(p.lang, where).toBe(language === 'zh' ? 'zh-CN' : 'en');
      // One image per seal and one thumbnail per page it marks (骑缝章: three), each decoded by the browser.
      const seals = p.images.filter((i) => i.className !== 'page-image');
      const thumbnails = p.images.filter((i) => i.className === 'page-image');
      expect(seals, where).toHaveLength(report.signatures.length);
      expect(thumbnails, where).toHaveLength(name === 'crossPage' ? 3 : report.signatures.length);
      for (const image of p.images) {
        expect(image.complete, where).toBe(true);
        expect(image.naturalWidth, where).toBeGreaterThan(100);
        expect(image.naturalHeight, where).toBeGreaterThan(100);
      }
      // On each thumbnail the seal's rectangle, laid out inside its page and big enough to see.
      expect(p.sealRects, where).toHaveLength(thumbnails.length);
      for (const r of p.sealRects) {
        expect(r.withinPage, where).toBe(true);
        expect(r.width * r.height, where).toBeGreaterThan(20);
      }
      // The document's badge, one per seal in the order list and one per seal section, each in its verdict's colour.
      const verdicts: Verdict[] = [report.verdict, ...report.signatures.map((s) => s.verdict), ...report.signatures.map((s) => s.verdict)];
      expect(p.badges.map((b) => b.verdict), where).toEqual(verdicts);
      const label = language === 'zh' ? { VALID: '有效', INVALID: '无效', INDETERMINATE: '无法确定' } : { VALID: 'Valid', INVALID: 'Invalid', INDETERMINATE: 'Indeterminate' };
      for (const b of p.badges) {
        expect(b.text, where).toBe(label[b.verdict as Verdict]);
        expect(b.background, where).toBe(rgb(BADGE_COLOURS[b.verdict as Verdict]));
      }
      for (const word of WORDS[language].has) expect(p.text, where).toContain(word);
      expect(p.text, where).not.toMatch(WORDS[language].not);
    }
    // What differs between the documents, as read off the rendered text.
    expect(probes[0]!.text).toContain('最后一次签章之后，文档未被修改。');
    expect(probes[0]!.text).toContain('确认：各方均已完成有效签章。');
    expect(probes[2]!.text).toContain('页面内容被修改');
    expect(probes[3]!.text).toContain('the content of a page was changed');
    expect(probes[3]!.text).toContain('Attention: not every expected party has a valid seal.');
    expect(probes[4]!.text).toContain('骑缝章');
  }, 180_000);

  it('a forged signer name with <script> and <img onerror> is shown as text: nothing runs, no element appears', async () => {
    const page = renderReportHtml({ report: hostileReport(), language: 'en', images: new Map(), document: { name: 'x.pdf', size: 1, sha256: '00' }, generatedAt: AT });
    // Even with the CSP lifted (the probe's copy), escaping alone keeps the markup inert.
    const p = await probe(page, dir, 'hostile');
    expect(p.title).toBe('Electronic seal verification report — x.pdf');
    expect(p.images).toEqual([]);
    expect(p.text).toContain(`<script>document.title='pwned'</script>`);
    expect(p.text).toContain(`<img src=x onerror="document.title='pwned'">`);
  }, 60_000);

  it('screenshots as a person sees them (CSP intact): the badges in colour and the seal drawn', async () => {
    const shots = await pooled(
      [() => screenshot(pages.get('twoSeals-zh')!, dir, 'shot-zh'), () => screenshot(pages.get('forged-en')!, dir, 'shot-en')],
      2,
    );
    const count = (png: Buffer) => {
      const image = decodePng(png);
      expect([image.width, image.height]).toEqual([...WINDOW]);
      const exact = (c: readonly number[]) => (i: number) => image.rgb[i * 3] === c[0] && image.rgb[i * 3 + 1] === c[1] && image.rgb[i * 3 + 2] === c[2];
      const tally = { VALID: 0, INVALID: 0, INDETERMINATE: 0, sealRed: 0, thumbnailMark: 0 };
      const markBlue = exact(THUMBNAIL_MARK);
      const valid = exact(BADGE_COLOURS.VALID);
      const invalid = exact(BADGE_COLOURS.INVALID);
      const indeterminate = exact(BADGE_COLOURS.INDETERMINATE);
      for (let i = 0; i < image.width * image.height; i++) {
        if (valid(i)) tally.VALID++;
        else if (invalid(i)) tally.INVALID++;
        else if (indeterminate(i)) tally.INDETERMINATE++;
        else if (markBlue(i)) tally.thumbnailMark++;
        else if (image.rgb[i * 3]! > 180 && image.rgb[i * 3 + 1]! < 90 && image.rgb[i * 3 + 2]! < 90) tally.sealRed++;
      }
      return tally;
    };
    const zh = count(shots[0]!);
    // Four green badges at least (document, two in the order, the first section) of some 60×25 px each.
    expect(zh.VALID).toBeGreaterThan(4 * 1000);
    expect(zh.INVALID + zh.INDETERMINATE).toBe(0);
    // The first seal's image: thousands of red pixels that no badge accounts for.
    expect(zh.sealRed).toBeGreaterThan(3000);
    // The first seal's page thumbnail, with the seal's rectangle outlined in its blue.
    expect(zh.thumbnailMark).toBeGreaterThan(80);
    const en = count(shots[1]!);
    expect(en.INVALID).toBeGreaterThan(2 * 1000); // the document's and 甲方's badges
    expect(en.VALID).toBeGreaterThan(1000); // 乙方's
    for (const [language, png] of [['zh', shots[0]!], ['en', shots[1]!]] as const) {
      const kept = path.join(DOCS, SCREENSHOTS[language]);
      if (process.env.SEALD_UPDATE_SCREENSHOTS === '1') fs.writeFileSync(kept, png);
      expect(fs.existsSync(kept), `${kept} (run with SEALD_UPDATE_SCREENSHOTS=1)`).toBe(true);
      expect(fs.statSync(kept).size).toBeLessThan(400 * 1024);
    }
  }, 120_000);
});
