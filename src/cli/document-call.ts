/**
 * The client half of a document RPC whose answer is a document (Rollback, Timestamp): upload the header and the file
 * in 1 MiB chunks while handing the answer's chunks to a sink, and resolve with the final summary once the call
 * ended OK (reject with the ServiceError, or the upload's own error, otherwise).
 */
import { once } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { UPLOAD_CHUNK_BYTES } from './client.ts';

/** A response of a document RPC: chunks of the resulting document, then one summary. */
export interface DocumentResponse<S> {
  payload: { case: 'chunk'; value: Uint8Array } | { case: 'summary'; value: S } | { case: undefined; value?: undefined };
}

export async function documentCall<Q, S>(
  call: grpc.ClientDuplexStream<Q, DocumentResponse<S>>,
  request: { header: Q; chunk: (bytes: Uint8Array) => Q },
  body: AsyncIterable<Uint8Array>,
  sink: (chunk: Uint8Array) => Promise<void> | void,
): Promise<S> {
  const ended = new Promise<void>((resolve) => call.once('status', () => resolve()));
  const write = async (message: Q): Promise<boolean> =>
    call.write(message) || Promise.race([once(call, 'drain').then(() => true), ended.then(() => false)]);
  let uploadError: unknown;
  const upload = (async () => {
    if (!(await write(request.header))) return;
    for await (const piece of body) {
      for (let offset = 0; offset < piece.byteLength; offset += UPLOAD_CHUNK_BYTES) {
        if (!(await write(request.chunk(piece.subarray(offset, Math.min(offset + UPLOAD_CHUNK_BYTES, piece.byteLength)))))) return;
      }
    }
    call.end();
  })().catch((error: unknown) => {
    uploadError = error;
    call.cancel();
  });
  let summary: S | undefined;
  try {
    for await (const message of call as AsyncIterable<DocumentResponse<S>>) {
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
