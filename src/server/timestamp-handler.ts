/**
 * TimestampService: Timestamp (a document time-stamp) and Ltv (validation data, optionally with a document
 * time-stamp on top). Both take a document and give back the same document with revisions appended: header →
 * spooled chunks → engine → original bytes + appended revisions + summary, with the audit record durable before the
 * summary. Framing as in Seal (proto/seald/v1/timestamp.proto).
 */
import type { Hash } from 'node:crypto';
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type * as grpc from '@grpc/grpc-js';
import { timestampDocument } from '../engine/doc-timestamp.ts';
import { addValidationData } from '../engine/ltv.ts';
import { SealdError } from '../errors.ts';
import {
  LtvResponseSchema,
  LtvSummarySchema,
  TimestampResponseSchema,
  TimestampSummarySchema,
  type LtvRequest,
  type LtvResponse,
  type TimestampRequest,
  type TimestampResponse,
} from '../gen/seald/v1/timestamp_pb.ts';
import type { ByteSource } from '../pdf/source.ts';
import { callAccess } from './access.ts';
import { abortReason, callLifetime, requestIdOf, failedCall } from './call.ts';
import type { ServiceContext } from './context.ts';
import { RESPONSE_CHUNK_BYTES } from './seal-handler.ts';
import { readHeader, receiveSource, send, type UploadMessage } from './upload.ts';

/** Time allowed to one OCSP responder or CRL server when the configuration sets no TSA timeout to follow. */
const REVOCATION_TIMEOUT_MS = 10_000;

export function timestampHandler(context: ServiceContext): grpc.handleBidiStreamingCall<TimestampRequest, TimestampResponse> {
  return (call) => {
    context.track(
      handleDocumentCall(context, call, 'Timestamp', TimestampResponseSchema, async (source, header, digest, signal) => {
        const outcome = await timestampDocument(source, timestampsOf(context).client, {
          ...(header.fieldName === '' ? {} : { fieldName: header.fieldName }),
          sourceDigest: digest,
          signal,
        });
        const summary = (size: number) =>
          create(TimestampSummarySchema, {
            fieldName: outcome.fieldName,
            revision: outcome.revision,
            byteRange: outcome.byteRange.map((n) => BigInt(n)),
            documentDigest: outcome.documentDigest,
            timestampTime: timestampFromDate(outcome.timestampTime),
            documentSize: BigInt(size),
          });
        return { appended: outcome.appended, revision: outcome.revision, summary };
      }),
    );
  };
}

export function ltvHandler(context: ServiceContext): grpc.handleBidiStreamingCall<LtvRequest, LtvResponse> {
  return (call) => {
    context.track(
      handleDocumentCall(context, call, 'Ltv', LtvResponseSchema, async (source, header, digest, signal) => {
        const outcome = await addValidationData(source, {
          anchors: context.trustAnchors,
          timeoutMs: context.timestamps?.timeoutMs ?? REVOCATION_TIMEOUT_MS,
          ...(context.ltvOcspUrl === undefined ? {} : { ocspResponder: context.ltvOcspUrl }),
          ...(header.documentTimestamp ? { timestamper: timestampsOf(context).client } : {}),
          sourceDigest: digest,
          signal,
        });
        const summary = (size: number) =>
          create(LtvSummarySchema, {
            certificatesAdded: outcome.added.certificates,
            ocspsAdded: outcome.added.ocsps,
            crlsAdded: outcome.added.crls,
            withoutRevocationSource: outcome.withoutRevocationSource,
            signatures: outcome.signatures,
            revision: outcome.revision,
            ...(outcome.timestampTime === undefined ? {} : { timestampTime: timestampFromDate(outcome.timestampTime) }),
            documentSize: BigInt(size),
          });
        return { appended: outcome.appended, revision: outcome.revision, summary };
      }),
    );
  };
}

function timestampsOf(context: ServiceContext): NonNullable<ServiceContext['timestamps']> {
  if (context.timestamps === undefined) {
    throw new SealdError('precondition', 'TSA_NOT_CONFIGURED', 'this server has no time-stamping authority configured (tsa.urls)');
  }
  return context.timestamps;
}

interface Appended<S> {
  appended: Uint8Array;
  revision: number;
  /** The summary, given the size of the whole output. */
  summary: (size: number) => S;
}

async function handleDocumentCall<H extends { documentSize?: bigint }, S, R extends DescMessage>(
  context: ServiceContext,
  call: grpc.ServerDuplexStream<UploadMessage<H>, MessageShape<R>>,
  rpc: 'Timestamp' | 'Ltv',
  responseSchema: R,
  work: (source: ByteSource, header: H, digest: Hash, signal: AbortSignal) => Promise<Appended<S>>,
): Promise<void> {
  const started = performance.now();
  const requestId = requestIdOf(call);
  const lifetime = callLifetime(call);
  // Both add time-stamps or validation data and use no seal: the policy's "timestamp" operation covers them.
  const access = callAccess(context, call, 'timestamp', requestId);
  const log = context.logger.child({ requestId, rpc, principal: access.principal.name });
  const respond = (payload: { case: 'chunk'; value: Uint8Array } | { case: 'summary'; value: S }) =>
    send(call, create(responseSchema, { payload } as never), lifetime);
  let source: ByteSource | undefined;
  try {
    const messages = call.iterator({ destroyOnReturn: false }) as AsyncIterator<UploadMessage<H>>;
    const header = await readHeader(messages, lifetime, rpc);
    access.authorize();
    const received = await receiveSource(context, messages, header.documentSize, lifetime, rpc);
    source = received.source;
    const digest = received.digest;
    access.note({ inputSha256: digest.copy().digest('hex') });

    const result = await work(source, header, digest, lifetime.signal);
    if (lifetime.signal.aborted) throw abortReason(lifetime.signal);
    for await (const chunk of source.chunks(0, source.size, RESPONSE_CHUNK_BYTES)) await respond({ case: 'chunk', value: chunk });
    for (let at = 0; at < result.appended.byteLength; at += RESPONSE_CHUNK_BYTES) {
      await respond({ case: 'chunk', value: result.appended.subarray(at, Math.min(at + RESPONSE_CHUNK_BYTES, result.appended.byteLength)) });
    }
    const size = source.size + result.appended.byteLength;
    await access.succeeded({ outputSha256: digest.copy().update(result.appended).digest('hex'), revision: result.revision });
    await respond({ case: 'summary', value: result.summary(size) });
    await source.close();
    source = undefined;
    call.end();
    log.info({ revision: result.revision, bytes: size, ms: Math.round(performance.now() - started) }, `${rpc} done`);
  } catch (error) {
    await source?.close().catch(() => undefined);
    source = undefined;
    await access.failed(lifetime.clientGone ? abortReason(lifetime.signal) : error);
    const { status } = failedCall(error, { lifetime, requestId, log, rpc });
    if (status !== undefined) call.emit('error', status);
  } finally {
    lifetime.dispose();
    await source?.close().catch(() => undefined);
  }
}
