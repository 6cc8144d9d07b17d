/**
 * The Timestamp RPC: header → spooled chunks → engine.timestampDocument (the server's TSAs) → original bytes + the
 * /DocTimeStamp revision + summary. The audit record is durable before the summary is sent. Framing as in Seal
 * (proto/seald/v1/timestamp.proto).
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type * as grpc from '@grpc/grpc-js';
import { timestampDocument } from '../engine/doc-timestamp.ts';
import { SealdError } from '../errors.ts';
import {
  TimestampResponseSchema,
  TimestampSummarySchema,
  type TimestampRequest,
  type TimestampResponse,
} from '../gen/seald/v1/timestamp_pb.ts';
import type { ByteSource } from '../pdf/source.ts';
import { callAccess } from './access.ts';
import { abortReason, callLifetime, requestIdOf } from './call.ts';
import type { ServiceContext } from './context.ts';
import { RESPONSE_CHUNK_BYTES } from './seal-handler.ts';
import type { Spool } from './spool.ts';
import { grpcStatusOf, statusName } from './status.ts';
import { documentSpool, readHeader, receiveDocument, send } from './upload.ts';

type TimestampCall = grpc.ServerDuplexStream<TimestampRequest, TimestampResponse>;

export function timestampHandler(context: ServiceContext): grpc.handleBidiStreamingCall<TimestampRequest, TimestampResponse> {
  return (call) => {
    context.track(handleTimestamp(context, call));
  };
}

async function handleTimestamp(context: ServiceContext, call: TimestampCall): Promise<void> {
  const started = performance.now();
  const requestId = requestIdOf(call);
  const lifetime = callLifetime(call);
  const access = callAccess(context, call, 'timestamp', requestId);
  const log = context.logger.child({ requestId, rpc: 'Timestamp', principal: access.principal.name });
  let spool: Spool | undefined;
  let source: ByteSource | undefined;
  try {
    const messages = call.iterator({ destroyOnReturn: false }) as AsyncIterator<TimestampRequest>;
    const header = await readHeader(messages, lifetime, 'Timestamp');
    // A document time-stamp uses no seal: the policy says who may ask.
    access.authorize();
    const timestamps = context.timestamps;
    if (timestamps === undefined) {
      throw new SealdError('precondition', 'TSA_NOT_CONFIGURED', 'this server has no time-stamping authority configured (tsa.urls)');
    }
    spool = documentSpool(context, header.documentSize);
    await receiveDocument(messages, spool, lifetime, 'Timestamp');
    const digest = spool.digest;
    access.note({ inputSha256: digest.copy().digest('hex') });
    source = await spool.finish();
    spool = undefined;
    if (source.size === 0) throw new SealdError('invalid-input', 'EMPTY_DOCUMENT', 'the document is empty');

    const outcome = await timestampDocument(source, timestamps.client, {
      ...(header.fieldName === '' ? {} : { fieldName: header.fieldName }),
      sourceDigest: digest,
      signal: lifetime.signal,
    });
    if (lifetime.signal.aborted) throw abortReason(lifetime.signal);
    for await (const chunk of source.chunks(0, source.size, RESPONSE_CHUNK_BYTES)) {
      await send(call, create(TimestampResponseSchema, { payload: { case: 'chunk', value: chunk } }), lifetime);
    }
    for (let at = 0; at < outcome.appended.byteLength; at += RESPONSE_CHUNK_BYTES) {
      const chunk = outcome.appended.subarray(at, Math.min(at + RESPONSE_CHUNK_BYTES, outcome.appended.byteLength));
      await send(call, create(TimestampResponseSchema, { payload: { case: 'chunk', value: chunk } }), lifetime);
    }
    const size = source.size + outcome.appended.byteLength;
    await access.succeeded({ outputSha256: digest.copy().update(outcome.appended).digest('hex'), revision: outcome.revision });
    const summary = create(TimestampSummarySchema, {
      fieldName: outcome.fieldName,
      revision: outcome.revision,
      byteRange: outcome.byteRange.map((n) => BigInt(n)),
      documentDigest: outcome.documentDigest,
      timestampTime: timestampFromDate(outcome.timestampTime),
      documentSize: BigInt(size),
    });
    await send(call, create(TimestampResponseSchema, { payload: { case: 'summary', value: summary } }), lifetime);
    await source.close();
    source = undefined;
    call.end();
    log.info({ field: outcome.fieldName, revision: outcome.revision, bytes: size, ms: Math.round(performance.now() - started) }, 'time-stamped');
  } catch (error) {
    await (spool?.discard() ?? source?.close())?.catch(() => undefined);
    spool = undefined;
    source = undefined;
    await access.failed(lifetime.clientGone ? abortReason(lifetime.signal) : error);
    if (!lifetime.clientGone) {
      const status = grpcStatusOf(error, requestId);
      if (status.internal) log.error({ err: error }, 'time-stamp failed');
      else log.info({ code: statusName(status.code), error: status.sealdCode, message: status.details }, 'time-stamp refused');
      call.emit('error', status);
    }
  } finally {
    lifetime.dispose();
    await (spool?.discard() ?? source?.close())?.catch(() => undefined);
  }
}
