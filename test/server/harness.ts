/**
 * Test harness: a real gRPC server (real handlers, spool, health, reflection, metrics) on 127.0.0.1:0, with either
 * the real engine or a stand-in, plus clients for SealService, grpc.health.v1 and server reflection.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { service as healthServiceDefinition } from 'grpc-health-check';
import { pino } from 'pino';
import type { Signer } from '../../src/crypto/signer.ts';
import type { SealOutcome, sealDocument } from '../../src/engine/seal.ts';
import { resolvePageSpec } from '../../src/pdf/page-spec.ts';
import { connect, type SealClient } from '../../src/cli/client.ts';
import type { Limits } from '../../src/config/config.ts';
import type { Logger } from '../../src/server/logger.ts';
import type { ConfiguredSeal } from '../../src/server/seals.ts';
import { startServer, type SealdServer } from '../../src/server/server.ts';

export const FAKE_REVISION = new TextEncoder().encode('\n%% fake incremental update\n%%EOF\n');

/** Stands in for engine.sealDocument: appends a fixed tail; `delayMs` waits (abortably) before answering. */
export function fakeSealDocument(
  behaviour: { delayMs?: number; fail?: unknown; onCall?: (signal?: AbortSignal) => void } = {},
): typeof sealDocument {
  return async (source, seal, placement, options = {}) => {
    behaviour.onCall?.(options.signal);
    if (behaviour.delayMs !== undefined) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, behaviour.delayMs);
        options.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(options.signal!.reason);
        });
      });
    }
    if (behaviour.fail !== undefined) throw behaviour.fail;
    // Page specs resolve against a 10-page document; the caller approves the pages before "signing", like the engine.
    const pages =
      'page' in placement ? [placement.page] : placement.kind === 'multi-page' ? resolvePageSpec(placement.pages, 10) : [];
    options.approvePages?.(pages);
    // Touch the source the way the engine does: random reads and one sequential pass.
    source.read(0, 8);
    for await (const _ of source.chunks(0, source.size, 65536)) void _;
    const outcome: SealOutcome = {
      appended: FAKE_REVISION,
      fieldName: options.fieldName ?? 'Seal1',
      revision: 2,
      byteRange: [0, 10, 20, source.size + FAKE_REVISION.byteLength - 20],
      documentDigest: new Uint8Array(32).fill(7),
      signerSubject: `CN=${seal.id}`,
      signingTime: new Date('2025-01-02T03:04:05Z'),
      pages,
    };
    return outcome;
  };
}

const fakeSigner: Signer = {
  certificates: [],
  algorithm: 'ECDSA',
  signDigest: async () => new Uint8Array(64),
};

export function fakeSeal(id: string, kind: ConfiguredSeal['config']['kind'] = 'official'): ConfiguredSeal {
  return {
    config: { id, kind, name: `${id} name`, key: id, certificates: '/dev/null', image: '/dev/null', sizeMm: 40 },
    material: { id, signer: fakeSigner, image: { width: 100, height: 100, rgb: new Uint8Array(0), alpha: undefined }, defaultWidth: 113.4, defaultHeight: 113.4 },
    certificate: {
      subject: `CN=${id}`,
      issuer: 'CN=Test CA',
      serialNumber: '0a0b',
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2035-01-01T00:00:00Z'),
      keyAlgorithm: 'ECDSA',
    },
    keyDescription: 'EC prime256v1',
  };
}

export interface Harness {
  server: SealdServer;
  client: SealClient;
  spoolDir: string;
  logs: string[];
  available: Set<string>;
  close(): Promise<void>;
}

