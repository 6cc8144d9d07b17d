/**
 * The report for people, as HTML (src/report): hostile strings are text, never markup; the page fetches nothing; the
 * zh and en pages say the verdicts in their own words; the expected signers check; the seal images read back from
 * seald's own seals (decoded again with seald's PNG reader: the seal's red on a transparent background).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationReport } from '../../src/engine/verify/report.ts';
import { verifyDocument } from '../../src/engine/verify/verify.ts';
import { decodePng } from '../../src/pdf/png.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { htmlReport } from '../../src/report/document-report.ts';
import { checkExpectedSigners, parseExpectedSigner, subjectAttributes } from '../../src/report/expected-signers.ts';
import { escapeHtml, renderReportHtml } from '../../src/report/html.ts';
import { languageFromLocale } from '../../src/report/language.ts';
import { sealImages } from '../../src/report/seal-images.ts';
import { openSealer, type Sealer } from '../engine/verify/sealer.ts';
import { reportDocuments, type ReportDocuments } from './documents.ts';
import { hostileReport, IMG, SCRIPT } from './hostile-report.ts';

const DOCUMENT = { name: 'contract.pdf', size: 1234, sha256: 'ab'.repeat(32) };
const AT = new Date('2026-12-01T00:00:00Z');

let sealer: Sealer;
let docs: ReportDocuments;
const reports = new Map<keyof ReportDocuments, VerificationReport>();

beforeAll(async () => {
  sealer = await openSealer('seald-report-');
  docs = await reportDocuments(sealer);
  for (const name of ['twoSeals', 'forged', 'crossPage'] as const) {
    reports.set(name, await verifyDocument(bufferSource(docs[name]), { trustAnchors: sealer.anchors }));
  }
}, 120_000);
afterAll(async () => {
  await sealer?.close();
});

describe('hostile strings', () => {
  it('every string from the document is escaped: no markup of the document reaches the page', () => {
    const page = renderReportHtml({
      report: hostileReport(),
      language: 'zh',
      images: new Map(),
      expected: checkExpectedSigners(hostileReport(), [parseExpectedSigner(`O=恶意公司${SCRIPT}`)]),
      document: { ...DOCUMENT, name: `x${SCRIPT}.pdf` },
      generatedAt: AT,
    });
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<img src=x/i);
    expect(page).not.toMatch(/<b>x<\/b>/);
    expect(page).not.toContain('onerror="');
    expect(page).toContain('&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;');
    expect(page).toContain('&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;');
    // The only tags are the report's own.
    const tags = new Set([...page.matchAll(/<([a-z][a-z0-9]*)/gi)].map((m) => m[1]!.toLowerCase()));
    const own = ['a', 'body', 'br', 'code', 'div', 'figcaption', 'figure', 'footer', 'h1', 'h2', 'h3', 'h4', 'head', 'header', 'html', 'li', 'main', 'meta', 'ol', 'p', 'section', 'span', 'style', 'table', 'tbody', 'td', 'th', 'title', 'tr', 'ul'];
    expect([...tags].filter((t) => !own.includes(t))).toEqual([]);
    expect([...tags].filter((t) => ['script', 'img', 'iframe', 'object', 'embed', 'link', 'b'].includes(t))).toEqual([]);
  });

  it('escapeHtml: the five characters, and C0 controls dropped', () => {
    expect(escapeHtml(`<a href="x" title='y'>&\u0000\u001b`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;');
    expect(escapeHtml('甲方\t乙方\n')).toBe('甲方\t乙方\n');
  });

  it('the page fetches nothing: a CSP without script or network, images only as data: URIs', async () => {
    const page = await htmlReport(bufferSource(docs.twoSeals), reports.get('twoSeals')!, { language: 'en', documentName: 'a.pdf', generatedAt: AT });
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:; style-src &#39;unsafe-inline&#39;">`);
    expect(page).not.toMatch(/(?:src|href)="(?!data:|#)/);
    expect(page).not.toMatch(/url\((?!data:)[^)]*\/\//);
    expect(page).not.toMatch(/@import|<link|<script/);
    expect(page).toMatch(/@page \{ size: A4;/);
  });
});

describe('the page in two languages', () => {
  it('zh and en say the verdicts, the checks and the changes in their own words', async () => {
    const render = (name: keyof ReportDocuments, language: 'zh' | 'en') =>
      htmlReport(bufferSource(docs[name]), reports.get(name)!, { language, documentName: `${name}.pdf`, generatedAt: AT });
    const twoZh = await render('twoSeals', 'zh');
    const twoEn = await render('twoSeals', 'en');
    expect(twoZh).toContain('<html lang="zh-CN">');
    expect(twoZh).toContain('电子签章验证报告');
    expect(twoZh).toContain('最后一次签章之后，文档未被修改。');
    expect(twoZh.match(/data-verdict="VALID">有效</g)).toHaveLength(5); // the document, two in the order, two sections
    expect(twoZh).not.toContain('Valid');
    expect(twoEn).toContain('The document has not changed since the last seal.');
    expect(twoEn.match(/data-verdict="VALID">Valid</g)).toHaveLength(5);
    expect(twoEn).not.toContain('有效');

    const forgedZh = await render('forged', 'zh');
    const forgedEn = await render('forged', 'en');
    expect(forgedZh).toContain('data-verdict="INVALID">无效<');
    expect(forgedZh).toContain('签章之后文档被以不允许的方式修改。');
    expect(forgedZh).toContain('页面内容被修改');
    expect(forgedEn).toContain('data-verdict="INVALID">Invalid<');
    expect(forgedEn).toContain('the content of a page was changed');

    const cross = await render('crossPage', 'zh');
    expect(cross).toContain('骑缝章');
    expect(cross).toMatch(/<th scope="row">页码<\/th><td>1, 2, 3<\/td>/);
  });

  it('an untrusted signer is 无法确定 / Indeterminate, with the reason in words', async () => {
    const untrusted = await verifyDocument(bufferSource(docs.twoSeals), { trustAnchors: [] });
    const zh = await htmlReport(bufferSource(docs.twoSeals), untrusted, { language: 'zh', documentName: 'a.pdf', generatedAt: AT });
    const en = await htmlReport(bufferSource(docs.twoSeals), untrusted, { language: 'en', documentName: 'a.pdf', generatedAt: AT });
    expect(zh).toContain('data-verdict="INDETERMINATE">无法确定<');
    expect(zh).toContain('证书不是由受信任的机构签发的，无法确认印章持有者的身份。');
    expect(en).toContain('data-verdict="INDETERMINATE">Indeterminate<');
    expect(en).toContain('The certificate does not come from a trusted authority');
  });

  it('the default language follows the locale', () => {
    expect(languageFromLocale({ LANG: 'zh_CN.UTF-8' })).toBe('zh');
    expect(languageFromLocale({ LANG: 'en_US.UTF-8', LC_ALL: 'zh_TW.UTF-8' })).toBe('zh');
    expect(languageFromLocale({ LANG: 'zh_CN.UTF-8', LC_ALL: 'C' })).toBe('en');
    expect(languageFromLocale({})).toBe('en');
  });
});

describe('expected signers (确认双方完成签章)', () => {
  it('reads RFC 4514 subjects, escapes included', () => {
    expect(subjectAttributes('CN=示例商贸有限公司 电子印章,O=示例商贸有限公司,C=CN')).toEqual([
      ['CN', '示例商贸有限公司 电子印章'], ['O', '示例商贸有限公司'], ['C', 'CN'],
    ]);
    expect(subjectAttributes('CN=a\\,b+SERIALNUMBER=1,O=\\E7\\94\\B2')).toEqual([['CN', 'a,b'], ['SERIALNUMBER', '1'], ['O', '甲']]);
  });

  it('each expected signer: a VALID seal, a seal that is not valid, or none', () => {
    const two = reports.get('twoSeals')!;
    const o = two.signatures[0]!.signer!.organisation!;
    const cnOfSecond = subjectAttributes(two.signatures[1]!.signer!.subject).find(([t]) => t === 'CN')![1];
    const results = checkExpectedSigners(two, [`O=${o}`, cnOfSecond, 'O=乙方公司'].map(parseExpectedSigner));
    expect(results.map((r) => r.outcome)).toEqual(['signed', 'signed', 'missing']);
    expect(results[0]!.fields).toEqual(['甲方', '乙方']);
    // In the forged document 甲方's seal is INVALID: the org certificate's only seal does not count.
    const forged = checkExpectedSigners(reports.get('forged')!, [parseExpectedSigner(`CN=${subjectAttributes(two.signatures[0]!.signer!.subject)[0]![1]}`)]);
    expect(forged[0]).toMatchObject({ outcome: 'not-valid', fields: ['甲方'] });
  });

  it('the page shows the check and its conclusion', async () => {
    const two = reports.get('twoSeals')!;
    const page = await htmlReport(bufferSource(docs.twoSeals), two, {
      language: 'zh', documentName: 'a.pdf', generatedAt: AT, expectedSigners: [`O=${two.signatures[0]!.signer!.organisation}`, 'O=乙方公司'],
    });
    expect(page).toContain('应签章方核对');
    expect(page).toContain('未找到该方的签章');
    expect(page).toContain('注意：并非各方都已完成有效签章。');
  });
});

describe('the seal kind, when the verification carries one', () => {
  it('is shown in words beside the placement; absent, nothing is guessed; unknown words stay escaped text', () => {
    const two = reports.get('twoSeals')!;
    const withKinds = (kinds: unknown[]): VerificationReport => ({ ...two, signatures: two.signatures.map((sig, i) => ({ ...sig, kind: kinds[i] })) });
    const page = (report: VerificationReport, language: 'zh' | 'en') => renderReportHtml({ report, language, images: new Map(), document: DOCUMENT, generatedAt: AT });
    const zh = page(withKinds(['contract', 'SEAL_KIND_LEGAL_REPRESENTATIVE']), 'zh');
    expect(zh).toContain('<td>合同专用章 · 电子签章 · 普通签章</td>');
    expect(zh).toContain('<td>法定代表人章 · 电子签章 · 普通签章</td>');
    const en = page(withKinds(['invoice', '<b>x</b>']), 'en');
    expect(en).toContain('<td>invoice seal (发票专用章) · Electronic seal · at a position</td>');
    expect(en).toContain('<td>&lt;b&gt;x&lt;/b&gt; · Electronic seal · at a position</td>');
    const none = page(withKinds([undefined, 7]), 'zh');
    expect(none.match(/<td>电子签章 · 普通签章<\/td>/g)).toHaveLength(2);
  });
});

describe('seal images, read back from the widget appearance', () => {
  it('each seald seal: a PNG of the seal image, red on transparent, at most 600 px', async () => {
    for (const name of ['twoSeals', 'crossPage'] as const) {
      const images = await sealImages(bufferSource(docs[name]), reports.get(name)!);
      expect([...images.keys()]).toEqual(reports.get(name)!.signatures.map((s) => s.field));
      for (const image of images.values()) {
        expect(image.dataUri).toMatch(/^data:image\/png;base64,/);
        const png = decodePng(Buffer.from(image.dataUri.split(',')[1]!, 'base64'));
        expect([png.width, png.height]).toEqual([image.width, image.height]);
        expect(Math.max(png.width, png.height)).toBeLessThanOrEqual(600);
        expect(png.alpha).toBeDefined();
        let transparent = 0;
        let red = 0;
        for (let i = 0; i < png.width * png.height; i++) {
          if (png.alpha![i] === 0) transparent++;
          else if (png.rgb[i * 3]! > 150 && png.rgb[i * 3 + 1]! < 100 && png.rgb[i * 3 + 2]! < 100) red++;
        }
        expect(transparent / (png.width * png.height)).toBeGreaterThan(0.2);
        expect(red / (png.width * png.height)).toBeGreaterThan(0.05);
      }
    }
  });

  it('a signature whose widget shows no image: no image, and the page says so', async () => {
    const report = hostileReport();
    const images = await sealImages(bufferSource(docs.twoSeals), report);
    expect(images.size).toBe(0);
    const page = renderReportHtml({ report, language: 'en', images, document: DOCUMENT, generatedAt: AT });
    expect(page).toContain('This signature shows no seal image.');
  });
});
