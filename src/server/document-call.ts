/**
 * The one skeleton of every document RPC (Seal, Locate, Verify, Rollback, Timestamp, Ltv): the call's lifetime and
 * request id, its access (policy and audit), the child logger, the document it holds, and the ending — on failure
 * the document is released first, the refusal audited, the status sent once (server/call.ts failedCall); in every
 * case one `seald_requests_total` count, the bytes in and out, and one request log line. A handler writes only what
 * its operation does. (SealBatch keeps its own loop: one call carries many documents, each counted on its own.)
 */
import { performance } from 'node:perf_hooks';
import type { Operation } from '../auth/operations.ts';
import { SealdError } from '../errors.ts';
import { setDocumentPassword } from '../pdf/document.ts';
import type { ByteSource } from '../pdf/source.ts';
import type { GrpcErrorStatus } from '../rpc/status.ts';
import { callAccess, type CallAccess } from './access.ts';
import { abortReason, callLifetime, failedCall, requestIdOf, type CallLifetime } from './call.ts';
import type { ServiceContext } from './context.ts';
import { logRequest, type Logger } from './logger.ts';
import { receiveSource, readHeader, type UploadMessage } from './upload.ts';

export type DocumentRpc = 'Seal' | 'Locate' | 'Verify' | 'Rollback' | 'Timestamp' | 'Ltv';

export interface DocumentCallSpec {
  rpc: DocumentRpc;
  /** The policy's operation (auth/operations.ts) the call is checked and audited under. */
  operation: Operation;
  /** Log level of a refusal the caller can act on (Seal logs them at debug: batch pipelines send many). */
  refusedLevel?: 'info' | 'debug';
  /**
   * Whether a call the client abandoned is audited (as CANCELLED / DEADLINE_EXCEEDED). True for operations that
   * write a document; Locate and Verify audit only what the server refused.
   */
  auditAbandoned: boolean;
}

export interface DocumentCall<H> {
  readonly requestId: string;
  readonly lifetime: CallLifetime;
  readonly access: CallAccess;
  readonly messages: AsyncIterator<UploadMessage<H>>;
  readonly started: number;
  log: Logger;
  /** Seal id and placement kind for the request log and metrics, once the header names them. */
  seal: string;
  placement: string;
  bytesIn: number;
  bytesOut: number;
  /** Set by a handler whose document had to be repaired to be read: the request line says so. */
  repaired?: { reason: string; how?: string };
  /** Read the header (the first message), failing clearly when the stream does not start with one. */
  header(): Promise<H>;
  /**
   * Receive the document's chunks into a source this call releases when it ends; an encrypted document opens with
   * the header's password wherever the engine opens it (never logged: the header is not).
   */
  receive(
    header: { documentSize?: bigint | undefined; documentPassword?: string },
    onBytes?: (bytes: number) => void,
  ): ReturnType<typeof receiveSource>;
  /** Release the document now (before the final status, so a caller that sees OK finds nothing of it left). */
  release(): Promise<void>;
}

/**
 * Run `body` as a document call. `fail` delivers an error status in the call's own way (a unary callback or an error
 * event on a stream); `onEnd` adds an operation's own metrics after the common ones.
 */
export async function runDocumentCall<H>(
  context: ServiceContext,
  call: Parameters<typeof requestIdOf>[0] & Parameters<typeof callAccess>[1] & Parameters<typeof callLifetime>[0],
  messages: AsyncIterator<UploadMessage<H>>,
  spec: DocumentCallSpec,
  fail: (status: GrpcErrorStatus) => void,
  body: (dc: DocumentCall<H>) => Promise<void>,
  onEnd?: (dc: DocumentCall<H>, code: string, durationMs: number) => void,
): Promise<void> {
  const started = performance.now();
  const requestId = requestIdOf(call);
  const lifetime = callLifetime(call);
  const access = callAccess(context, call, spec.operation, requestId);
  let source: ByteSource | undefined;
  const dc: DocumentCall<H> = {
    requestId,
    lifetime,
    access,
    messages,
    started,
    log: context.logger.child({ requestId, rpc: spec.rpc }),
    seal: '(none)',
    placement: '(none)',
    bytesIn: 0,
    bytesOut: 0,
    header() {
      return readHeader(messages, lifetime, spec.rpc);
    },
    async receive(header, onBytes) {
      const received = await receiveSource(context, messages, header.documentSize, lifetime, spec.rpc, (bytes) => {
        dc.bytesIn += bytes;
        onBytes?.(bytes);
      });
      source = received.source;
      setDocumentPassword(source, header.documentPassword);
      return received;
    },
    async release() {
      const held = source;
      source = undefined;
      try {
        await held?.close();
      } catch (error) {
        dc.log.warn({ err: error }, 'cannot release the document (spool file or source)');
      }
    },
  };
  let code = 'OK';
  let errorCode: string | undefined;
  try {
    await body(dc);
  } catch (error) {
    // Clean up first, answer second: when the caller sees the status, no spool file is left.
    await dc.release();
    if (!lifetime.clientGone) await access.failed(error);
    else if (spec.auditAbandoned) await access.failed(abortReason(lifetime.signal));
    const failure = failedCall(
      error,
      { lifetime, requestId, log: dc.log, rpc: spec.rpc.toLowerCase() },
      { ...(spec.refusedLevel === undefined ? {} : { refusedLevel: spec.refusedLevel }), fields: { bytesIn: dc.bytesIn, bytesOut: dc.bytesOut } },
    );
    if (failure.status !== undefined) fail(failure.status);
    code = failure.code;
    errorCode = error instanceof SealdError ? error.code : 'INTERNAL';
  } finally {
    lifetime.dispose();
    await dc.release();
    const durationMs = performance.now() - started;
    const operation = spec.rpc.toLowerCase();
    context.metrics.requests.inc({ operation, code });
    context.metrics.documentBytesTotal.inc({ operation, direction: 'in' }, dc.bytesIn);
    context.metrics.documentBytesTotal.inc({ operation, direction: 'out' }, dc.bytesOut);
    onEnd?.(dc, code, durationMs);
    logRequest(dc.log, {
      requestId,
      principal: access.principal.name,
      operation,
      seal: dc.seal,
      placement: dc.placement,
      bytesIn: dc.bytesIn,
      bytesOut: dc.bytesOut,
      durationMs,
      status: code,
      ...(errorCode === undefined ? {} : { errorCode }),
      ...(dc.repaired === undefined ? {} : { repaired: dc.repaired }),
    });
  }
}
