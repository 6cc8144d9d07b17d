/**
 * The streams of every document RPC (Seal, Locate, Verify, Rollback, Timestamp). Upload: the first request message
 * is a header and only the first; the document follows as chunks of at most 1 MiB, spooled (memory, then a temp file)
 * with a running SHA-256. Reading stops with the abort reason as soon as the caller cancels or its deadline passes,
 * and a stream cut off by a cancel is never taken for a complete upload. Download: messages are written with at most
 * WRITE_WINDOW of them in flight, so a caller that stops reading holds a bounded amount of server memory.
 */
import type { Hash } from 'node:crypto';
import { SealdError } from '../errors.ts';
import type { ByteSource } from '../pdf/source.ts';
import { abortReason, type CallLifetime } from './call.ts';
import type { ServiceContext } from './context.ts';
import { Spool } from './spool.ts';

/** A request message of a document RPC: the generated SealRequest, LocateRequest, VerifyRequest, RollbackRequest. */
export interface UploadMessage<H> {
  payload: { case: 'header'; value: H } | { case: 'chunk'; value: Uint8Array } | { case: undefined; value?: undefined };
}

/** The next request message; undefined at the end of the stream; rejects with the abort reason once aborted. */
export async function nextMessage<M>(messages: AsyncIterator<M>, lifetime: CallLifetime): Promise<M | undefined> {
  if (lifetime.signal.aborted) throw abortReason(lifetime.signal);
  let result: IteratorResult<M>;
  try {
    result = await messages.next();
  } catch (error) {
    // A cancelled call destroys the stream ("premature close"): report why, not how.
    if (lifetime.signal.aborted || lifetime.clientGone) throw abortReason(lifetime.signal);
    throw error;
  }
  // A destroyed stream may also just end: never take a cut-off upload for a complete one.
  if (lifetime.signal.aborted || lifetime.clientGone) throw abortReason(lifetime.signal);
  return result.done === true ? undefined : result.value;
}

/** The header, which must be the first message of the `rpc` call. */
export async function readHeader<H>(messages: AsyncIterator<UploadMessage<H>>, lifetime: CallLifetime, rpc: string): Promise<H> {
  const first = await nextMessage(messages, lifetime);
  if (first === undefined || first.payload.case !== 'header') {
    throw new SealdError(
      'invalid-input',
      'HEADER_REQUIRED',
      first === undefined ? 'the request stream ended before a header' : `the first message of a ${rpc} call must be a header`,
    );
  }
  return first.payload.value;
}

/** A spool for one document, sized by the client's hint (bytes) when it gave one. */
export function documentSpool(context: ServiceContext, sizeHint: bigint | undefined): Spool {
  return new Spool({
    memoryLimitBytes: context.limits.spoolMemoryBytes,
    maxDocumentBytes: context.limits.maxDocumentBytes,
    dir: context.limits.tmpDir,
    ...(sizeHint === undefined ? {} : { expectedBytes: documentSizeHint(sizeHint) }),
  });
}

/** The rest of the stream into `spool`; `onChunk` sees each chunk's size first (admission accounting). */
export async function receiveDocument<H>(
  messages: AsyncIterator<UploadMessage<H>>,
  spool: Spool,
  lifetime: CallLifetime,
  rpc: string,
  onChunk?: (bytes: number) => void,
): Promise<void> {
  for (;;) {
    const message = await nextMessage(messages, lifetime);
    if (message === undefined) return;
    if (message.payload.case === 'chunk') {
      onChunk?.(message.payload.value.byteLength);
      await spool.append(message.payload.value);
    } else if (message.payload.case === 'header') {
      throw new SealdError('invalid-input', 'HEADER_REPEATED', `only the first message of a ${rpc} call may be a header`);
    }
    // An empty message (no payload set) carries nothing; tolerate it.
  }
}

/**
 * The rest of the stream as one document: spooled, then handed over as a source (which owns any spool file) with the
 * SHA-256 of its bytes, computed while they arrived. A failed upload leaves nothing behind; an empty one is refused.
 */
export async function receiveSource<H>(
  context: ServiceContext,
  messages: AsyncIterator<UploadMessage<H>>,
  sizeHint: bigint | undefined,
  lifetime: CallLifetime,
  rpc: string,
  onChunk?: (bytes: number) => void,
): Promise<{ source: ByteSource; digest: Hash }> {
  const spool = documentSpool(context, sizeHint);
  try {
    await receiveDocument(messages, spool, lifetime, rpc, onChunk);
  } catch (error) {
    await spool.discard();
    throw error;
  }
  const digest = spool.digest;
  return { source: await finishSpool(spool), digest };
}

/** A complete upload as a source; an empty document is refused (and released). */
export async function finishSpool(spool: Spool): Promise<ByteSource> {
  const source = await spool.finish();
  if (source.size === 0) {
    await source.close();
    throw new SealdError('invalid-input', 'EMPTY_DOCUMENT', 'the document is empty');
  }
  return source;
}

/** The client's document size hint as a number of bytes (a hint: the bytes received stay authoritative). */
export function documentSizeHint(size: bigint): number {
  if (size < 0n) throw new SealdError('invalid-input', 'SIZE_HINT_INVALID', 'document_size must not be negative');
  return size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size);
}

/**
 * Messages of one call that may be written but not yet flushed to the HTTP/2 stream. grpc-js only reports a full
 * buffer (write() → false) at its stream's highWaterMark of 16 messages, i.e. 16 MiB per call with 1 MiB chunks;
 * waiting for the write callback of the message two back bounds a stalled reader's cost to about 2 MiB.
 */
const WRITE_WINDOW = 2;

/** The part of a server stream `send` writes to. */
export interface WritableCall<M> {
  write(message: M, callback: () => void): boolean;
}

const writeStates = new WeakMap<object, { pending: Promise<void>[]; aborted: Promise<void> }>();

/** Write one message, waiting while the call has WRITE_WINDOW messages in flight (bounded memory per call). */
export async function send<M>(call: WritableCall<M>, message: M, lifetime: CallLifetime): Promise<void> {
  if (lifetime.signal.aborted) throw abortReason(lifetime.signal);
  let state = writeStates.get(call);
  if (state === undefined) {
    const aborted = new Promise<void>((resolve) => lifetime.signal.addEventListener('abort', () => resolve(), { once: true }));
    writeStates.set(call, (state = { pending: [], aborted }));
  }
  // A cancelled call may never call back: the abort ends the wait.
  state.pending.push(new Promise<void>((resolve) => call.write(message, () => resolve())));
  while (state.pending.length > WRITE_WINDOW) {
    await Promise.race([state.pending.shift()!, state.aborted]);
    if (lifetime.signal.aborted) throw abortReason(lifetime.signal);
  }
}
