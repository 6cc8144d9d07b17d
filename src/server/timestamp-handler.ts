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
import { abortReason } from './call.ts';
import { runDocumentCall } from './document-call.ts';
import type { ServiceContext } from './context.ts';
import { RESPONSE_CHUNK_BYTES } from './seal-request.ts';
import { send, type UploadMessage } from './upload.ts';

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
  const messages = call.iterator({ destroyOnReturn: false }) as AsyncIterator<UploadMessage<H>>;
  // Both add time-stamps or validation data and use no seal: the policy's "timestamp" operation covers them.
  const spec = { rpc, operation: 'timestamp', auditAbandoned: true } as const;
  await runDocumentCall(context, call, messages, spec, (status) => call.emit('error', status), async (dc) => {
    const { access, lifetime } = dc;
    const respond = (payload: { case: 'chunk'; value: Uint8Array } | { case: 'summary'; value: S }) =>
      send(call, create(responseSchema, { payload } as never), lifetime);
    const header = await dc.header();
    access.authorize();
    const { source, digest } = await dc.receive(header);
    access.note({ inputSha256: digest.copy().digest('hex') });

    const result = await work(source, header, digest, lifetime.signal);
    if (lifetime.signal.aborted) throw abortReason(lifetime.signal);
    const chunk = async (value: Uint8Array): Promise<void> => {
      await respond({ case: 'chunk', value });
      dc.bytesOut += value.byteLength;
    };
    for await (const part of source.chunks(0, source.size, RESPONSE_CHUNK_BYTES)) await chunk(part);
    for (let at = 0; at < result.appended.byteLength; at += RESPONSE_CHUNK_BYTES) {
      await chunk(result.appended.subarray(at, Math.min(at + RESPONSE_CHUNK_BYTES, result.appended.byteLength)));
    }
    const size = source.size + result.appended.byteLength;
    await access.succeeded({ outputSha256: digest.copy().update(result.appended).digest('hex'), revision: result.revision });
    await respond({ case: 'summary', value: result.summary(size) });
    await dc.release();
    call.end();
    dc.log.info({ revision: result.revision, bytes: size, ms: Math.round(performance.now() - dc.started) }, `${rpc} done`);
  });
}
