/**
 * SealBatch test support: a server (test/server/harness.ts's, with batch settings) and a raw SealBatch stream that
 * sends exactly the messages a test writes, for the framing cases the batch client never produces (interleaving,
 * protocol violations, cancelling mid-document).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { connectBatch, type BatchClient } from '../../src/cli/batch-client.ts';
import type { sealDocument } from '../../src/engine/seal.ts';
import {
  SealBatchRequestSchema,
  type SealBatchRequest,
  type SealBatchResponse,
} from '../../src/gen/seald/v1/batch_pb.ts';
import type { BatchSettings, Limits } from '../../src/config/config.ts';
import type { Logger } from '../../src/server/logger.ts';
import type { ConfiguredSeal } from '../../src/server/seals.ts';
import { startServer, type SealdServer } from '../../src/server/server.ts';
import { fakeSeal, fakeSealDocument } from './harness.ts';

export interface BatchHarness {
  server: SealdServer;
  client: BatchClient;
  root: string;
  spoolDir: string;
  logs: string[];
  available: Set<string>;
  close(): Promise<void>;
}

export async function startBatchHarness(
  options: {
    sealDocument?: typeof sealDocument;
    seals?: ConfiguredSeal[];
    limits?: Partial<Limits>;
    batch?: Partial<BatchSettings>;
    metrics?: boolean;
    /** host:port to listen on (default 127.0.0.1:0). */
    listen?: string;
  } = {},
): Promise<BatchHarness> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-batch-test-'));
  const spoolDir = path.join(root, 'spool');
  const seals = options.seals ?? [fakeSeal('org'), fakeSeal('personal', 'personal')];
  const available = new Set(seals.map((s) => s.config.id));
  const logs: string[] = [];
  const logger: Logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const server = await startServer({
    listen: options.listen ?? '127.0.0.1:0',
    metrics: options.metrics === true ? '127.0.0.1:0' : undefined,
    limits: {
      maxDocumentBytes: 64 * 1024 * 1024,
      spoolMemoryBytes: 1024 * 1024,
      tmpDir: spoolDir,
      drainSeconds: 5,
      ...options.limits,
    },
    batch: {
      inflightDocuments: 4,
      idempotencyWindowSeconds: 3600,
      idempotencyMemoryBytes: 1024 * 1024,
      idempotencyDir: path.join(root, 'idempotency'),
      ...options.batch,
    },
    logger,
    seals: new Map(seals.map((s) => [s.config.id, s])),
    isAvailable: (seal) => available.has(seal.config.id),
    sealDocument: options.sealDocument ?? fakeSealDocument(),
    healthIntervalMs: 50,
  });
  const client = connectBatch(server.address);
  return {
    server,
    client,
    root,
    spoolDir,
    logs,
    available,
    async close() {
      client.close();
      await server.shutdown('test over');
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

export type BatchRequestPayload = NonNullable<MessageInitShape<typeof SealBatchRequestSchema>['payload']>;

/** A SealBatch call driven message by message. */
export interface RawBatch {
  call: grpc.ClientDuplexStream<SealBatchRequest, SealBatchResponse>;
  /** Every response received so far, in order. */
  responses: SealBatchResponse[];
  metadata: Promise<grpc.Metadata>;
  /** Resolves with the call's final status (code 0 = OK). */
  status: Promise<grpc.StatusObject>;
  send(payload: BatchRequestPayload): Promise<void>;
  /** Resolves once a response satisfies `test` (checking those already received first). */
  waitFor(test: (response: SealBatchResponse) => boolean): Promise<SealBatchResponse>;
}

export function rawBatch(client: BatchClient): RawBatch {
  const call = client.sealBatch();
  const responses: SealBatchResponse[] = [];
  const waiters: { test: (r: SealBatchResponse) => boolean; resolve: (r: SealBatchResponse) => void }[] = [];
  call.on('data', (response: SealBatchResponse) => {
    responses.push(response);
    for (const waiter of [...waiters]) {
      if (waiter.test(response)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(response);
      }
    }
  });
  call.on('error', () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) => call.once('status', resolve));
  const metadata = new Promise<grpc.Metadata>((resolve) => call.once('metadata', resolve));
  return {
    call,
    responses,
    metadata,
    status,
    send(payload) {
      return new Promise<void>((resolve, reject) => {
        call.write(create(SealBatchRequestSchema, { payload }), (error: Error | null | undefined) =>
          error ? reject(error) : resolve(),
        );
      });
    },
    waitFor(test) {
      const found = responses.find(test);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

/** The sealed bytes of one document, from the responses received. */
export function sealedBytes(responses: readonly SealBatchResponse[], documentId: string): Buffer {
  return Buffer.concat(
    responses
      .filter((r) => r.documentId === documentId && r.payload.case === 'chunk')
      .map((r) => r.payload.value as Uint8Array),
  );
}
