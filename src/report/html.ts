/**
 * A verification report as one self-contained HTML page for people (the purchaser's clerk, the auditor, the court):
 * a summary (how many seals, who sealed in which order, whether anything changed after the last one, the expected
 * signers), then one section per signature with a verdict badge, the seal image, the certificate, the time and
 * what changed after it, in plain words. The codes of docs/verify.md stay as small print.
 *
 * Everything read from the document (names, subjects, field names, reasons that quote them) is hostile input: every
 * string goes through `escapeHtml`, and the page's Content-Security-Policy allows no script and no fetch at all
 * (images are data: URIs, the style is inline), so it can be mailed, archived and opened offline. Printable on A4.
 */
import type { Change, SignatureReport, Verdict, VerificationReport } from '../engine/verify/report.ts';
import type { VisualCheckResult } from '../engine/verify/visual-report.ts';
import { electronicSealHtml } from './electronic-seal.ts';
import type { ExpectedSignerResult } from './expected-signers.ts';
import { subjectAttributes } from './expected-signers.ts';
import type { ReportLanguage } from './language.ts';
import { MESSAGES, type Messages } from './messages.ts';
import type { SealImage } from './seal-images.ts';
import { REPORT_STYLE } from './style.ts';
import type { SignatureThumbnails } from './thumbnails.ts';

export interface HtmlReportInput {
  report: VerificationReport;
  language: ReportLanguage;
  /** field name → the seal image its widget shows. */
  images: ReadonlyMap<string, SealImage>;
  /** field name → the pages its seal marks (thumbnails.ts); a signature without an entry shows none. */
  thumbnails?: ReadonlyMap<string, SignatureThumbnails>;
  /** Present when the caller named expected signers. */
  expected?: readonly ExpectedSignerResult[];
  document: { name: string; size: number; sha256: string };
  generatedAt: Date;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value → HTML that shows it as text. C0 controls (other than tab and newline) are dropped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/** A tagged template whose interpolations are escaped unless they are `Html` already. */
class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}
type Part = Html | string | number | null | undefined | readonly Part[];
function part(value: Part): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return (value as readonly Part[]).map(part).join('');
  return escapeHtml(String(value));
}
function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  return new Html(strings.reduce((out, s, i) => out + s + (i < values.length ? part(values[i]!) : ''), ''));
}

const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

export function renderReportHtml(input: HtmlReportInput): string {
  const m = MESSAGES[input.language];
  const { report } = input;
  const page = html`<!DOCTYPE html>
<html lang="${input.language === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="seald">
<title>${m.title} — ${input.document.name}</title>
<style>${new Html(REPORT_STYLE)}</style>
</head>
<body>
<main>
<header>
<h1>${m.title}</h1>
<div class="document-verdict">${badge(report.verdict, m)}<p>${m.documentVerdict[report.verdict]}</p></div>
<table class="facts">
${row(m.file, input.document.name)}
${row(m.size, `${input.document.size.toLocaleString('en')} B`)}
${row(m.sha256, html`<code>${input.document.sha256}</code>`)}
${row(m.revisions, report.revisions)}
${row(m.generated, time(input.generatedAt.toISOString()))}
</table>
</header>
${summary(input, m)}
${report.signatures.map((s, i) => signatureSection(s, i, input, m))}
<footer><p>${m.footer}</p><p class="small">${report.reasons.join(' ')}</p></footer>
</main>
</body>
</html>
`;
  return page.text;
}

function badge(verdict: Verdict, m: Messages): Html {
  return html`<span class="badge badge-${verdict.toLowerCase()}" data-verdict="${verdict}">${m.verdict[verdict]}</span>`;
}

/** The visual check's mark: a comparison that passed (or was not needed) ✓, a shadow attack ✗, no answer ?. */
const VISUAL_MARKS: Record<VisualCheckResult, boolean | undefined> = { NOT_NEEDED: true, SAME: true, DIFFERENT: false, SKIPPED: undefined, BUDGET_EXCEEDED: undefined };

