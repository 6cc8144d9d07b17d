/**
 * Every Prometheus metric seald exports, declared in one place (names carry their unit: _seconds, _bytes, _total),
 * and the small HTTP server that serves them at /metrics. Each server instance gets its own Registry, so several
 * can live in one process (tests) without colliding.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Signer } from '../crypto/signer.ts';
import type { TokenStatus } from '../pool/pool.ts';
import type { Admission } from './admission.ts';

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
  /** Event-loop delay (perf_hooks histogram, 1 ms resolution) since the previous scrape: p50, p99, max. */
  readonly eventLoopDelay: Gauge<'quantile'>;
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
    eventLoopDelay: eventLoopDelayGauge(registry),
  };
}

/**
 * seald_event_loop_delay_seconds{quantile="0.5"|"0.99"|"max"}: how late timers fire on the event loop, measured by
 * perf_hooks.monitorEventLoopDelay and reset at each scrape, so each value covers the time since the last one.
 */
function eventLoopDelayGauge(registry: Registry): Gauge<'quantile'> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  return new Gauge({
    name: 'seald_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape (perf_hooks monitorEventLoopDelay): p50, p99 and max.',
    labelNames: ['quantile'] as const,
    registers: [registry],
    collect() {
      if (histogram.count > 0) {
        this.set({ quantile: '0.5' }, histogram.percentile(50) / 1e9);
        this.set({ quantile: '0.99' }, histogram.percentile(99) / 1e9);
        this.set({ quantile: 'max' }, histogram.max / 1e9);
      }
      histogram.reset();
    },
  });
}

/** Admission gauges: documents in progress are seald_inflight_documents; these add the queue and the spool. */
export function observeAdmission(metrics: SealdMetrics, admission: Admission): void {
  new Gauge({
    name: 'seald_admission_queued_documents',
    help: 'Seal calls waiting for a place (admission control).',
    registers: [metrics.registry],
    collect() {
      this.set(admission.queued);
    },
  });
  new Gauge({
    name: 'seald_spooled_bytes',
    help: 'Bytes of documents held by Seal calls (memory and spool files), counted by admission control.',
    registers: [metrics.registry],
    collect() {
      this.set(admission.spooledBytes);
    },
  });
}

/**
 * Token pool metrics, read from the pool's status at each scrape: seald_token_state (1 for the current state; alert
 * on state="quarantined" — a refused PIN — and on state="down"), open and busy sessions, and faults by class.
 */
export function observePool(metrics: SealdMetrics, status: () => TokenStatus[]): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'seald_token_state',
    help: 'Token state: 1 for the state the token is in (ready, down, quarantined), 0 for the others.',
    labelNames: ['token', 'serial', 'state'] as const,
    registers,
    collect() {
      for (const t of status()) {
        for (const state of ['ready', 'down', 'quarantined'] as const) this.set({ token: t.label, serial: t.serial, state }, t.state === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'seald_token_sessions',
    help: 'PKCS#11 sessions the pool holds on a token, open and busy (signing).',
    labelNames: ['token', 'serial', 'kind'] as const,
    registers,
    collect() {
      for (const t of status()) {
        this.set({ token: t.label, serial: t.serial, kind: 'open' }, t.sessions);
        this.set({ token: t.label, serial: t.serial, kind: 'busy' }, t.busy);
      }
    },
  });
  new Counter({
    name: 'seald_token_faults_total',
    help: 'PKCS#11 faults seen on a token, by class (session, login, device, pin, other).',
    labelNames: ['token', 'serial', 'class'] as const,
    registers,
    collect() {
      this.reset();
      for (const t of status()) {
        for (const [fault, count] of Object.entries(t.faults)) this.inc({ token: t.label, serial: t.serial, class: fault }, count);
      }
    },
  });
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
