/**
 * The part of a signature's section that shows a GB/T 38540 / GM/T 0031 electronic seal (国密): the seal's own image
 * (the picture inside the seal, which the maker signed — not only what the page shows), its name, code, type,
 * validity and maker. Returns escaped HTML for html.ts to place.
 */
import type { ElectronicSealReport } from '../engine/verify/report.ts';
import type { ReportLanguage } from './language.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** As html.ts's escapeHtml (which this file cannot import: html.ts imports it). */
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');

const WORDS = {
  zh: {
    title: '电子印章（GB/T 38540）',
    image: '印章内的图像（制章人签名保护）',
    imageNotShown: (type: string) => `印章图像类型为 ${type}，报告中无法显示。`,
    name: '印章名称',
    code: '印章编码',
    type: '印章类型',
    types: { 1: '法人章', 2: '个人章' } as Record<number, string>,
    format: '格式',
    validity: '有效期',
    validities: { VALID: '签章时在有效期内', EXPIRED: '签章时印章已过期', NOT_YET_VALID: '签章时印章尚未生效', UNKNOWN: '有效期无法读取' },
    maker: '制章人',
    makerSignature: { VALID: '制章人对印章的签名有效', INVALID: '制章人对印章的签名无效：印章被篡改或伪造', UNSUPPORTED: '制章人签名的算法不受支持' },
  },
  en: {
    title: 'Electronic seal (GB/T 38540)',
    image: "The seal's own image (signed by the seal maker)",
    imageNotShown: (type: string) => `The seal's image is of type ${type}, which this report cannot show.`,
    name: 'Seal name',
    code: 'Seal code',
    type: 'Seal type',
    types: { 1: 'organisation seal', 2: 'personal seal' } as Record<number, string>,
    format: 'Format',
    validity: 'Validity',
    validities: { VALID: 'valid when used', EXPIRED: 'expired when used', NOT_YET_VALID: 'not yet valid when used', UNKNOWN: 'validity unreadable' },
    maker: 'Seal maker',
    makerSignature: { VALID: "the seal maker's signature over the seal is valid", INVALID: "the seal maker's signature over the seal is invalid: the seal was altered or forged", UNSUPPORTED: "the seal maker's signature algorithm is not supported" },
  },
};

/** The image's MIME type by its first bytes (never by the declared type): PNG, JPEG or GIF; else undefined. */
function imageType(data: Buffer): string | undefined {
  if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  return undefined;
}

const day = (iso: string | null): string => (iso === null ? '?' : `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`);

export function electronicSealHtml(seal: ElectronicSealReport, language: ReportLanguage): string {
  const w = WORDS[language];
  const e = escapeHtml;
  const data = Buffer.from(seal.picture.data, 'base64');
  const mime = imageType(data);
  const figure = mime
    ? `<figure class="seal-image"><img src="data:${mime};base64,${data.toString('base64')}" alt="${e(seal.name)}"><figcaption>${e(w.image)}</figcaption></figure>`
    : `<figure class="seal-image"><div class="no-image">${e(w.imageNotShown(seal.picture.type))}</div></figure>`;
  const row = (label: string, value: string) => `<tr><th scope="row">${e(label)}</th><td>${value}</td></tr>`;
  const ok = (good: boolean) => (good ? '<span class="mark mark-ok" aria-hidden="true">✓</span>' : '<span class="mark mark-bad" aria-hidden="true">✗</span>');
  return `<h3>${e(w.title)}</h3>
<div class="signature-body electronic-seal">
${figure}
<table class="facts">
${row(w.name, e(seal.name))}
${row(w.code, `<code>${e(seal.code)}</code>`)}
${row(w.type, e(w.types[seal.type] ?? String(seal.type)))}
${row(w.validity, `${e(day(seal.validStart))} — ${e(day(seal.validEnd))} ${ok(seal.validity === 'VALID')} ${e(w.validities[seal.validity])}`)}
${row(w.maker, `${e(seal.maker?.subject ?? '?')}<br>${ok(seal.makerSignature === 'VALID')} ${e(w.makerSignature[seal.makerSignature])}`)}
${row(w.format, e(`${seal.format} · v${seal.version} · ${seal.vendor} · ${seal.picture.type} ${seal.picture.width}×${seal.picture.height} mm`))}
</table>
</div>`;
}