function mark(ok: boolean | undefined): Html {
  if (ok === undefined) return html`<span class="mark mark-unknown" aria-hidden="true">?</span>`;
  return ok ? html`<span class="mark mark-ok" aria-hidden="true">✓</span>` : html`<span class="mark mark-bad" aria-hidden="true">✗</span>`;
}

function row(label: string, value: Part): Html {
  return html`<tr><th scope="row">${label}</th><td>${value}</td></tr>`;
}

/** ISO 8601 UTC → `2026-11-21 01:11:55 UTC`: one reading everywhere, whatever the reader's time zone. */
function time(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return match === null ? iso : `${match[1]} ${match[2]} UTC`;
}

/** Who holds the seal: the certificate's CN (the seal's name), with its organisation when the CN does not say it. */
function holderOf(s: SignatureReport, m: Messages): string {
  if (s.signer === null) return m.unknown;
  const cn = subjectAttributes(s.signer.subject).find(([type]) => type === 'CN')?.[1];
  const o = s.signer.organisation;
  if (cn === undefined) return o ?? s.signer.subject;
  return o === null || cn.includes(o) ? cn : `${cn} · ${o}`;
}

function isTimestamp(s: SignatureReport): boolean {
  return s.subFilter === 'ETSI.RFC3161';
}

function summary(input: HtmlReportInput, m: Messages): Html {
  const { report } = input;
  const signatures = report.signatures;
  const last = signatures[signatures.length - 1];
  let since: Html | undefined;
  if (last !== undefined) {
    if (report.lastRevisionCovered) since = html`<p class="since since-ok">${mark(true)} ${m.unchangedSinceLast}</p>`;
    else if (last.integrity === 'INTACT' && last.changes.length > 0 && last.changes.every((c) => c.allowed)) {
      since = html`<p class="since since-ok">${mark(true)} ${m.changedAllowedSinceLast}</p>`;
    } else since = html`<p class="since since-bad">${mark(false)} ${m.changedSinceLast}</p>`;
  }
  return html`<section class="summary">
<h2>${m.summary}</h2>
<p>${signatures.length === 0 ? m.noSeals : m.sealCount(signatures.length)}</p>
${signatures.length === 0 ? null : html`<h3>${m.order}</h3>
<ol class="order">${signatures.map((s, i) => html`<li><a href="#signature-${i + 1}">${holderOf(s, m)}</a> ${badge(s.verdict, m)} <span class="small">${signingTime(s) ?? ''} · ${m.field} ${s.field}</span></li>`)}</ol>`}
${since}
${input.expected === undefined ? null : expectedSection(input.expected, m)}
</section>`;
}

function signingTime(s: SignatureReport): string | undefined {
  const t = s.timestampTime ?? s.claimedSigningTime;
  return t === null ? undefined : time(t);
}

function expectedSection(results: readonly ExpectedSignerResult[], m: Messages): Html {
  const all = results.every((r) => r.outcome === 'signed');
  return html`<div class="expected">
<h3>${m.expectedSigners}</h3>
<table><tbody>${results.map(
    (r) => html`<tr class="expected-${r.outcome}"><td>${mark(r.outcome === 'signed')}</td><td>${r.expected.spec}</td><td>${m.expectedOutcome[r.outcome]}${r.fields.length > 0 ? html` <span class="small">(${m.field} ${r.fields.join(', ')})</span>` : null}</td></tr>`,
  )}</tbody></table>
<p class="${all ? 'since since-ok' : 'since since-bad'}">${mark(all)} ${all ? m.allExpectedSigned : m.notAllExpectedSigned}</p>
</div>`;
}

