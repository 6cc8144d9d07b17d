/**
 * The client side of SealBatch, for `seald batch`, the benchmark and any Node program: many documents over one
 * stream, each answered as it completes.
 *
 *   const client = connectBatch('127.0.0.1:50051');
 *   const totals = await sealBatch(client, { sealId: 'org', placement }, inputs, {
 *     concurrency: 8,
 *     onChunk: (id, chunk) => …,     // the sealed bytes of document `id`, in order
 *     onResult: (result) => …,       // then exactly one result per document: sealed (summary) or failed (status)
 *   });
 *
 * By default the server answers only each document's new revision (BATCH_ANSWER_APPENDED) and this client passes
 * `onChunk` the bytes it uploads followed by that revision, so `onChunk` still sees the whole sealed document while
 * the document crosses the network once instead of twice. In that mode `onChunk` sees a document's bytes while it
 * uploads, before the server has judged it: a failed result means "discard what onChunk got". `answer: 'full'` asks
 * the server for the whole document instead (chunks then arrive only for documents that were sealed).
 *
 * Uploads are pipelined: up to `concurrency` documents are in flight (capped by the server's
 * `seald-batch-max-inflight`) and upload side by side, their chunks interleaved, so the server seals some while
 * others upload and a large document never holds up the small ones queued behind it. Writes wait for the stream to drain and `onChunk` is awaited, so a
 * slow consumer slows the server instead of filling memory. The call rejects (with the grpc-js ServiceError, or the
 * error an input's `read()` threw, which cancels the call) only when the stream itself fails; a document the server
 * cannot seal is a result with `ok: false`.
 */
import { once } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  BatchAnswer,
  BatchService,
  SealBatchRequestSchema,
  type SealBatchRequest,
  type SealBatchResponse,
} from '../gen/seald/v1/batch_pb.ts';
import type { PlacementSchema, SealSummary, SignatureOptionsSchema } from '../gen/seald/v1/seald_pb.ts';
import { CLIENT_CHANNEL_OPTIONS } from '../rpc/channel-options.ts';
import { MAX_INFLIGHT_METADATA_KEY } from '../rpc/metadata.ts';
import { grpcClientConstructor, type GrpcServiceClient } from '../rpc/grpc-service.ts';
import { encodeAround, encoded } from '../rpc/wire-encode.ts';
import { statusName } from '../rpc/status.ts';
import { channelCredentials, UPLOAD_CHUNK_BYTES, type CallSettings, type ClientTls } from './client.ts';

export type BatchClient = GrpcServiceClient<typeof BatchService.method>;
export type PlacementInit = MessageInitShape<typeof PlacementSchema>;
export type SignatureOptionsInit = MessageInitShape<typeof SignatureOptionsSchema>;

export const DEFAULT_BATCH_CONCURRENCY = 8;

const BatchClientConstructor = grpcClientConstructor(BatchService);

export function connectBatch(address: string, options: grpc.ClientOptions = {}, tls?: ClientTls): BatchClient {
  return new BatchClientConstructor(address, channelCredentials(tls), { ...CLIENT_CHANNEL_OPTIONS, ...options });
}

/** Service config spreading a batch client's calls over every address its target resolves to. */
export const ROUND_ROBIN = { loadBalancingConfig: [{ round_robin: {} }] };

/** What every document gets unless it says otherwise. */
export interface BatchDefaults {
  sealId: string;
  placement?: PlacementInit;
  options?: SignatureOptionsInit;
}

/** One document to seal. */
export interface BatchInput {
  /** Unique among the documents in flight; the idempotency key (with the bytes and options) on the server. */
  id: string;
  /** The document's bytes; called once, when the document's turn to upload comes. */
  read?(): AsyncIterable<Uint8Array>;
  /**
   * Or the file holding them, read by the client when the document's turn comes (when `read` is not given). Faster:
   * each chunk is read straight into its request frame, with no read buffer and no encode copy. The file must not
   * change while it is read (the client checks its size before and after).
   */
  file?: string;
  /** Size in bytes, when known (lets the server refuse an oversized document or spool it to disk up front). */
  size?: number;
  sealId?: string;
  /** The password of an encrypted document (sent in its start message, never logged). */
  password?: string;
  /** The seal holder's PIN for this document's signature (signature activation; sent in its start message only). */
  activationPin?: Uint8Array;
  placement?: PlacementInit;
  options?: SignatureOptionsInit;
}

