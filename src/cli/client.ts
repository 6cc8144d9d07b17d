/**
 * The client side of seald's gRPC API, for the CLI (and tests): connect, ListSeals, and a streaming Seal that uploads
 * a document in 1 MiB chunks (with backpressure) while handing the sealed document's chunks to a sink as they arrive.
 */
import { lookup } from 'node:dns/promises';
import { once } from 'node:events';
import { isIP } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { CLIENT_CHANNEL_OPTIONS } from '../rpc/channel-options.ts';
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
import { grpcClientConstructor, type GrpcServiceClient } from '../rpc/grpc-service.ts';
import { ERROR_CODE_METADATA_KEY } from '../rpc/status.ts';

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
  return new SealClientConstructor(address, channelCredentials(tls), { ...CLIENT_CHANNEL_OPTIONS, ...options });
}

/**
 * The channel's service config: round_robin over every address the target resolves to (one subchannel per replica,
 * calls spread across the READY ones), and gRPC's own retry of UNAVAILABLE while a call is still uncommitted (grpc-js
 * buffers at most 1 MiB per call, so for Seal that is the window before the first document chunk has gone out; a
 * replica lost later is the caller's to retry, see withSealRetries).
 */
export const BALANCED_SERVICE_CONFIG = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [
    {
      name: [{ service: SealService.typeName }],
      retryPolicy: {
        maxAttempts: 3,
        initialBackoff: '0.1s',
        maxBackoff: '1s',
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    },
  ],
};

/**
 * A client for one or more servers. Each entry is `host:port` or a gRPC target URI (`dns:///name:port`,
 * `ipv4:a:p,b:q`, `ipv6:[a]:p,…`). Several `host:port` entries become one static `ipv4:`/`ipv6:` target (the list form
 * grpc-js's IP resolver understands), after looking each name up once: a static list does not follow DNS changes,
 * `dns:///name:port` does.
 */
export async function connectServers(
  servers: readonly string[],
  options: grpc.ClientOptions = {},
  tls?: ClientTls,
): Promise<SealClient> {
  const target = await channelTarget(servers);
  return connect(target, { 'grpc.service_config': JSON.stringify(BALANCED_SERVICE_CONFIG), ...options }, tls);
}

/** The grpc-js target for a server list (see connectServers). */
export async function channelTarget(servers: readonly string[]): Promise<string> {
  if (servers.length === 0) throw new Error('no server address');
  if (servers.length === 1) return servers[0]!;
  const endpoints = await Promise.all(servers.map(resolveHostPort));
  for (const family of [4, 6] as const) {
    if (endpoints.every((e) => e.some((a) => a.family === family))) {
      const list = endpoints.map((e) => e.find((a) => a.family === family)!.hostPort);
      return `ipv${family}:${list.join(',')}`;
    }
  }
  throw new Error(`the servers ${servers.join(', ')} do not all have an IPv4 (or all an IPv6) address`);
}

async function resolveHostPort(server: string): Promise<{ family: 4 | 6; hostPort: string }[]> {
  const cut = server.lastIndexOf(':');
  const host = server.slice(0, cut).replace(/^\[(.*)\]$/, '$1');
  const port = server.slice(cut + 1);
  const literal = isIP(host);
  const addresses = literal !== 0 ? [{ address: host, family: literal }] : await lookup(host, { all: true });
  return addresses.map(({ address, family }) => ({
    family: family === 6 ? 6 : 4,
    hostPort: family === 6 ? `[${address}]:${port}` : `${address}:${port}`,
  }));
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

const RETRY_BACKOFF_MS = 100;

/**
 * Run `attempt` until it succeeds, retrying only a call that its server cut off: UNAVAILABLE (the replica went away:
 * crashed, unreachable, refused) or a CANCELLED the caller did not ask for (a replica whose drain time ran out resets
 * the calls it still holds, which grpc-js reports as CANCELLED), up to `maxAttempts` attempts in all. Each attempt
 * must start from scratch (re-read the input, write a fresh output) and must not have handed anything out before it
 * failed: a failed Seal call never delivers a sealed document (the CLI writes a temp file and renames it only after
 * the summary), so a retry cannot seal a document twice on the client's side. The replica that was cut off may have
 * sealed it before it went (its audit log shows it); that copy never reached anyone.
 */
export async function withSealRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: { maxAttempts?: number; signal?: AbortSignal; onRetry?: (error: grpc.ServiceError, n: number) => void } = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 3;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const cutOff =
        isServiceError(error) &&
        (error.code === grpc.status.UNAVAILABLE || (error.code === grpc.status.CANCELLED && options.signal?.aborted !== true));
      if (n >= maxAttempts || !cutOff) throw error;
      options.onRetry?.(error, n);
      await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS * 2 ** (n - 1)));
    }
  }
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
