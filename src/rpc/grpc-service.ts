/**
 * Glue between protobuf-es (generated `GenService` descriptors) and @grpc/grpc-js (`ServiceDefinition`), which has
 * no released adapter. One definition serves both sides: `server.addService(definition, handlers)` and
 * `makeGenericClientConstructor(definition, …)`. Method keys are the generated `localName`s (`seal`, `listSeals`);
 * the wire path is the protobuf one (`/seald.v1.SealService/Seal`).
 */
import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import * as grpc from '@grpc/grpc-js';
import { encodedBytes, encodeMessage } from './wire-encode.ts';

type In<M extends GenServiceMethods[string]> = MessageShape<M['input']>;
type Out<M extends GenServiceMethods[string]> = MessageShape<M['output']>;

export type GrpcServiceDefinition<T extends GenServiceMethods> = {
  readonly [K in keyof T]: grpc.MethodDefinition<In<T[K]>, Out<T[K]>>;
};

/** Server handlers, typed by each method's kind. */
export type GrpcServiceHandlers<T extends GenServiceMethods> = {
  [K in keyof T]: T[K]['methodKind'] extends 'unary'
    ? grpc.handleUnaryCall<In<T[K]>, Out<T[K]>>
    : T[K]['methodKind'] extends 'server_streaming'
      ? grpc.handleServerStreamingCall<In<T[K]>, Out<T[K]>>
      : T[K]['methodKind'] extends 'client_streaming'
        ? grpc.handleClientStreamingCall<In<T[K]>, Out<T[K]>>
        : grpc.handleBidiStreamingCall<In<T[K]>, Out<T[K]>>;
};

/** Client methods, typed by each method's kind (the argument forms seald uses). */
export type GrpcServiceClient<T extends GenServiceMethods> = grpc.Client & {
  [K in keyof T]: T[K]['methodKind'] extends 'unary'
    ? (
        request: In<T[K]>,
        metadata: grpc.Metadata,
        options: grpc.CallOptions,
        callback: grpc.requestCallback<Out<T[K]>>,
      ) => grpc.ClientUnaryCall
    : T[K]['methodKind'] extends 'server_streaming'
      ? (request: In<T[K]>, metadata?: grpc.Metadata, options?: grpc.CallOptions) => grpc.ClientReadableStream<Out<T[K]>>
      : T[K]['methodKind'] extends 'client_streaming'
        ? (
            metadata: grpc.Metadata,
            options: grpc.CallOptions,
            callback: grpc.requestCallback<Out<T[K]>>,
          ) => grpc.ClientWritableStream<In<T[K]>>
        : (metadata?: grpc.Metadata, options?: grpc.CallOptions) => grpc.ClientDuplexStream<In<T[K]>, Out<T[K]>>;
};

export function grpcServiceDefinition<T extends GenServiceMethods>(service: GenService<T>): GrpcServiceDefinition<T> {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const kind = method.methodKind;
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream: kind === 'client_streaming' || kind === 'bidi_streaming',
      responseStream: kind === 'server_streaming' || kind === 'bidi_streaming',
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    };
  }
  return definition as GrpcServiceDefinition<T>;
}

export function grpcClientConstructor<T extends GenServiceMethods>(
  service: GenService<T>,
): new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => GrpcServiceClient<T> {
  const definition = grpcServiceDefinition(service) as grpc.ServiceDefinition;
  // makeGenericClientConstructor builds untyped methods from the definition; GrpcServiceClient states their types.
  return grpc.makeGenericClientConstructor(definition, service.name) as unknown as new (
    address: string,
    credentials: grpc.ChannelCredentials,
    options?: grpc.ClientOptions,
  ) => GrpcServiceClient<T>;
}

function serializer(schema: DescMessage): (message: unknown) => Buffer {
  return (message) => {
    const bytes = encodedBytes(message) ?? encodeMessage(schema, message as MessageShape<DescMessage>);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength); // a view, not a copy
  };
}

function deserializer(schema: DescMessage): (bytes: Buffer) => unknown {
  // grpc-js hands each message its own Buffer, so `bytes` fields may stay views into it.
  return (bytes) => fromBinary(schema, bytes);
}
