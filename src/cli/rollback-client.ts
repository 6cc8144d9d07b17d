/** The client side of RollbackService: upload a document in 1 MiB chunks, hand the result's chunks to a sink. */
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  RollbackRequestSchema,
  RollbackService,
  type RollbackHeader,
  type RollbackSummary,
} from '../gen/seald/v1/rollback_pb.ts';
import { grpcClientConstructor, type GrpcServiceClient } from '../rpc/grpc-service.ts';
import { channelCredentials, type CallSettings, type ClientTls } from './client.ts';
import { documentCall } from './document-call.ts';

export type RollbackClient = GrpcServiceClient<typeof RollbackService.method>;

const RollbackClientConstructor = grpcClientConstructor(RollbackService);

export function connectRollback(address: string, tls?: ClientTls): RollbackClient {
  return rollbackClient(address, channelCredentials(tls));
}

export function rollbackClient(target: string, credentials: grpc.ChannelCredentials): RollbackClient {
  return new RollbackClientConstructor(target, credentials);
}

/** One Rollback call; resolves with the summary once the call ended OK, rejects with the ServiceError otherwise. */
export function rollbackRemote(
  client: RollbackClient,
  header: RollbackHeader,
  body: AsyncIterable<Uint8Array>,
  sink: (chunk: Uint8Array) => Promise<void> | void,
  settings: CallSettings = {},
): Promise<RollbackSummary> {
  const metadata = new grpc.Metadata();
  if (settings.requestId !== undefined) metadata.set('x-request-id', settings.requestId);
  const call = client.rollback(metadata, settings.deadline === undefined ? {} : { deadline: settings.deadline });
  return documentCall(
    call,
    {
      header: create(RollbackRequestSchema, { payload: { case: 'header', value: header } }),
      chunk: (value) => create(RollbackRequestSchema, { payload: { case: 'chunk', value } }),
    },
    body,
    sink,
  );
}
