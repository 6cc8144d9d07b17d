/**
 * `seald verify FILE`: verify locally, in this process (no token, no server), or with --server ask a running server's
 * VerifyService. Exit status 0 when the document's verdict is VALID, 1 otherwise (INVALID, INDETERMINATE, or a
 * failure), 2 for a command line that cannot be run.
 *
 * Trust anchors, locally: --trust PEM (repeatable), else SEALD_TRUST_ANCHORS, else the trust.anchors of the
 * configuration (--config, SEALD_CONFIG, or the data directory's seald.yaml: the dev CA of the embedded defaults).
 *
 * --html FILE also writes the report for people (src/report: one self-contained page, zh or en by --lang or the
 * locale), built here from the same verification, or by the server with --server; --pdf FILE prints that page with
 * Chromium. --expect-signer names who must have sealed: the exit status is then 1 unless each has a VALID seal.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { VerifyRequestSchema, VerifyService, type VerifyResponse } from '../../gen/seald/v1/verify_pb.ts';
import { FileSource } from '../../pdf/file-source.ts';
import { DEFAULTS, loadConfig } from '../../config/config.ts';
import { grpcClientConstructor } from '../../rpc/grpc-service.ts';
import { loadTrustAnchors } from '../../crypto/anchors.ts';
import type { SignatureReport, VerificationReport } from '../../engine/verify/report.ts';
import { verifyDocument } from '../../engine/verify/verify.ts';
import { channelCredentials, channelTarget, UPLOAD_CHUNK_BYTES, type ClientTls } from '../client.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from '../io.ts';
import { formatTable } from '../table.ts';
import { clientTls, serverAddresses, SERVER_OPTION } from './server-option.ts';
import { documentPassword, PASSWORD_OPTION } from '../password-option.ts';
import { setDocumentPassword } from '../../pdf/document.ts';
import { htmlReport } from '../../report/document-report.ts';
import { checkExpectedSigners, parseExpectedSigner, type ExpectedSignerResult } from '../../report/expected-signers.ts';
import { isReportLanguage, languageFromLocale, type ReportLanguage } from '../../report/language.ts';
import { printReportPdf } from '../../report/print-pdf.ts';
import { findPageRenderer } from '../../report/page-render.ts';
import { findPageRasterizer } from '../../report/page-raster.ts';

/** What the people's report needs from the command line: where to write it, in which language, whom to expect. */
interface ReportRequest {
  html: string | undefined;
  pdf: string | undefined;
  language: ReportLanguage;
  expectedSigners: string[];
  documentName: string;
}

export async function verifyCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      strict: { type: 'boolean' },
      'no-visual-check': { type: 'boolean' },
      trust: { type: 'string', multiple: true },
      config: { type: 'string' },
      timeout: { type: 'string' },
      html: { type: 'string' },
      pdf: { type: 'string' },
      lang: { type: 'string' },
      'expect-signer': { type: 'string', multiple: true },
      ...SERVER_OPTION,
      ...PASSWORD_OPTION,
    },
  });
  if (positionals.length !== 1) throw new UsageError('verify takes exactly one FILE', 'verify');
  const file = positionals[0]!;
  if (!fs.existsSync(file)) throw new UsageError(`no such file: ${file}`, 'verify');
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds', 'verify');

  if (values.lang !== undefined && !isReportLanguage(values.lang)) throw new UsageError('--lang is zh or en', 'verify');
  const wanted: ReportRequest = {
    html: values.html,
    pdf: values.pdf,
    language: values.lang !== undefined && isReportLanguage(values.lang) ? values.lang : languageFromLocale(io.env),
    expectedSigners: (values['expect-signer'] ?? []).filter((s) => s.trim() !== ''),
    documentName: path.basename(file),
  };
  const wantPage = wanted.html !== undefined || wanted.pdf !== undefined;

  const password = await documentPassword(values, 'verify');
  let report: VerificationReport;
  let page: string | undefined;
  if (values.server !== undefined) {
    const address = await channelTarget(serverAddresses(values.server, io.env));
    const visualCheck = values['no-visual-check'] === true ? false : undefined;
    ({ report, page } = await verifyRemote(address, file, timeout, clientTls(values, io.env), password, wantPage ? wanted : undefined, values.strict, visualCheck));
  } else {
    const anchors = await localAnchors(values, io);
    const source = await FileSource.open(path.resolve(file));
    setDocumentPassword(source, password);
    try {
      report = await verifyDocument(source, {
        trustAnchors: anchors,
        strict: values.strict ?? io.env.SEALD_VERIFY_STRICT === 'true',
        visual: { enabled: values['no-visual-check'] !== true && io.env.SEALD_VERIFY_VISUAL_CHECK !== 'false', rasterizer: findPageRasterizer(io.env) },
        ...(timeout === undefined ? {} : { limits: { maxMillis: timeout * 1000 } }),
      });
      if (wantPage) page = await htmlReport(source, report, { ...wanted, pageRenderer: findPageRenderer(io.env) });
    } finally {
      await source.close();
    }
  }
  if (page !== undefined && wanted.html !== undefined) fs.writeFileSync(wanted.html, page);
  if (page !== undefined && wanted.pdf !== undefined) await printReportPdf(page, wanted.pdf, io.env);
  const expected = checkExpectedSigners(report, wanted.expectedSigners.map(parseExpectedSigner));
  io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : humanReport(file, report) + expectedLines(expected));
  return report.verdict === 'VALID' && expected.every((e) => e.outcome === 'signed') ? EXIT_OK : EXIT_FAILURE;
}

