/**
 * Every Prometheus metric seald exports, declared in one place (names carry their unit: _seconds, _bytes, _total),
 * and the small HTTP server that serves them at /metrics. Each server instance gets its own Registry, so several
 * can live in one process (tests) without colliding.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Signer } from '../crypto/signer.ts';
import type { TsaObserver } from '../crypto/tsa-client.ts';

export interface SealdMetrics {
  readonly registry: Registry;
  /** Finished Seal calls, by seal id and gRPC status name (OK, NOT_FOUND…). */
  readonly sealRequests: Counter<'seal' | 'code'>;
  /** Wall time of a Seal call, from its first message to its status. */
  readonly sealDuration: Histogram<'seal'>;
  /** Size of each document received by Seal. */
  readonly documentBytes: Histogram;
  /** Documents being received, sealed or sent back right now. */
  readonly inflightDocuments: Gauge;
  /** Time the token takes for one signature (the PKCS#11 sign call, through the pool). */
  readonly tokenSignDuration: Histogram<'seal' | 'outcome'>;
  /** Round trips to each time-stamping authority, by outcome (ok, error, timeout). */
  readonly tsaRequestDuration: Histogram<'tsa' | 'outcome'>;
  /** Failed time-stamp requests, by TSA and seald error code (TSA_UNREACHABLE, TSA_WRONG_IMPRINT…). */
  readonly tsaErrors: Counter<'tsa' | 'code'>;
}

export function createMetrics(): SealdMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    sealRequests: new Counter({
      name: 'seald_seal_requests_total',
      help: 'Seal calls finished, by seal and gRPC status code.',
      labelNames: ['seal', 'code'] as const,
      registers: [registry],
    }),
    sealDuration: new Histogram({
      name: 'seald_seal_duration_seconds',
      help: 'Duration of Seal calls, from the first request message to the final status.',
      labelNames: ['seal'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    documentBytes: new Histogram({
      name: 'seald_document_bytes',
      help: 'Size of documents received by Seal.',
      buckets: [16e3, 64e3, 256e3, 1e6, 4e6, 16e6, 64e6, 256e6, 1e9],
      registers: [registry],
    }),
    inflightDocuments: new Gauge({
      name: 'seald_inflight_documents',
      help: 'Documents being received, sealed or sent back.',
      registers: [registry],
    }),
    tokenSignDuration: new Histogram({
      name: 'seald_token_sign_duration_seconds',
      help: 'Duration of one signature by the PKCS#11 token, as seen through the pool (queueing included).',
      labelNames: ['seal', 'outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    tsaRequestDuration: new Histogram({
      name: 'seald_tsa_request_duration_seconds',
      help: 'Duration of one request to a time-stamping authority (URL without credentials), by outcome.',
      labelNames: ['tsa', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    tsaErrors: new Counter({
      name: 'seald_tsa_errors_total',
      help: 'Failed requests to a time-stamping authority, by TSA and error code.',
      labelNames: ['tsa', 'code'] as const,
      registers: [registry],
    }),
  };
}

/** The TsaClient observer that feeds seald_tsa_request_duration_seconds and seald_tsa_errors_total. */
export function tsaObserver(metrics: SealdMetrics): TsaObserver {
  return (tsa, outcome, seconds, code) => {
    metrics.tsaRequestDuration.observe({ tsa, outcome }, seconds);
    if (outcome !== 'ok') metrics.tsaErrors.inc({ tsa, code: code ?? 'UNKNOWN' });
  };
}

/** A Signer that times each signature into seald_token_sign_duration_seconds. */
export function timedSigner(signer: Signer, sealId: string, metrics: SealdMetrics): Signer {
  return {
    certificates: signer.certificates,
    algorithm: signer.algorithm,
    async signDigest(digest, signal) {
      const stop = metrics.tokenSignDuration.startTimer({ seal: sealId });
      try {
        const signature = await signer.signDigest(digest, signal);
        stop({ outcome: 'ok' });
        return signature;
      } catch (error) {
        stop({ outcome: 'error' });
        throw error;
      }
    },
  };
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serve `GET /metrics` on host:port (port 0: any free port). */
export async function startMetricsServer(address: string, registry: Registry): Promise<MetricsServer> {
  const { host, port } = splitHostPort(address);
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('cannot collect metrics\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function splitHostPort(address: string): { host: string; port: number } {
  const index = address.lastIndexOf(':');
  const host = address.slice(0, index).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(index + 1)) };
}
