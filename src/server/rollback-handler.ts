/**
 * The Rollback RPC (撤销签章): header → spooled chunks → engine.planRollback → authorise against the seal whose
 * certificate made the last signature → the document's first bytes, as they were before that seal → summary.
 * The audit record is durable before the summary is sent. Framing as in Seal (proto/seald/v1/rollback.proto).
 */
import { createHash } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { certificatePublicKeyInfo } from '../crypto/certificate.ts';
import { planRollback, type RollbackPlan } from '../engine/rollback.ts';
import { SealdError } from '../errors.ts';
import {
  RollbackResponseSchema,
  RollbackSummarySchema,
  type RollbackHeader,
  type RollbackRequest,
  type RollbackResponse,
} from '../gen/seald/v1/rollback_pb.ts';
import type { CallAccess } from './access.ts';
import { runDocumentCall, type DocumentCall } from './document-call.ts';
import type { ServiceContext } from './context.ts';
import { RESPONSE_CHUNK_BYTES } from './seal-request.ts';
import type { ConfiguredSeal } from './seals.ts';
import { send } from './upload.ts';

type RollbackCall = grpc.ServerDuplexStream<RollbackRequest, RollbackResponse>;

export function rollbackHandler(context: ServiceContext): grpc.handleBidiStreamingCall<RollbackRequest, RollbackResponse> {
  return (call) => {
    const messages = call.iterator({ destroyOnReturn: false }) as AsyncIterator<RollbackRequest>;
    const spec = { rpc: 'Rollback', operation: 'rollback', auditAbandoned: true } as const;
    context.track(runDocumentCall(context, call, messages, spec, (status) => call.emit('error', status), (dc) => handleRollback(context, call, dc)));
  };
}

async function handleRollback(context: ServiceContext, call: RollbackCall, dc: DocumentCall<RollbackHeader>): Promise<void> {
  const { access, lifetime } = dc;
  const header = await dc.header();
  // Nothing to roll back with no rollback permission at all: say so before the upload.
  if (![...context.seals.keys()].some((id) => access.allows('rollback', id))) access.authorize();
  const { source, digest } = await dc.receive(header);
  access.note({ inputSha256: digest.copy().digest('hex') });

  const plan = await planRollback(source, {
    ...(header.fieldName === '' ? {} : { fieldName: header.fieldName }),
  });
  access.note({ certificateSerial: plan.signer.serialNumber, revision: plan.revision });
  const seal = authorizeRollback(context, access, plan);
  dc.seal = seal.config.id;

  const output = createHash('sha256');
  for await (const chunk of source.chunks(0, plan.outputLength, RESPONSE_CHUNK_BYTES)) {
    await send(call, create(RollbackResponseSchema, { payload: { case: 'chunk', value: chunk } }), lifetime);
    output.update(chunk);
    dc.bytesOut += chunk.byteLength;
  }
  const outputSha256 = output.digest();
  await access.succeeded({ outputSha256: outputSha256.toString('hex') });
  const summary = create(RollbackSummarySchema, {
    fieldName: plan.fieldName,
    removedRevision: plan.revision,
    sealId: seal.config.id,
    signerSubject: plan.signer.subject,
    certificateSerial: plan.signer.serialNumber,
    documentSize: BigInt(plan.outputLength),
    documentSha256: outputSha256,
  });
  await send(call, create(RollbackResponseSchema, { payload: { case: 'summary', value: summary } }), lifetime);
  await dc.release();
  call.end();
  dc.log.info({ sealId: seal.config.id, field: plan.fieldName, revision: plan.revision }, 'rolled back');
}

/**
 * The seal the removed signature belongs to: a configured seal with the same certificate, or the same key (a renewed
 * certificate), on which the caller holds the rollback permission. The refusal names only the signer, which the
 * caller's own document shows, never the server's seal ids.
 */
function authorizeRollback(context: ServiceContext, access: CallAccess, plan: RollbackPlan): ConfiguredSeal {
  const spki = Buffer.from(certificatePublicKeyInfo(plan.signerCertificate));
  const owners = [...context.seals.values()].filter((seal) => {
    const certificate = seal.material.signer.certificates[0];
    if (certificate === undefined) return false;
    return Buffer.from(certificate).equals(Buffer.from(plan.signerCertificate)) || Buffer.from(certificatePublicKeyInfo(certificate)).equals(spki);
  });
  const allowed = owners.find((seal) => access.allows('rollback', seal.config.id));
  if (allowed === undefined) {
    throw new SealdError(
      'permission',
      'PERMISSION_MISSING',
      `${access.principal.name} lacks the permission "rollback" on the seal that made the last signature (${plan.signer.subject})`,
    );
  }
  access.note({ sealId: allowed.config.id });
  return allowed;
}