function expectedLines(results: ExpectedSignerResult[]): string {
  if (results.length === 0) return '';
  const words = { signed: 'sealed, VALID', 'not-valid': 'sealed, but not VALID', missing: 'NOT FOUND' } as const;
  const rows: [string, string][] = results.map((r) => [r.expected.spec, `${words[r.outcome]}${r.fields.length > 0 ? ` (${r.fields.join(', ')})` : ''}`]);
  return `${formatTable(['expected signer', 'outcome'], rows)}\n`;
}

async function localAnchors(values: { trust?: string[]; config?: string; 'data-dir'?: string }, io: CliIo): Promise<Uint8Array[]> {
  if (values.trust !== undefined && values.trust.length > 0) return loadTrustAnchors(values.trust);
  const fromEnv = io.env.SEALD_TRUST_ANCHORS;
  if (fromEnv) return loadTrustAnchors(fromEnv.split(path.delimiter).filter((p) => p !== ''));
  const dataDir = path.resolve(values['data-dir'] ?? io.env.SEALD_DATA_DIR ?? DEFAULTS.dataDir);
  const config = values.config ?? (io.env.SEALD_CONFIG || undefined) ?? path.join(dataDir, 'seald.yaml');
  if (!fs.existsSync(config)) {
    io.stderr(`seald: no trust anchors (no --trust, SEALD_TRUST_ANCHORS or ${config}): every signer will be UNTRUSTED\n`);
    return [];
  }
  const loaded = await loadConfig({ flags: { config }, env: io.env });
  return loadTrustAnchors(loaded.trust.anchors);
}

const VerifyClient = grpcClientConstructor(VerifyService);

async function verifyRemote(
  address: string,
  file: string,
  timeout: number | undefined,
  tls: ClientTls | undefined,
  password: string,
  wanted: ReportRequest | undefined,
  strict: boolean | undefined,
  visualCheck: boolean | undefined,
): Promise<{ report: VerificationReport; page: string | undefined }> {
  const client = new VerifyClient(address, channelCredentials(tls));
  try {
    const options: grpc.CallOptions = timeout === undefined ? {} : { deadline: new Date(Date.now() + timeout * 1000) };
    const response = await new Promise<VerifyResponse>((resolve, reject) => {
      const call = client.verify(new grpc.Metadata(), options, (error, value) =>
        error !== null || value === undefined ? reject(error) : resolve(value),
      );
      void (async () => {
        const size = fs.statSync(file).size;
        const write = async (message: Parameters<typeof call.write>[0]): Promise<void> => {
          if (!call.write(message)) await new Promise((r) => call.once('drain', r));
        };
        await write(create(VerifyRequestSchema, {
          payload: {
            case: 'header',
            value: {
              documentSize: BigInt(size),
              documentPassword: password,
              ...(strict === undefined ? {} : { strict }),
              ...(visualCheck === undefined ? {} : { visualCheck }),
              ...(wanted === undefined ? {} : { wantHtml: true, reportLanguage: wanted.language, expectedSigners: wanted.expectedSigners, documentName: wanted.documentName }),
            },
          },
        }));
        for await (const chunk of fs.createReadStream(file, { highWaterMark: UPLOAD_CHUNK_BYTES })) {
          await write(create(VerifyRequestSchema, { payload: { case: 'chunk', value: chunk as Buffer } }));
        }
        call.end();
      })().catch((error: unknown) => {
        call.cancel();
        reject(error);
      });
    });
    const report = JSON.parse(response.reportJson) as VerificationReport;
    return { report, page: wanted === undefined ? undefined : response.reportHtml };
  } finally {
    client.close();
  }
}