function signatureSection(s: SignatureReport, index: number, input: HtmlReportInput, m: Messages): Html {
  const image = input.images.get(s.field);
  const placement = s.placement;
  const kind = isTimestamp(s)
    ? m.kinds.timestamp
    : [sealKindOf(s, m), m.kinds.seal, placement ? (m.placement[placement.kind] ?? placement.kind) : undefined].filter((k) => k !== undefined).join(' · ');
  const figure = isTimestamp(s)
    ? null
    : html`<figure class="seal-image">${
        image === undefined
          ? html`<div class="no-image">${m.noSealImage}</div>`
          : html`<img src="${image.dataUri}" width="${image.width}" height="${image.height}" alt="${m.sealImage}: ${holderOf(s, m)}">`
      }<figcaption>${m.sealImage}</figcaption></figure>`;
  return html`<section class="signature signature-${s.verdict.toLowerCase()}" id="signature-${index + 1}">
<h2>${m.signature(index + 1)} ${badge(s.verdict, m)} <span class="holder">${holderOf(s, m)}</span></h2>
<p class="headline">${headline(s, m)}</p>
<div class="signature-body">
${figure}
<table class="facts">
${row(m.holder, holderOf(s, m))}
${row(m.kind, kind)}
${placement && placement.pages.length > 0 ? row(m.pages, placement.pages.join(', ')) : null}
${row(m.field, s.field)}
${row(m.revision, s.revision ?? m.unknown)}
${row(m.signingTime, timeCell(s, m))}
${row(m.level, s.level === null ? '—' : (m.levels[s.level] ?? s.level))}
</table>
</div>
${where(input.thumbnails?.get(s.field), placement?.kind, m)}
${s.seal ? new Html(electronicSealHtml(s.seal, input.language)) : null}
${certificate(s, m)}
<h3>${m.checks}</h3>
<ul class="checks">
<li>${mark(s.integrity === 'INTACT')} ${m.integrity[s.integrity]}</li>
<li>${mark(s.trust === 'TRUSTED' ? true : s.trust === 'UNKNOWN' ? undefined : false)} ${m.trust[s.trust]}</li>
<li>${mark(s.changesAfter !== 'NOT_ALLOWED')} ${m.changesAfter[s.changesAfter]}</li>
${s.visualCheck ? html`<li>${mark(VISUAL_MARKS[s.visualCheck.result])} ${m.visualCheck[s.visualCheck.result]}</li>` : ''}
</ul>
${changes(s.changes, m)}
<div class="details"><h4>${m.details}</h4>
<p class="small">integrity ${s.integrity} · trust ${s.trust} · changesAfter ${s.changesAfter} · ${m.algorithms}${s.algorithmFamily ? ` (${m.algorithmFamily[s.algorithmFamily]})` : ''} ${s.subFilter ?? '?'} ${s.digestAlgorithm ?? '?'} ${s.signatureAlgorithm ?? '?'} · ByteRange [${(s.byteRange ?? []).join(' ')}]</p>
${s.certificationLevel !== undefined || s.perms !== undefined || s.otherFields !== undefined ? html`<p class="small">${s.certificationLevel !== undefined ? `DocMDP P=${s.certificationLevel} ` : ''}${s.perms !== undefined ? `/Perms /${s.perms} ` : ''}${s.otherFields !== undefined ? `+ ${s.otherFields.join(', ')}` : ''}</p>` : ''}
${s.visualCheck ? html`<p class="small">visualCheck ${s.visualCheck.result}: ${s.visualCheck.reason}</p>` : ''}
<ul class="small">${s.reasons.map((r) => html`<li>${r}</li>`)}</ul>
</div>
</section>`;
}

/**
 * The seal's kind (公章, 合同专用章 …) when the verification carries one: a `kind` on the signature, as seald's kind
 * names spell it (src/auth/seal-kinds.ts) or as the proto's SealKind (SEAL_KIND_CONTRACT); an unknown word is shown
 * as it is (escaped like every string), a missing one not at all.
 */
function sealKindOf(s: SignatureReport, m: Messages): string | undefined {
  const kind = (s as SignatureReport & { kind?: unknown }).kind;
  if (typeof kind !== 'string' || kind.trim() === '') return undefined;
  const key = kind.trim().toLowerCase().replace(/^seal_kind_/, '').replace(/-/g, '_');
  if (key === 'unspecified') return undefined;
  return m.sealKinds[key === 'organization' ? 'official' : key] ?? kind.trim().slice(0, 64);
}

