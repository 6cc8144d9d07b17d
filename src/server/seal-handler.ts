/**
 * The Seal RPC: header → spooled chunks → engine → original bytes + appended revision + summary.
 * Framing rules (see proto/seald/v1/seald.proto): the first request message is the header and only the first; chunks
 * follow; the response is chunks (each ≤ 1 MiB) and then exactly one summary.
 */
import { performance } from 'node:perf_hooks';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type * as grpc from '@grpc/grpc-js';
import type { SealOptions, SealOutcome } from '../engine/seal.ts';
import { SealdError } from '../errors.ts';
import type { ByteSource } from '../pdf/source.ts';
import {
  SealResponseSchema,
  SealSummarySchema,
  type SealHeader,
  type SealRequest,
  type SealResponse,
} from '../gen/seald/v1/seald_pb.ts';
import { callAccess, placementDetails } from './access.ts';
import { abortReason, callLifetime, requestIdOf, type CallLifetime, failedCall } from './call.ts';
import type { AdmissionTicket } from './admission.ts';
import type { ServiceContext } from './context.ts';
import { logRequest, type Logger } from './logger.ts';
import { placementOf } from './placement-of.ts';
import type { ConfiguredSeal } from './seals.ts';
import { Spool } from './spool.ts';
import { documentSizeHint, readHeader, receiveSource, send } from './upload.ts';

/** Response chunk size: under grpc-js's default 4 MiB message limit with room to spare. */
export const RESPONSE_CHUNK_BYTES = 1024 * 1024;

type SealCall = grpc.ServerDuplexStream<SealRequest, SealResponse>;

export function sealHandler(context: ServiceContext): grpc.handleBidiStreamingCall<SealRequest, SealResponse> {
  return (call) => {
    context.track(handleSeal(context, call));
  };
}

async function handleSeal(context: ServiceContext, call: SealCall): Promise<void> {
  const started = performance.now();
  const requestId = requestIdOf(call);
  const lifetime = callLifetime(call);
  const access = callAccess(context, call, 'seal', requestId);
  let log = context.logger.child({ requestId, rpc: 'Seal' });
  let sealLabel = '(none)';
  let placementKind = '(none)';
  let errorCode: string | undefined;
  let source: ByteSource | undefined;
  let bytesIn = 0;
  let bytesOut = 0;
  let code = 'OK';
  let ticket: AdmissionTicket | undefined;
  context.metrics.inflightDocuments.inc();
  try {
    const messages = call.iterator({ destroyOnReturn: false }) as AsyncIterator<SealRequest>;
    const header = await readHeader(messages, lifetime, 'Seal');
    access.authorize(header.sealId, placementDetails(header.placement));
    placementKind = header.placement?.kind.case ?? '(none)';
    const seal = availableSeal(context, header.sealId);
    sealLabel = seal.config.id;
    access.note({ certificateSerial: seal.certificate.serialNumber });
    log = log.child({ sealId: seal.config.id });
    const placement = placementOf(header.placement);
    const options = optionsOf(header, context);
    // Wait for a place (bounded queue, the caller's deadline) before taking any bytes of the document.
    ticket = await context.admission
      ?.admit(lifetime.signal, header.documentSize === undefined ? 0 : Math.min(documentSizeHint(header.documentSize), context.limits.maxDocumentBytes))
      .catch((error: unknown) => {
        throw lifetime.signal.aborted ? abortReason(lifetime.signal) : error;
      });
    const received = await receiveSource(context, messages, header.documentSize, lifetime, 'Seal', (bytes) => {
      bytesIn += bytes;
      ticket?.reserve(bytes);
    });
    source = received.source;
    const sourceDigest = received.digest;
    log.debug({ bytes: bytesIn }, 'document received');
    access.note({ inputSha256: sourceDigest.copy().digest('hex') });
    context.metrics.documentBytes.observe(source.size);

    const stopSealTimer = context.metrics.documentSealDuration.startTimer({ operation: 'seal', placement: placementKind });
    const outcome = await context.sealDocument(source, seal.material, placement, {
      ...options,
      sourceDigest,
      signal: lifetime.signal,
      approvePages: (pages) => access.authorize(header.sealId, { ...placementDetails(header.placement), pages: [...pages] }),
    });
    stopSealTimer();
    if (lifetime.signal.aborted) throw abortReason(lifetime.signal);

    await sendDocument(call, source, outcome, lifetime, (sent) => (bytesOut += sent));
    await access.succeeded({
      outputSha256: sourceDigest.copy().update(outcome.appended).digest('hex'),
      revision: outcome.revision,
      placement: { pages: outcome.pages, byteRange: outcome.byteRange, fieldName: outcome.fieldName },
    });
    await send(call, create(SealResponseSchema, { payload: { case: 'summary', value: summaryOf(outcome, bytesOut) } }), lifetime);
    // Release the document (and its spool file) before the status: once a caller sees OK, nothing of it is left.
    await release(source, log);
    source = undefined;
    call.end();
    log.debug(
      {
        bytesIn,
        bytesOut,
        field: outcome.fieldName,
        revision: outcome.revision,
        pages: outcome.pages,
        ms: Math.round(performance.now() - started),
      },
      'sealed',
    );
  } catch (error) {
    // Clean up first, answer second: when the caller sees the status, no spool file is left.
    await release(source, log);
    source = undefined;
    await access.failed(lifetime.clientGone ? abortReason(lifetime.signal) : error);
    const failure = failedCall(error, { lifetime, requestId, log, rpc: 'seal' }, { refusedLevel: 'debug', fields: { bytesIn, bytesOut } });
    if (failure.status !== undefined) call.emit('error', failure.status);
    code = failure.code;
    errorCode = error instanceof SealdError ? error.code : 'INTERNAL';
  } finally {
    lifetime.dispose();
    await release(source, log);
    ticket?.release();
    const durationMs = performance.now() - started;
    context.metrics.inflightDocuments.dec();
    context.metrics.sealRequests.inc({ seal: sealLabel, code });
    context.metrics.requests.inc({ operation: 'seal', code });
    context.metrics.documentBytesTotal.inc({ operation: 'seal', direction: 'in' }, bytesIn);
    context.metrics.documentBytesTotal.inc({ operation: 'seal', direction: 'out' }, bytesOut);
    context.metrics.sealDuration.observe({ seal: sealLabel }, durationMs / 1000);
    logRequest(log, {
      requestId,
      principal: access.principal.name,
      operation: 'seal',
      seal: sealLabel,
      placement: placementKind,
      bytesIn,
      bytesOut,
      durationMs,
      status: code,
      ...(errorCode === undefined ? {} : { errorCode }),
    });
  }
}