export function humanReport(file: string, report: VerificationReport): string {
  const lines = [
    `${file}: ${report.verdict}${report.indication ? ` (ETSI EN 319 102-1: ${report.indication}${report.subIndication ? ` / ${report.subIndication}` : ''})` : ''}${report.strict ? ' [strict]' : ''}`,
    `  ${report.revisions} revision${report.revisions === 1 ? '' : 's'}, ${report.signatures.length} signature${report.signatures.length === 1 ? '' : 's'}, last revision ${report.lastRevisionCovered ? 'covered' : 'NOT covered'} by a signature`,
    ...report.reasons.map((r) => `  - ${r}`),
    ...(report.repairedOriginal === undefined ? [] : [`  original repaired to be read (revisions 1..${report.repairedOriginal.revisions}): ${report.repairedOriginal.reason}`]),
    ...(report.usageRights ?? []).map((u) => `  usage rights (/Perms /${u.entry}, not judged): ${u.permissions.join('; ')}`),
    '',
  ];
  for (const s of report.signatures) lines.push(signatureTable(s));
  return lines.join('\n');
}

const CERTIFICATION_LEVELS = { 1: 'no changes', 2: 'form filling and signing', 3: 'form filling, signing and annotations' } as const;

function signatureTable(s: SignatureReport): string {
  const rows: [string, string][] = [
    ['verdict', s.verdict],
    ['revision', s.revision === null ? '?' : String(s.revision)],
    ['signer', s.signer?.subject ?? '?'],
    ['issuer', s.signer?.issuer ?? '?'],
    ['serial', s.signer?.serial ?? '?'],
    ['validity', s.signer ? `${s.signer.notBefore} .. ${s.signer.notAfter}` : '?'],
    ['signing time', s.claimedSigningTime ? `${s.claimedSigningTime} (claimed)` : '-'],
    ['timestamp', s.timestampTime ?? '-'],
    ['level', s.level ?? '-'],
    ['placement', s.placement ? `${s.placement.kind} pages ${s.placement.pages.join(',')}` : '-'],
    ['seal kind', s.sealKind ?? '-'],
    ['algorithms', `${s.subFilter ?? '?'} ${s.digestAlgorithm ?? '?'} ${s.signatureAlgorithm ?? '?'}${s.algorithmFamily === 'GM' ? ' (国密)' : ''}`],
    ['integrity', s.integrity],
    ['covers all', s.coversWholeDocument ? 'yes' : 'no'],
    ['changes after', s.changesAfter],
    ['trust', s.trust],
    ['ETSI', s.indication ? `${s.indication}${s.subIndication ? ` / ${s.subIndication}` : ''}` : '-'],
  ];
  if (s.certificationLevel !== undefined) rows.push(['certification', `DocMDP P=${s.certificationLevel} (${CERTIFICATION_LEVELS[s.certificationLevel]})`]);
  if (s.perms !== undefined) rows.push(['/Perms', `/${s.perms}`]);
  if (s.otherFields !== undefined) rows.push(['also field', s.otherFields.join(', ')]);
  if (s.visualCheck !== undefined) rows.push(['visual check', `${s.visualCheck.result}: ${s.visualCheck.reason}${s.visualCheck.millis > 0 ? ` (${s.visualCheck.millis} ms)` : ''}`]);
  for (const c of s.changes) rows.push([`  rev ${c.revision}`, `${c.allowed ? 'allowed' : 'NOT ALLOWED'}: ${c.description}`]);
  for (const r of s.reasons) rows.push(['reason', r]);
  return formatTable(['signature', s.field], rows);
}
