/** Per-call plumbing shared by the handlers: request ids, cancellation and deadlines as an AbortSignal. */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { SealdError } from '../errors.ts';

import { REQUEST_ID_METADATA_KEY, RESPONSE_REQUEST_ID_METADATA_KEY } from '../rpc/metadata.ts';
import { grpcStatusOf, statusName, type GrpcErrorStatus } from '../rpc/status.ts';
import type { Logger } from './logger.ts';

/** The part of a grpc-js server call (any of the four kinds) used here. */
interface SurfaceCall {
  readonly metadata: grpc.Metadata;
  readonly cancelled: boolean;
  getDeadline(): Date | number;
  sendMetadata(metadata: grpc.Metadata): void;
  on(event: 'cancelled', listener: () => void): unknown;
  off(event: 'cancelled', listener: () => void): unknown;
}

/** The caller's `x-request-id` when it is a sane token, else a fresh UUID; echoed back as `seald-request-id`. */
export function requestIdOf(call: SurfaceCall): string {
  const given = call.metadata.get(REQUEST_ID_METADATA_KEY)[0];
  const id = typeof given === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(given) ? given : randomUUID();
  const metadata = new grpc.Metadata();
  metadata.set(RESPONSE_REQUEST_ID_METADATA_KEY, id);
  call.sendMetadata(metadata);
  return id;
}

export interface CallLifetime {
  /** Aborted when the client cancels or the deadline passes; `reason` is a SealdError saying which. */
  readonly signal: AbortSignal;
  /** True once the client is gone (cancelled or deadline): no status can reach it. */
  readonly clientGone: boolean;
  dispose(): void;
}

const DEADLINE_SKEW_MS = 250;

export function callLifetime(call: SurfaceCall): CallLifetime {
  const controller = new AbortController();
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const deadlinePassed = (): SealdError =>
    new SealdError('deadline', 'DEADLINE_EXCEEDED', 'the call deadline passed');
  let clientGone = false;
  const onCancelled = (): void => {
    clientGone = true;
    // A client whose deadline passes cancels the call (RST_STREAM CANCEL, the same as a user's cancel), and its
    // clock started before ours: the server's idea of the deadline, taken from grpc-timeout on arrival, is later by the
    // request's transit and queueing time (tens of ms on a loaded machine). A cancel that close to the deadline is
    // taken for the deadline; it only changes how the call is logged and counted, the client is gone either way.
    controller.abort(
      Date.now() >= deadlineMs - DEADLINE_SKEW_MS
        ? deadlinePassed()
        : new SealdError('cancelled', 'CANCELLED', 'the client cancelled the call'),
    );
  };
  call.on('cancelled', onCancelled);
  let timer: NodeJS.Timeout | undefined;
  if (Number.isFinite(deadlineMs)) {
    // setTimeout holds at most 2^31-1 ms; a longer deadline is as good as none.
    const delay = Math.max(0, deadlineMs - Date.now());
    if (delay < 2 ** 31) timer = setTimeout(() => controller.abort(deadlinePassed()), delay);
  }
  if (call.cancelled) onCancelled();
  return {
    signal: controller.signal,
    get clientGone() {
      return clientGone || call.cancelled;
    },
    dispose() {
      call.off('cancelled', onCancelled);
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

/** The abort reason as a SealdError (AbortSignal reasons we create always are). */
export function abortReason(signal: AbortSignal): SealdError {
  return signal.reason instanceof SealdError
    ? signal.reason
    : new SealdError('cancelled', 'CANCELLED', 'the call was cancelled');
}

/**
 * Write one message to a streaming call, waiting for the stream to drain when its buffer is full (the client's
 * HTTP/2 window bounds what the server holds); a cancelled call ends the wait with its reason.
 */
export async function writeOrDrain<T>(call: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>, message: T, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw abortReason(signal);
  if (call.write(message)) return;
  try {
    await once(call, 'drain', { signal });
  } catch (error) {
    if (signal.aborted) throw abortReason(signal);
    throw error;
  }
}

/**
 * How a document RPC ends after `error`. When the caller is gone (its cancel or deadline ended the call) there is
 * nothing to answer and nothing wrong on seald's side; otherwise the status to send, logged once: as seald's failure
 * (with the error) when internal, as a refusal (code and message) when the caller can act on it. `code` names the
 * outcome for metrics and request logs.
 */
export function failedCall(
  error: unknown,
  call: { lifetime: CallLifetime; requestId: string; log: Logger; rpc: string },
  options: { refusedLevel?: 'info' | 'debug'; fields?: Record<string, unknown> } = {},
): { code: string; status: GrpcErrorStatus | undefined } {
  const { lifetime, requestId, log, rpc } = call;
  const fields = options.fields ?? {};
  if (lifetime.clientGone) {
    const reason = abortReason(lifetime.signal);
    log[options.refusedLevel ?? 'info']({ ...fields, reason: reason.code }, 'call ended by the client');
    return { code: reason.category === 'deadline' ? 'DEADLINE_EXCEEDED' : 'CANCELLED', status: undefined };
  }
  const status = grpcStatusOf(error, requestId);
  if (status.internal) log.error({ ...fields, err: error }, `${rpc} failed`);
  else log[options.refusedLevel ?? 'info']({ ...fields, code: statusName(status.code), error: status.sealdCode, message: status.details }, `${rpc} refused`);
  return { code: statusName(status.code), status };
}
