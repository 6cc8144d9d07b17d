/**
 * The Verify RPC: header → spooled chunks → engine (src/engine/verify) → one report. A forged document is an answer, not an
 * error: only framing, size, deadline and cancellation end the call with a status.
 */
import { performance } from 'node:perf_hooks';
import { create } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import {
  SignatureVerificationSchema,
  Verdict,
  VerifyResponseSchema,
  type VerifyHeader,
  type VerifyRequest,
  type VerifyResponse,
} from '../gen/seald/v1/verify_pb.ts';
import type { Verdict as VerdictName, VerificationReport } from '../engine/verify/report.ts';
import { verifyDocument } from '../engine/verify/verify.ts';
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
  const { source } = await dc.receive(header);
  const report = await verifyDocument(source, { trustAnchors: context.trustAnchors });
  if (dc.lifetime.signal.aborted) throw abortReason(dc.lifetime.signal);
  dc.log.info({ bytes: source.size, verdict: report.verdict, signatures: report.signatures.length, ms: Math.round(performance.now() - dc.started) }, 'verified');
  callback(null, verifyResponse(report));
}

const VERDICTS: Record<VerdictName, Verdict> = {
  VALID: Verdict.VALID,
  INVALID: Verdict.INVALID,
  INDETERMINATE: Verdict.INDETERMINATE,
};

export function verifyResponse(report: VerificationReport): VerifyResponse {
  return create(VerifyResponseSchema, {
    verdict: VERDICTS[report.verdict],
    reasons: report.reasons,
    revisions: report.revisions,
    lastRevisionCovered: report.lastRevisionCovered,
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
      }),
    ),
    reportJson: JSON.stringify(report),
  });
}
