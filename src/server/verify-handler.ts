/**
 * The Verify RPC: header → spooled chunks → engine (src/verify) → one report. A forged document is an answer, not an
 * error: only framing, size, deadline and cancellation end the call with a status.
 */
import { performance } from 'node:perf_hooks';
import { create } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import {
  SignatureVerificationSchema,
  Verdict,
  VerifyResponseSchema,
  type VerifyRequest,
  type VerifyResponse,
} from '../gen/seald/v1/verify_pb.ts';
import type { ByteSource } from '../pdf/source.ts';
import type { Verdict as VerdictName, VerificationReport } from '../engine/verify/report.ts';
import { verifyDocument } from '../engine/verify/verify.ts';
import { abortReason, callLifetime, requestIdOf, failedCall } from './call.ts';
import { callAccess } from './access.ts';
import type { ServiceContext } from './context.ts';
import { readHeader, receiveSource } from './upload.ts';

type VerifyCall = grpc.ServerReadableStream<VerifyRequest, VerifyResponse>;

export function verifyHandler(context: ServiceContext): grpc.handleClientStreamingCall<VerifyRequest, VerifyResponse> {
  return (call, callback) => {
    context.track(handleVerify(context, call, callback));
  };
}

async function handleVerify(context: ServiceContext, call: VerifyCall, callback: grpc.sendUnaryData<VerifyResponse>): Promise<void> {
  const started = performance.now();
  const requestId = requestIdOf(call);
  const lifetime = callLifetime(call);
  const access = callAccess(context, call, 'verify', requestId);
  const log = context.logger.child({ requestId, rpc: 'Verify' });
  let source: ByteSource | undefined;
  try {
    const messages = call.iterator({ destroyOnReturn: false }) as AsyncIterator<VerifyRequest>;
    const header = await readHeader(messages, lifetime, 'Verify');
    // Verifying uses no seal: the policy only says who may ask. Refusals go to the audit log, verdicts do not.
    access.authorize();
    ({ source } = await receiveSource(context, messages, header.documentSize, lifetime, 'Verify'));
    const report = await verifyDocument(source, { trustAnchors: context.trustAnchors });
    if (lifetime.signal.aborted) throw abortReason(lifetime.signal);
    log.info({ bytes: source.size, verdict: report.verdict, signatures: report.signatures.length, ms: Math.round(performance.now() - started) }, 'verified');
    callback(null, verifyResponse(report));
  } catch (error) {
    if (!lifetime.clientGone) await access.failed(error);
    const { status } = failedCall(error, { lifetime, requestId, log, rpc: 'verify' });
    if (status !== undefined) callback(status);
  } finally {
    lifetime.dispose();
    await source?.close().catch(() => undefined);
  }
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
