/**
 * The client side of seald's gRPC API, for the CLI (and tests): connect, ListSeals, and a streaming Seal that uploads
 * a document in 1 MiB chunks (with backpressure) while handing the sealed document's chunks to a sink as they arrive.
 */
import { once } from 'node:events';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  ListSealsRequestSchema,
  SealRequestSchema,
  SealService,
  type ListSealsResponse,
  type SealHeader,
  type SealResponse,
  type SealSummary,
} from '../gen/seald/v1/seald_pb.ts';
import { grpcClientConstructor, type GrpcServiceClient } from '../server/grpc-service.ts';
import { ERROR_CODE_METADATA_KEY } from '../server/status.ts';

export const UPLOAD_CHUNK_BYTES = 1024 * 1024;
export const DEFAULT_SERVER = '127.0.0.1:50051';

export type SealClient = GrpcServiceClient<typeof SealService.method>;

const SealClientConstructor = grpcClientConstructor(SealService);

/** PEM bytes for mutual TLS: the CA bundle the server's certificate must chain to, this client's certificate and key. */
export interface ClientTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** Plaintext, or mutual TLS when `tls` is given. */
export function channelCredentials(tls?: ClientTls): grpc.ChannelCredentials {
  return tls === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(tls.ca, tls.key, tls.cert);
}

export function connect(address: string, options: grpc.ClientOptions = {}, tls?: ClientTls): SealClient {
  return new SealClientConstructor(address, channelCredentials(tls), options);
}

export interface CallSettings {
  /** Absolute deadline for the call. */
  deadline?: Date;
  /** Sent as `x-request-id` (the server logs it). */
  requestId?: string;
}

function metadataOf(settings: CallSettings): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (settings.requestId !== undefined) metadata.set('x-request-id', settings.requestId);
  return metadata;
}

function optionsOf(settings: CallSettings): grpc.CallOptions {
  return settings.deadline === undefined ? {} : { deadline: settings.deadline };
}

export function listSeals(client: SealClient, settings: CallSettings = {}): Promise<ListSealsResponse> {
  return new Promise((resolve, reject) => {
    client.listSeals(create(ListSealsRequestSchema), metadataOf(settings), optionsOf(settings), (error, response) =>
      error !== null || response === undefined ? reject(error) : resolve(response),
    );
  });
}

export interface SealCallOptions extends CallSettings {
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * Run one Seal call: the header, then `body` in chunks of at most 1 MiB; each chunk of the sealed document goes to
 * `sink` in order (awaited: a slow sink slows the server down instead of filling memory). Resolves with the summary
 * once the server has sent it and the call ended OK; rejects with the grpc-js ServiceError otherwise.
 */
export async function sealRemote(
  client: SealClient,
  header: SealHeader,
  body: AsyncIterable<Uint8Array>,
  sink: (chunk: Uint8Array) => Promise<void> | void,
  options: SealCallOptions = {},
): Promise<SealSummary> {
  const call = client.seal(metadataOf(options), optionsOf(options));
  const ended = new Promise<void>((resolve) => call.once('status', () => resolve()));
  const onAbort = (): void => call.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) call.cancel();

  const upload = (async () => {
    const write = async (request: Parameters<typeof call.write>[0]): Promise<boolean> => {
      if (call.write(request)) return true;
      // Full buffer: wait for room, unless the call ends first (an error status stops the upload).
      return Promise.race([once(call, 'drain').then(() => true), ended.then(() => false)]);
    };
    if (!(await write(create(SealRequestSchema, { payload: { case: 'header', value: header } })))) return;
    for await (const piece of body) {
      for (let offset = 0; offset < piece.byteLength; offset += UPLOAD_CHUNK_BYTES) {
        const chunk = piece.subarray(offset, Math.min(offset + UPLOAD_CHUNK_BYTES, piece.byteLength));
        if (!(await write(create(SealRequestSchema, { payload: { case: 'chunk', value: chunk } })))) return;
      }
    }
    call.end();
  })();
  // The response side settles the call; an upload failure (e.g. reading the input) cancels it.
  let uploadError: unknown;
  upload.catch((error: unknown) => {
    uploadError = error;
    call.cancel();
  });

  let summary: SealSummary | undefined;
  try {
    for await (const message of call as AsyncIterable<SealResponse>) {
      if (message.payload.case === 'chunk') {
        if (summary !== undefined) throw new Error('protocol error: document bytes after the summary');
        await sink(message.payload.value);
      } else if (message.payload.case === 'summary') {
        summary = message.payload.value;
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
  if (summary === undefined) throw new Error('protocol error: the server ended the call without a summary');
  return summary;
}

/** The stable seald error code of a failed call (trailing metadata `seald-error-code`), if any. */
export function sealdErrorCode(error: unknown): string | undefined {
  const metadata = (error as Partial<grpc.ServiceError> | undefined)?.metadata;
  const value = metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  return typeof value === 'string' ? value : undefined;
}

export function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as Partial<grpc.ServiceError>).code === 'number' && 'metadata' in error;
}
