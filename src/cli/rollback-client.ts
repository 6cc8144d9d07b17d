/** The client side of RollbackService: upload a document in 1 MiB chunks, hand the result's chunks to a sink. */
import { once } from 'node:events';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  RollbackRequestSchema,
  RollbackService,
  type RollbackHeader,
  type RollbackResponse,
  type RollbackSummary,
} from '../gen/seald/v1/rollback_pb.ts';
import { grpcClientConstructor, type GrpcServiceClient } from '../server/grpc-service.ts';
import { channelCredentials, UPLOAD_CHUNK_BYTES, type CallSettings, type ClientTls } from './client.ts';

export type RollbackClient = GrpcServiceClient<typeof RollbackService.method>;

const RollbackClientConstructor = grpcClientConstructor(RollbackService);

export function connectRollback(address: string, tls?: ClientTls): RollbackClient {
  return new RollbackClientConstructor(address, channelCredentials(tls));
}

/** One Rollback call; resolves with the summary once the call ended OK, rejects with the ServiceError otherwise. */
export async function rollbackRemote(
  client: RollbackClient,
  header: RollbackHeader,
  body: AsyncIterable<Uint8Array>,
  sink: (chunk: Uint8Array) => Promise<void> | void,
  settings: CallSettings = {},
): Promise<RollbackSummary> {
  const metadata = new grpc.Metadata();
  if (settings.requestId !== undefined) metadata.set('x-request-id', settings.requestId);
  const call = client.rollback(metadata, settings.deadline === undefined ? {} : { deadline: settings.deadline });
  const ended = new Promise<void>((resolve) => call.once('status', () => resolve()));
  const write = async (request: Parameters<typeof call.write>[0]): Promise<boolean> =>
    call.write(request) || Promise.race([once(call, 'drain').then(() => true), ended.then(() => false)]);
  let uploadError: unknown;
  const upload = (async () => {
    if (!(await write(create(RollbackRequestSchema, { payload: { case: 'header', value: header } })))) return;
    for await (const piece of body) {
      for (let offset = 0; offset < piece.byteLength; offset += UPLOAD_CHUNK_BYTES) {
        const chunk = piece.subarray(offset, Math.min(offset + UPLOAD_CHUNK_BYTES, piece.byteLength));
        if (!(await write(create(RollbackRequestSchema, { payload: { case: 'chunk', value: chunk } })))) return;
      }
    }
    call.end();
  })().catch((error: unknown) => {
    uploadError = error;
    call.cancel();
  });
  let summary: RollbackSummary | undefined;
  try {
    for await (const message of call as AsyncIterable<RollbackResponse>) {
      if (message.payload.case === 'chunk') await sink(message.payload.value);
      else if (message.payload.case === 'summary') summary = message.payload.value;
    }
  } catch (error) {
    throw uploadError ?? error;
  }
  await upload;
  if (uploadError !== undefined) throw uploadError;
  if (summary === undefined) throw new Error('protocol error: the server ended the call without a summary');
  return summary;
}
