/**
 * The Seal RPC: header → spooled chunks → engine → original bytes + appended revision + summary.
 * Framing rules (see proto/seald/v1/seald.proto): the first request message is the header and only the first; chunks
 * follow; the response is chunks (each ≤ 1 MiB) and then exactly one summary.
 */
import { performance } from 'node:perf_hooks';
import { create } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import type { SealMaterial, SealOutcome } from '../engine/seal.ts';
import type { ByteSource } from '../pdf/source.ts';
import {
  SealResponseSchema,
  type SealHeader,
  type SealRequest,
  type SealResponse,
} from '../gen/seald/v1/seald_pb.ts';
import { placementDetails } from './access.ts';
import { abortReason, type CallLifetime } from './call.ts';
import { runDocumentCall, type DocumentCall } from './document-call.ts';
import type { AdmissionTicket } from './admission.ts';
import type { ServiceContext } from './context.ts';
import { placementOf } from '../rpc/placement-of.ts';
import { documentSizeHint, send } from './upload.ts';
import { availableSeal, noteMissingTimestamp, optionsOf, RESPONSE_CHUNK_BYTES } from './seal-request.ts';
import { summaryOf } from '../rpc/seal-summary.ts';

type SealCall = grpc.ServerDuplexStream<SealRequest, SealResponse>;

export function sealHandler(context: ServiceContext): grpc.handleBidiStreamingCall<SealRequest, SealResponse> {
  return (call) => {
    const messages = call.iterator({ destroyOnReturn: false }) as AsyncIterator<SealRequest>;
    const spec = { rpc: 'Seal', operation: 'seal', auditAbandoned: true, refusedLevel: 'debug' } as const;
    let ticket: AdmissionTicket | undefined;
    context.metrics.inflightDocuments.inc();
    context.track(
      runDocumentCall(
        context,
        call,
        messages,
        spec,
        (status) => call.emit('error', status),
        (dc) => handleSeal(context, call, dc, (admitted) => (ticket = admitted)),
        (dc, code, durationMs) => {
          ticket?.release();
          context.metrics.inflightDocuments.dec();
          context.metrics.sealRequests.inc({ seal: dc.seal, code });
          context.metrics.sealDuration.observe({ seal: dc.seal }, durationMs / 1000);
        },
      ),
    );
  };
}

async function handleSeal(
  context: ServiceContext,
  call: SealCall,
  dc: DocumentCall<SealHeader>,
  admitted: (ticket: AdmissionTicket | undefined) => void,
): Promise<void> {
  const header = await dc.header();
  try {
    await handleSealHeader(context, call, dc, header, admitted);
  } finally {
    header.activation?.pin.fill(0); // zeroed whatever happened (a refusal may come before the activation opened)
  }
}

async function handleSealHeader(
  context: ServiceContext,
  call: SealCall,
  dc: DocumentCall<SealHeader>,
  header: SealHeader,
  admitted: (ticket: AdmissionTicket | undefined) => void,
): Promise<void> {
  const { access } = dc;
  access.authorize(header.sealId, placementDetails(header.placement));
  dc.placement = header.placement?.kind.case ?? '(none)';
  const seal = availableSeal(context, header.sealId);
  dc.seal = seal.config.id;
  access.note({ certificateSerial: seal.certificate.serialNumber });
  dc.log = dc.log.child({ sealId: seal.config.id });
  const placement = placementOf(header.placement);
  const options = optionsOf(header, context);
  // Before any upload or token call: PIN over TLS, present when required, seal not throttled.
  const activation = context.activation.open(seal, header.activation);
  try {
    await sealWithActivation(context, call, dc, header, seal, activation.material, placement, options, admitted);
    activation.settle(undefined);
  } catch (error) {
    activation.settle(error);
    throw error;
  }
}