export type BatchResult =
  | {
      id: string;
      ok: true;
      summary: SealSummary;
      /** Answered from the server's idempotency store: nothing was signed now. */
      replayed: boolean;
      /** Bytes uploaded. */
      bytesIn: number;
      /** Bytes of the sealed document handed to `onChunk` (with appended answers: the upload plus the revision). */
      bytesOut: number;
    }
  | {
      id: string;
      ok: false;
      /** gRPC status code and name, e.g. 3 / INVALID_ARGUMENT. */
      code: number;
      status: string;
      /** Stable seald error code, e.g. PDF_ENCRYPTED. */
      errorCode: string;
      message: string;
      bytesIn: number;
    };

export interface SealBatchOptions extends CallSettings {
  /** Documents in flight at once (default 8; never more than the server allows). */
  concurrency?: number;
  /**
   * 'appended' (default): the server sends back only the new revision and `onChunk` gets the uploaded bytes, then
   * it. 'full': the server sends back the whole sealed document.
   */
  answer?: 'appended' | 'full';
  /** Cancels the call (documents not yet answered get no result). */
  signal?: AbortSignal;
  /** A document's upload begins. */
  onStart?: (id: string) => void;
  /** The next bytes of a sealed document, in order; awaited. With answer 'appended', also while the document uploads. */
  onChunk?: (id: string, chunk: Uint8Array) => Promise<void> | void;
  /** A document's outcome, after all its chunks; awaited. */
  onResult?: (result: BatchResult) => Promise<void> | void;
}

export interface BatchTotals {
  documents: number;
  sealed: number;
  replayed: number;
  failed: number;
  bytesIn: number;
  bytesOut: number;
  /** Documents in flight at most, as agreed with the server. */
  concurrency: number;
}