/** The one sentence that explains the verdict: the first thing that is wrong, else that all is well. */
function headline(s: SignatureReport, m: Messages): string {
  if (s.integrity !== 'INTACT') return m.integrity[s.integrity];
  if (s.changesAfter === 'NOT_ALLOWED') return m.changesAfter.NOT_ALLOWED;
  if (s.trust !== 'TRUSTED') return m.trust[s.trust];
  return `${m.integrity.INTACT} ${m.trust.TRUSTED}`;
}

function timeCell(s: SignatureReport, m: Messages): Html {
  if (s.timestampTime !== null) return html`${time(s.timestampTime)} <span class="small">${mark(true)} ${m.timestampProves(time(s.timestampTime))}</span>`;
  if (s.claimedSigningTime !== null) return html`${time(s.claimedSigningTime)} <span class="small">(${m.claimedOnly})</span>`;
  return html`${m.unknown}`;
}

function certificate(s: SignatureReport, m: Messages): Html | null {
  if (s.signer === null) return null;
  const trusted = s.trust === 'TRUSTED';
  return html`<h3>${m.certificate}</h3>
<table class="facts certificate">
${row(m.subject, s.signer.subject)}
${row(m.issuer, s.signer.issuer)}
${row(m.serial, html`<code>${s.signer.serial}</code>`)}
${row(m.validity, `${time(s.signer.notBefore)} — ${time(s.signer.notAfter)}`)}
${row(m.trusted, html`${mark(trusted)} ${m.trust[s.trust]}`)}
</table>`;
}

function changes(list: readonly Change[], m: Messages): Html {
  if (list.length === 0) return html`<h3>${m.changesAfterTitle}</h3><p>${m.noChanges}</p>`;
  return html`<h3>${m.changesAfterTitle}</h3>
<table class="changes"><tbody>${list.map(
    (c) => html`<tr class="${c.allowed ? 'change-allowed' : 'change-not-allowed'}"><td>${m.inRevision(c.revision)}</td><td>${mark(c.allowed)} ${c.allowed ? m.allowed : m.notAllowed}</td><td>${m.changeKinds[c.kind] ?? c.kind}<br><span class="small">${c.description}</span></td></tr>`,
  )}</tbody></table>`;
}

/** The pages a seal marks, each with the seal's rectangle over the page (or its outline), side by side. */
function where(thumbnails: SignatureThumbnails | undefined, kind: string | undefined, m: Messages): Html | null {
  if (thumbnails === undefined || thumbnails.pages.length === 0) return null;
  const pct = (v: number, of: number): string => `${Math.round(Math.min(100, Math.max(0, (v / of) * 100)) * 100) / 100}%`;
  const notes = [
    kind === 'CrossPage' ? m.crossPageStrips : null,
    thumbnails.pages.some((p) => p.image === undefined) ? m.pageOutlineOnly : null,
    thumbnails.morePages > 0 ? m.morePages(thumbnails.morePages) : null,
  ].filter((n) => n !== null);
  return html`<h3>${m.where}</h3>
<figure class="where"><div class="thumbnails">${thumbnails.pages.map(
    (p) => html`<div class="thumbnail"><div class="${p.image === undefined ? 'page page-outline' : 'page'}" style="aspect-ratio: ${Math.round(p.width)} / ${Math.round(p.height)}">${
      p.image === undefined ? null : html`<img class="page-image" src="${p.image}" alt="${m.pageNumber(p.page)}">`
    }${p.marks.map(
      (r) => html`<span class="seal-rect" style="left: ${pct(r.x, p.width)}; top: ${pct(p.height - r.y - r.height, p.height)}; width: ${pct(r.width, p.width)}; height: ${pct(r.height, p.height)}"></span>`,
    )}</div><div class="small">${m.pageNumber(p.page)}</div></div>`,
  )}</div>${notes.length === 0 ? null : html`<figcaption class="small">${notes.join(' ')}</figcaption>`}</figure>`;
}