async function sealWithActivation(
  context: ServiceContext,
  call: SealCall,
  dc: DocumentCall<SealHeader>,
  header: SealHeader,
  seal: ReturnType<typeof availableSeal>,
  material: SealMaterial,
  placement: ReturnType<typeof placementOf>,
  options: ReturnType<typeof optionsOf>,
  admitted: (ticket: AdmissionTicket | undefined) => void,
): Promise<void> {
  const { access, lifetime } = dc;
  // Wait for a place (bounded queue, the caller's deadline) before taking any bytes of the document.
  const ticket = await context.admission
    ?.admit(lifetime.signal, header.documentSize === undefined ? 0 : Math.min(documentSizeHint(header.documentSize), context.limits.maxDocumentBytes))
    .catch((error: unknown) => {
      throw lifetime.signal.aborted ? abortReason(lifetime.signal) : error;
    });
  admitted(ticket);
  const { source, digest: sourceDigest } = await dc.receive(header, (bytes) => ticket?.reserve(bytes));
  dc.log.debug({ bytes: dc.bytesIn }, 'document received');
  access.note({ inputSha256: sourceDigest.copy().digest('hex') });
  context.metrics.documentBytes.observe(source.size);

  const stopSealTimer = context.metrics.documentSealDuration.startTimer({ operation: 'seal', placement: dc.placement });
  const outcome = await context.sealDocument(source, material, placement, {
    ...options,
    sourceDigest,
    signal: lifetime.signal,
    approvePages: (pages) => access.authorize(header.sealId, { ...placementDetails(header.placement), pages: [...pages] }),
  });
  stopSealTimer();
  if (lifetime.signal.aborted) throw abortReason(lifetime.signal);
  noteMissingTimestamp(context, dc.log, outcome);

  if (outcome.repaired !== undefined) {
    dc.repaired = { reason: outcome.repaired, ...(outcome.repairedHow === undefined ? {} : { how: outcome.repairedHow }) };
  }
  await sendDocument(call, source, outcome, lifetime, (sent) => (dc.bytesOut += sent));
  await access.succeeded({
    outputSha256: sourceDigest.copy().update(outcome.appended).digest('hex'),
    revision: outcome.revision,
    placement: { pages: outcome.pages, byteRange: outcome.byteRange, fieldName: outcome.fieldName },
    ...(dc.repaired === undefined ? {} : { repaired: dc.repaired }),
  });
  await send(call, create(SealResponseSchema, { payload: { case: 'summary', value: summaryOf(outcome, dc.bytesOut) } }), lifetime);
  // Release the document (and its spool file) before the status: once a caller sees OK, nothing of it is left.
  await dc.release();
  call.end();
  dc.log.debug(
    {
      bytesIn: dc.bytesIn,
      bytesOut: dc.bytesOut,
      field: outcome.fieldName,
      revision: outcome.revision,
      pages: outcome.pages,
      ms: Math.round(performance.now() - dc.started),
    },
    'sealed',
  );
}

/** Original bytes from the source, then the new revision; `onSent` counts each chunk written (logs show how far). */
async function sendDocument(
  call: SealCall,
  source: ByteSource,
  outcome: SealOutcome,
  lifetime: CallLifetime,
  onSent: (bytes: number) => void,
): Promise<void> {
  for await (const chunk of source.chunks(0, source.size, RESPONSE_CHUNK_BYTES)) {
    await send(call, create(SealResponseSchema, { payload: { case: 'chunk', value: chunk } }), lifetime);
    onSent(chunk.byteLength);
  }
  const appended = outcome.appended;
  for (let offset = 0; offset < appended.byteLength; offset += RESPONSE_CHUNK_BYTES) {
    const chunk = appended.subarray(offset, Math.min(offset + RESPONSE_CHUNK_BYTES, appended.byteLength));
    await send(call, create(SealResponseSchema, { payload: { case: 'chunk', value: chunk } }), lifetime);
    onSent(chunk.byteLength);
  }
}