export async function sealBatch(
  client: BatchClient,
  defaults: BatchDefaults,
  inputs: Iterable<BatchInput> | AsyncIterable<BatchInput>,
  options: SealBatchOptions = {},
): Promise<BatchTotals> {
  const metadata = new grpc.Metadata();
  if (options.requestId !== undefined) metadata.set('x-request-id', options.requestId);
  const call = client.sealBatch(metadata, options.deadline === undefined ? {} : { deadline: options.deadline });
  const ended = new Promise<void>((resolve) => call.once('status', () => resolve()));
  const onAbort = (): void => call.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) call.cancel();

  const totals: BatchTotals = { documents: 0, sealed: 0, replayed: 0, failed: 0, bytesIn: 0, bytesOut: 0, concurrency: 0 };
  const bytesIn = new Map<string, number>();
  const bytesOut = new Map<string, number>();
  /**
   * Documents holding a place (of `concurrency`): from their start until both their answer has arrived and their
   * upload has finished (end queued on the stream, also after an early answer stopped it). Counting both keeps this client's view of
   * "finished" at least as long as the server's, whatever order a failure and the document's end cross in.
   */
  const places = new Map<string, { answered: boolean; uploaded: boolean }>();
  let slotFreed: (() => void) | undefined;
  const leave = (id: string, what: 'answered' | 'uploaded'): void => {
    const place = places.get(id);
    if (place === undefined) return;
    place[what] = true;
    if (!place.answered || !place.uploaded) return;
    places.delete(id);
    slotFreed?.();
    slotFreed = undefined;
  };
  /** An answer that arrived while its document was still uploading: the rest of its bytes are not sent. */
  const answeredEarly = (id: string): boolean => places.get(id)?.answered === true;
  let concurrency = Math.max(1, options.concurrency ?? DEFAULT_BATCH_CONCURRENCY);
  const appended = options.answer !== 'full';

  const upload = (async () => {
    const write = async (request: SealBatchRequest): Promise<boolean> => {
      if (call.write(request)) return true;
      return Promise.race([once(call, 'drain').then(() => true), ended.then(() => false)]);
    };
    const serverMetadata = await Promise.race([once(call, 'metadata').then(([m]) => m as grpc.Metadata), ended.then(() => undefined)]);
    if (serverMetadata === undefined) return;
    const advertised = Number(serverMetadata.get(MAX_INFLIGHT_METADATA_KEY)[0]);
    if (Number.isInteger(advertised) && advertised > 0) concurrency = Math.min(concurrency, advertised);
    totals.concurrency = concurrency;
    const header = create(SealBatchRequestSchema, {
      payload: {
        case: 'header',
        value: {
          sealId: defaults.sealId,
          placement: defaults.placement,
          options: defaults.options,
          answer: appended ? BatchAnswer.APPENDED : BatchAnswer.FULL,
        },
      },
    });
    if (!(await write(header))) return;
    // Documents upload side by side (their chunks interleave on the stream), so a large document does not hold up
    // the small ones behind it: the server seals those while the large one still streams in.
    const uploads = new Set<Promise<boolean>>();
    let uploadFailure: { error: unknown } | undefined;
    let streamEnded = false;
    const uploadDocument = async (input: BatchInput): Promise<boolean> => {
      const start = create(SealBatchRequestSchema, {
        payload: {
          case: 'start',
          value: {
            documentId: input.id,
            sealId: input.sealId ?? '',
            placement: input.placement,
            options: input.options,
            ...(input.size === undefined ? {} : { documentSize: BigInt(input.size) }),
            ...(input.password === undefined ? {} : { documentPassword: input.password }),
            ...(input.activationPin === undefined ? {} : { activation: { pin: input.activationPin } }),
          },
        },
      });
      if (!(await write(start))) return false;
      /** Sends one chunk (a message, or an encoded frame around `data`); false when the stream has ended. */
      const sendChunk = async (chunk: SealBatchRequest, data: Uint8Array): Promise<boolean> => {
        if (answeredEarly(input.id)) return true; // refused already: the server would drop it
        bytesIn.set(input.id, (bytesIn.get(input.id) ?? 0) + data.byteLength);
        const written = write(chunk);
        // The original bytes are the start of the sealed document: hand them on while they travel.
        if (appended) await options.onChunk?.(input.id, data);
        return written;
      };
      if (input.read !== undefined) {
        for await (const piece of input.read()) {
          if (answeredEarly(input.id)) break;
          for (let offset = 0; offset < piece.byteLength; offset += UPLOAD_CHUNK_BYTES) {
            if (streamEnded) return false;
            const data = piece.subarray(offset, Math.min(offset + UPLOAD_CHUNK_BYTES, piece.byteLength));
            const chunk = create(SealBatchRequestSchema, { payload: { case: 'chunk', value: { documentId: input.id, data } } });
            if (!(await sendChunk(chunk, data))) return false;
          }
        }
      } else if (input.file !== undefined) {
        const file = await open(input.file, 'r');
        try {
          const { size } = await file.stat();
          for (let offset = 0; offset < size && !answeredEarly(input.id); offset += UPLOAD_CHUNK_BYTES) {
            if (streamEnded) return false;
            const { frame, data } = chunkFrame(input.id, Math.min(UPLOAD_CHUNK_BYTES, size - offset));
            await readFully(file, data, offset, input.file);
            if (!(await sendChunk(encoded(SealBatchRequestSchema, frame), data))) return false;
          }
          if (!answeredEarly(input.id) && (await file.stat()).size !== size) throw new Error(`${input.file} changed while it was being sent`);
        } finally {
          await file.close();
        }
      } else {
        throw new Error(`document ${JSON.stringify(input.id)} has neither read() nor file`);
      }
      // Queued is enough: the stream keeps its order, so the server reads this end before any later start.
      const written = write(create(SealBatchRequestSchema, { payload: { case: 'end', value: { documentId: input.id } } }));
      leave(input.id, 'uploaded');
      return written;
    };
    for await (const input of inputs) {
      while (places.size >= concurrency) {
        const freed = new Promise<void>((resolve) => (slotFreed = resolve));
        if ((await Promise.race([freed.then(() => true), ended.then(() => false)])) === false) streamEnded = true;
        if (streamEnded || uploadFailure !== undefined) break;
      }
      if (streamEnded || uploadFailure !== undefined) break;
      places.set(input.id, { answered: false, uploaded: false });
      totals.documents++;
      bytesIn.set(input.id, 0);
      options.onStart?.(input.id);
      const task = uploadDocument(input);
      uploads.add(task);
      task.then(
        (ok) => {
          uploads.delete(task);
          if (!ok) streamEnded = true;
        },
        (error: unknown) => {
          uploads.delete(task);
          uploadFailure ??= { error };
          call.cancel(); // the other uploads see the stream end
        },
      );
    }
    while (uploads.size > 0) await Promise.allSettled([...uploads]);
    if (uploadFailure !== undefined) throw uploadFailure.error;
    if (streamEnded) return;
    call.end();
  })();
  let uploadError: unknown;
  upload.catch((error: unknown) => {
    uploadError = error;
    call.cancel();
  });

  const settle = async (result: BatchResult): Promise<void> => {
    bytesIn.delete(result.id);
    bytesOut.delete(result.id);
    leave(result.id, 'answered');
    totals.bytesIn += result.bytesIn;
    if (result.ok) {
      totals.bytesOut += result.bytesOut;
      if (result.replayed) totals.replayed++;
      else totals.sealed++;
    } else {
      totals.failed++;
    }
    await options.onResult?.(result);
  };

  try {
    for await (const message of call as AsyncIterable<SealBatchResponse>) {
      const id = message.documentId;
      const { payload } = message;
      if (payload.case === 'chunk') {
        bytesOut.set(id, (bytesOut.get(id) ?? 0) + payload.value.byteLength);
        await options.onChunk?.(id, payload.value);
      } else if (payload.case === 'sealed') {
        const summary = payload.value.summary;
        if (summary === undefined) throw new Error(`protocol error: document ${JSON.stringify(id)} sealed without a summary`);
        if (appended) {
          const sent = bytesIn.get(id) ?? 0;
          if (payload.value.inputSize !== BigInt(sent)) {
            // A server that predates BATCH_ANSWER_APPENDED sends the whole document and no input size.
            throw new Error(
              `protocol error: document ${JSON.stringify(id)} was sealed on ${payload.value.inputSize} bytes but ${sent} were sent` +
                ' (a server without appended answers? use answer "full")',
            );
          }
          bytesOut.set(id, sent + (bytesOut.get(id) ?? 0));
        }
        await settle({
          id,
          ok: true,
          summary,
          replayed: payload.value.replayed,
          bytesIn: bytesIn.get(id) ?? 0,
          bytesOut: bytesOut.get(id) ?? 0,
        });
      } else if (payload.case === 'error') {
        const { code, errorCode, message: text } = payload.value;
        await settle({ id, ok: false, code, status: statusName(code), errorCode, message: text, bytesIn: bytesIn.get(id) ?? 0 });
      }
    }
  } catch (error) {
    if (uploadError !== undefined) throw uploadError;
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  await upload.catch(() => undefined);
  if (uploadError !== undefined) throw uploadError;
  return totals;
}

/** A chunk message of `length` bytes for `documentId`, with its bytes still to be written into `data`. */
function chunkFrame(documentId: string, length: number): { frame: Buffer; data: Buffer } {
  const room = new Uint8Array(0);
  const message = create(SealBatchRequestSchema, { payload: { case: 'chunk', value: { documentId, data: room } } });
  return encodeAround(SealBatchRequestSchema, message, room, length);
}

/** Fill `into` from `file` at `position`; a file that ends early changed while it was read. */
async function readFully(file: FileHandle, into: Uint8Array, position: number, name: string): Promise<void> {
  let filled = 0;
  while (filled < into.byteLength) {
    const { bytesRead } = await file.read(into, filled, into.byteLength - filled, position + filled);
    if (bytesRead === 0) throw new Error(`${name} changed while it was being sent (shorter than when it was opened)`);
    filled += bytesRead;
  }
}