/** The configured seal named `sealId`, refused before any upload when it is unknown or cannot sign now. */
export function availableSeal(context: ServiceContext, sealId: string): ConfiguredSeal {
  const seal = context.seals.get(sealId);
  if (seal === undefined) {
    throw new SealdError('not-found', 'SEAL_NOT_FOUND', `unknown seal "${sealId}"`);
  }
  if (!context.isAvailable(seal)) {
    // Say so before the upload: the document could not be sealed now anyway.
    throw new SealdError(
      'unavailable',
      'SEAL_UNAVAILABLE',
      `seal "${seal.config.id}" cannot sign right now: its key is on no ready token`,
    );
  }
  return seal;
}

/** Drop a spool (removing its temp file) or close a source; never throws. */
export async function release(holder: Spool | ByteSource | undefined, log: Logger): Promise<void> {
  if (holder === undefined) return;
  try {
    await (holder instanceof Spool ? holder.discard() : holder.close());
  } catch (error) {
    log.warn({ err: error }, 'cannot release the document (spool file or source)');
  }
}

/** Send the error status (unless the client is gone) and log once; returns the status name for metrics. */
export function optionsOf(header: SealHeader, context: ServiceContext): Omit<SealOptions, 'signal' | 'sourceDigest'> {
  const options: Omit<SealOptions, 'signal' | 'sourceDigest'> = {};
  const given = header.options;
  const timestamps = context.timestamps;
  if (given?.timestamp ?? timestamps?.sealByDefault ?? false) {
    if (timestamps === undefined) {
      throw new SealdError('precondition', 'TSA_NOT_CONFIGURED', 'a signature time-stamp was asked for, but this server has no TSA configured (tsa.urls)');
    }
    options.timestamper = timestamps.client;
  }
  if (given === undefined) return options;
  if (given.reason !== '') options.reason = given.reason;
  if (given.location !== '') options.location = given.location;
  if (given.contactInfo !== '') options.contactInfo = given.contactInfo;
  if (given.fieldName !== '') options.fieldName = given.fieldName;
  return options;
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

export function summaryOf(outcome: SealOutcome, documentSize: number) {
  return create(SealSummarySchema, {
    fieldName: outcome.fieldName,
    revision: outcome.revision,
    byteRange: outcome.byteRange.map((n) => BigInt(n)),
    documentDigest: outcome.documentDigest,
    digestAlgorithm: 'SHA-256',
    signerSubject: outcome.signerSubject,
    signingTime: timestampFromDate(outcome.signingTime),
    pages: outcome.pages,
    documentSize: BigInt(documentSize),
    ...(outcome.timestampTime === undefined ? {} : { timestampTime: timestampFromDate(outcome.timestampTime) }),
  });
}
