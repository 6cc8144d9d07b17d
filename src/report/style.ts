/**
 * The report's style sheet, inlined into the page: readable on a screen, printed on A4 (@page, CSS Paged Media).
 * The badge colours are solid fills that tests find in a screenshot (test/report/browser.test.ts): keep them in step.
 */

/** Badge background colours, as the screenshot test counts them. */
export const BADGE_COLOURS = {
  VALID: [0x1a, 0x7f, 0x37],
  INVALID: [0xcf, 0x22, 0x2e],
  INDETERMINATE: [0xb2, 0x6a, 0x00],
} as const;

/** The seal's rectangle on a page thumbnail: a blue that no seal (red) and no badge uses. */
export const THUMBNAIL_MARK = [0x09, 0x69, 0xda] as const;

const hex = (rgb: readonly number[]): string => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;

export const REPORT_STYLE = `
@page { size: A4; margin: 14mm 14mm 16mm; }
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1f2328; font: 14px/1.55 "Noto Sans CJK SC", "Source Han Sans SC",
  "WenQuanYi Zen Hei", "PingFang SC", "Microsoft YaHei", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 190mm; margin: 0 auto; padding: 8mm 9mm; background: #fff; }
h1 { font-size: 22px; margin: 0 0 10px; }
h2 { font-size: 18px; margin: 0 0 8px; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
h3 { font-size: 14px; margin: 14px 0 6px; color: #3d444d; }
h4 { font-size: 12px; margin: 10px 0 4px; color: #59636e; }
section, header { padding: 12px 0; border-bottom: 1px solid #d1d9e0; }
.badge { display: inline-block; min-width: 5.5em; padding: 3px 12px; border-radius: 4px; color: #fff; font-weight: 700;
  text-align: center; font-size: 15px; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.badge-valid { background: ${hex(BADGE_COLOURS.VALID)}; }
.badge-invalid { background: ${hex(BADGE_COLOURS.INVALID)}; }
.badge-indeterminate { background: ${hex(BADGE_COLOURS.INDETERMINATE)}; }
.document-verdict { display: flex; align-items: center; gap: 14px; margin: 6px 0 10px; }
.document-verdict .badge { font-size: 20px; padding: 6px 18px; }
.document-verdict p { margin: 0; font-weight: 600; }
.holder { font-weight: 600; }
.headline { margin: 0 0 8px; font-weight: 600; }
.signature-invalid .headline { color: ${hex(BADGE_COLOURS.INVALID)}; }
.facts { border-collapse: collapse; }
.facts th { text-align: left; font-weight: normal; color: #59636e; padding: 2px 14px 2px 0; vertical-align: top; white-space: nowrap; }
.facts td { padding: 2px 0; overflow-wrap: anywhere; }
.signature-body { display: flex; gap: 18px; align-items: flex-start; }
.seal-image { margin: 0; flex: 0 0 46mm; text-align: center; }
.seal-image img { width: 42mm; height: auto; image-rendering: auto; background:
  repeating-conic-gradient(#f3f3f3 0 25%, #fff 0 50%) 0 0 / 12px 12px; border: 1px solid #e1e4e8; }
.seal-image figcaption { font-size: 11px; color: #59636e; }
.no-image { width: 42mm; height: 42mm; border: 1px dashed #aaa; display: flex; align-items: center; justify-content: center;
  font-size: 12px; color: #59636e; padding: 6px; }
.where { margin: 4px 0 0; }
.thumbnails { display: flex; gap: 4mm; flex-wrap: wrap; align-items: flex-end; }
.thumbnail { width: 36mm; text-align: center; }
.thumbnail .page { position: relative; width: 100%; background: #fff; border: 1px solid #8c959f; overflow: hidden; }
.thumbnail .page-outline { background: repeating-linear-gradient(0deg, #fff 0 9px, #eef1f4 9px 10px); }
.thumbnail .page-image { display: block; width: 100%; height: 100%; }
.seal-rect { position: absolute; border: 2px solid ${hex(THUMBNAIL_MARK)}; background: ${hex(THUMBNAIL_MARK)}22;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.checks { list-style: none; padding: 0; margin: 0; }
.checks li { margin: 2px 0; }
.mark { display: inline-block; width: 1.2em; font-weight: 700; text-align: center; }
.mark-ok { color: ${hex(BADGE_COLOURS.VALID)}; }
.mark-bad { color: ${hex(BADGE_COLOURS.INVALID)}; }
.mark-unknown { color: ${hex(BADGE_COLOURS.INDETERMINATE)}; }
.since { font-weight: 600; }
.since-bad { color: ${hex(BADGE_COLOURS.INVALID)}; }
.order li { margin: 3px 0; }
.order a { color: inherit; }
.changes, .expected table { border-collapse: collapse; width: 100%; }
.changes td, .expected td { border-top: 1px solid #e1e4e8; padding: 3px 8px 3px 0; vertical-align: top; }
.change-not-allowed td { background: #fff0f0; }
.small { font-size: 11.5px; color: #59636e; overflow-wrap: anywhere; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 12px; overflow-wrap: anywhere; }
footer { padding-top: 10px; font-size: 12px; color: #59636e; }
@media print {
  body { background: #fff; }
  main { max-width: none; padding: 0; }
  section.signature { break-before: auto; }
  .signature-body, .where, .checks, .certificate, .changes tr, .expected { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  a { text-decoration: none; }
}
`;
