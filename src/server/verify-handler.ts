/**
 * The Verify RPC: header → spooled chunks → engine (src/engine/verify) → one report. A forged document is an answer, not an
 * error: only framing, size, deadline and cancellation end the call with a status. With want_html the response also
 * carries the report for people (src/report), built from the same verification and the same spooled bytes.
 */
import { performance } from 'node:perf_hooks';
import { create } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import {
  ElectronicSealSchema,
  ExpectedSignerCheckSchema,
  SignatureVerificationSchema,
  type ElectronicSeal,
  Verdict,
  VerifyResponseSchema,
  type VerifyHeader,
  type VerifyRequest,
  type VerifyResponse,
} from '../gen/seald/v1/verify_pb.ts';
import type { ElectronicSealReport, Verdict as VerdictName, VerificationReport } from '../engine/verify/report.ts';
import { verifyDocument } from '../engine/verify/verify.ts';
import { SealdError } from '../errors.ts';
import { htmlReport } from '../report/document-report.ts';
import { findPageRenderer } from '../report/page-render.ts';
import { findPageRasterizer } from '../report/page-raster.ts';
import { checkExpectedSigners, parseExpectedSigner } from '../report/expected-signers.ts';
import { isReportLanguage, type ReportLanguage } from '../report/language.ts';
import { abortReason } from './call.ts';
import { runDocumentCall, type DocumentCall } from './document-call.ts';
import type { ServiceContext } from './context.ts';

export function verifyHandler(context: ServiceContext): grpc.handleClientStreamingCall<VerifyRequest, VerifyResponse> {
  return (call, callback) => {
    const messages = call.iterator({ destroyOnReturn: false }) as AsyncIterator<VerifyRequest>;
    const spec = { rpc: 'Verify', operation: 'verify', auditAbandoned: false } as const;
    context.track(runDocumentCall(context, call, messages, spec, (status) => callback(status), (dc) => handleVerify(context, dc, callback)));
  };
}

async function handleVerify(context: ServiceContext, dc: DocumentCall<VerifyHeader>, callback: grpc.sendUnaryData<VerifyResponse>): Promise<void> {
  const header = await dc.header();
  // Verifying uses no seal: the policy only says who may ask. Refusals go to the audit log, verdicts do not.
  dc.access.authorize();
  const language = reportLanguage(header.reportLanguage);
  const { source } = await dc.receive(header);
  const visual = context.verifyVisual;
  const report = await verifyDocument(source, {
    trustAnchors: context.trustAnchors,
    strict: header.strict ?? context.verifyStrict ?? false,
    visual: { ...visual, enabled: header.visualCheck ?? visual?.enabled ?? true, rasterizer: findPageRasterizer(process.env), signal: dc.lifetime.signal },
  });
  if (dc.lifetime.signal.aborted) throw abortReason(dc.lifetime.signal);
  const expectedSigners = header.expectedSigners.filter((s) => s.trim() !== '');
  const html = header.wantHtml
    ? await htmlReport(source, report, { language, documentName: header.documentName || 'document.pdf', expectedSigners, pageRenderer: findPageRenderer(process.env), signal: dc.lifetime.signal })
    : undefined;
  if (dc.lifetime.signal.aborted) throw abortReason(dc.lifetime.signal);
  dc.log.info({ bytes: source.size, verdict: report.verdict, signatures: report.signatures.length, html: html !== undefined, ms: Math.round(performance.now() - dc.started) }, 'verified');
  const response = verifyResponse(report, expectedSigners);
  if (html !== undefined) response.reportHtml = html;
  callback(null, response);
}

function reportLanguage(requested: string): ReportLanguage {
  if (requested === '') return 'en';
  if (!isReportLanguage(requested)) {
    throw new SealdError('invalid-input', 'BAD_REPORT_LANGUAGE', `report_language is "zh" or "en", not ${JSON.stringify(requested.slice(0, 20))}`);
  }
  return requested;
}

const VERDICTS: Record<VerdictName, Verdict> = {
  VALID: Verdict.VALID,
  INVALID: Verdict.INVALID,
  INDETERMINATE: Verdict.INDETERMINATE,
};

export function verifyResponse(report: VerificationReport, expectedSigners: readonly string[] = []): VerifyResponse {
  return create(VerifyResponseSchema, {
    expectedSigners: checkExpectedSigners(report, expectedSigners.map(parseExpectedSigner)).map((r) =>
      create(ExpectedSignerCheckSchema, { signer: r.expected.spec, signed: r.outcome === 'signed', fields: r.fields }),
    ),
    verdict: VERDICTS[report.verdict],
    reasons: report.reasons,
    revisions: report.revisions,
    lastRevisionCovered: report.lastRevisionCovered,
    repairedOriginal: report.repairedOriginal?.reason ?? '',
    signatures: report.signatures.map((s) =>
      create(SignatureVerificationSchema, {
        field: s.field,
        revision: s.revision ?? 0,
        verdict: VERDICTS[s.verdict],
        integrity: s.integrity,
        trust: s.trust,
        changesAfter: s.changesAfter,
        coversWholeDocument: s.coversWholeDocument,
        signerSubject: s.signer?.subject ?? '',
        reasons: s.reasons,
        level: s.level ?? '',
        timestampTime: s.timestampTime ?? '',
        ...(s.seal ? { seal: electronicSeal(s.seal) } : {}),
        indication: s.indication ?? '',
        subIndication: s.subIndication ?? '',
        algorithmFamily: s.algorithmFamily ?? '',
        sealKind: s.sealKind ?? '',
        otherFields: s.otherFields ?? [],
        certificationLevel: s.certificationLevel ?? 0,
        perms: s.perms ?? '',
        visualCheck: s.visualCheck?.result ?? '',
        visualCheckReason: s.visualCheck?.reason ?? '',
      }),
    ),
    reportJson: JSON.stringify(report),
    indication: report.indication ?? '',
    subIndication: report.subIndication ?? '',
    strict: report.strict ?? false,
    usageRights: (report.usageRights ?? []).map((u) => `${u.entry}: ${u.permissions.join('; ')}`),
  });
}

/** A GB/T 38540 / GM/T 0031 seal's report as the proto's ElectronicSeal. */
function electronicSeal(seal: ElectronicSealReport): ElectronicSeal {
  return create(ElectronicSealSchema, {
    format: seal.format,
    name: seal.name,
    code: seal.code,
    type: seal.type,
    validStart: seal.validStart ?? '',
    validEnd: seal.validEnd ?? '',
    validity: seal.validity,
    picture: Buffer.from(seal.picture.data, 'base64'),
    pictureType: seal.picture.type,
    pictureWidthMm: Math.max(0, seal.picture.width),
    pictureHeightMm: Math.max(0, seal.picture.height),
    makerSignature: seal.makerSignature,
    makerSubject: seal.maker?.subject ?? '',
  });
}