export async function startHarness(
  options: {
    sealDocument?: typeof sealDocument;
    seals?: ConfiguredSeal[];
    limits?: Partial<Limits>;
    metrics?: boolean;
    healthIntervalMs?: number;
  } = {},
): Promise<Harness> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-server-test-'));
  const spoolDir = path.join(root, 'spool');
  const seals = options.seals ?? [fakeSeal('org'), fakeSeal('personal', 'personal')];
  const available = new Set(seals.map((s) => s.config.id));
  const logs: string[] = [];
  const logger: Logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const server = await startServer({
    listen: '127.0.0.1:0',
    metrics: options.metrics === true ? '127.0.0.1:0' : undefined,
    limits: {
      maxDocumentBytes: 64 * 1024 * 1024,
      spoolMemoryBytes: 1024 * 1024,
      tmpDir: spoolDir,
      drainSeconds: 5,
      ...options.limits,
    },
    logger,
    seals: new Map(seals.map((s) => [s.config.id, s])),
    isAvailable: (seal) => available.has(seal.config.id),
    sealDocument: options.sealDocument ?? fakeSealDocument(),
    healthIntervalMs: options.healthIntervalMs ?? 50,
  });
  const client = connect(server.address);
  return {
    server,
    client,
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

export function spoolFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

// --- grpc.health.v1 ------------------------------------------------------------------------------------------------

const HealthClient = grpc.makeGenericClientConstructor(healthServiceDefinition as grpc.ServiceDefinition, 'Health');

export function healthCheck(address: string, service = ''): Promise<string> {
  const client = new HealthClient(address, grpc.credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    client.Check({ service }, (error: grpc.ServiceError | null, response: { status: string } | undefined) => {
      client.close();
      if (error !== null || response === undefined) reject(error);
      else resolve(response.status);
    });
  });
}

/** A Watch stream: next() resolves with each status the server sends. */
export function watchHealth(address: string, service = ''): { next(): Promise<string>; close(): void } {
  const client = new HealthClient(address, grpc.credentials.createInsecure());
  const call = client.Watch({ service }) as grpc.ClientReadableStream<{ status: string }>;
  const queue: string[] = [];
  const waiting: ((status: string) => void)[] = [];
  call.on('data', ({ status }) => {
    const resolve = waiting.shift();
    if (resolve === undefined) queue.push(status);
    else resolve(status);
  });
  call.on('error', () => undefined);
  return {
    next: () => {
      const status = queue.shift();
      return status === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(status);
    },
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

// --- grpc.reflection.v1 (hand-encoded: the test needs two requests, not a generated client) -------------------------

type ReflectionRequest = { listServices: string } | { fileContainingSymbol: string };

const reflectionDefinition: grpc.ServiceDefinition = {
  ServerReflectionInfo: {
    path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
    requestStream: true,
    responseStream: true,
    requestSerialize: (request: ReflectionRequest) => {
      const writer = new BinaryWriter();
      // ServerReflectionRequest: file_containing_symbol = 4, list_services = 7
      if ('listServices' in request) writer.tag(7, 2).string(request.listServices);
      else writer.tag(4, 2).string(request.fileContainingSymbol);
      return Buffer.from(writer.finish());
    },
    requestDeserialize: () => ({}),
    responseSerialize: () => Buffer.alloc(0),
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};
const ReflectionClient = grpc.makeGenericClientConstructor(reflectionDefinition, 'ServerReflection');

export interface ReflectionAnswer {
  services: string[];
  files: FileDescriptorProto[];
  error?: string;
}

/** Decode a ServerReflectionResponse: list_services_response = 6, file_descriptor_response = 4, error_response = 7. */
function decodeReflectionResponse(bytes: Uint8Array): ReflectionAnswer {
  const answer: ReflectionAnswer = { services: [], files: [] };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 6 || field === 4 || field === 7) {
      const inner = new BinaryReader(reader.bytes());
      while (inner.pos < inner.len) {
        const [innerField, innerWire] = inner.tag();
        if (field === 6 && innerField === 1) {
          const service = new BinaryReader(inner.bytes());
          while (service.pos < service.len) {
            const [f, w] = service.tag();
            if (f === 1) answer.services.push(service.string());
            else service.skip(w);
          }
        } else if (field === 4 && innerField === 1) {
          answer.files.push(fromBinary(FileDescriptorProtoSchema, inner.bytes()));
        } else if (field === 7 && innerField === 2) {
          answer.error = inner.string();
        } else {
          inner.skip(innerWire);
        }
      }
    } else {
      reader.skip(wireType);
    }
  }
  return answer;
}

export function reflect(address: string, request: ReflectionRequest): Promise<ReflectionAnswer> {
  const client = new ReflectionClient(address, grpc.credentials.createInsecure());
  return new Promise<ReflectionAnswer>((resolve, reject) => {
    const call = client.ServerReflectionInfo() as grpc.ClientDuplexStream<ReflectionRequest, Buffer>;
    call.on('data', (bytes: Buffer) => {
      resolve(decodeReflectionResponse(bytes));
      call.end();
    });
    call.on('error', reject);
    call.on('end', () => client.close());
    call.write(request);
  });
}
