/**
 * Reading a SealBatch request stream one message at a time, with the stream paused while a message waits (so gRPC
 * flow control reaches the client), and a way to stop waiting (cancel, server shutdown) that leaves nothing pending
 * on the stream.
 *
 * Not the stream's async iterator: a read left pending on it when the call then ends with an error status destroys
 * the call, and the status never reaches the client (measured with grpc-js 1.14.7: the client sees CANCELLED "Call
 * cancelled" instead) — which is exactly what a draining server does while a client is between two documents.
 */
import type * as grpc from '@grpc/grpc-js';
import type { SealBatchRequest, SealBatchResponse } from '../gen/seald/v1/batch_pb.ts';

export type BatchCall = grpc.ServerDuplexStream<SealBatchRequest, SealBatchResponse>;

/** What `next` returns once one of its stop signals is aborted. */
export const STOPPED = Symbol('stopped');

/** Reads any request stream of small messages (SealBatch's, and PreparedService's SignPrepared). */
export class RequestReader<M = SealBatchRequest> {
  readonly #queue: M[] = [];
  #ended = false;
  #failure: unknown;
  #wake: (() => void) | undefined;

  constructor(private readonly call: { on(event: string, listener: (...args: never[]) => void): unknown; pause(): unknown; resume(): unknown }) {
    call.on('data', (message: M) => {
      this.#queue.push(message);
      call.pause();
      this.#notify();
    });
    call.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    call.on('error', (error: unknown) => {
      this.#failure ??= error;
      this.#notify();
    });
  }

  /** The next message, undefined at the end, STOPPED once one of `stops` is aborted. */
  async next(stops: readonly AbortSignal[]): Promise<M | undefined | typeof STOPPED> {
    for (;;) {
      const message = this.#queue.shift();
      if (message !== undefined) {
        if (this.#queue.length === 0 && !this.#ended) this.call.resume();
        return message;
      }
      if (stops.some((stop) => stop.aborted)) return STOPPED;
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#ended) return undefined;
      this.call.resume();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          for (const stop of stops) stop.removeEventListener('abort', done);
          this.#wake = undefined;
          resolve();
        };
        this.#wake = done;
        for (const stop of stops) stop.addEventListener('abort', done, { once: true });
      });
    }
  }

  #notify(): void {
    this.#wake?.();
  }
}
