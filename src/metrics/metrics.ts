/**
 * Every Prometheus metric seald exports, declared in one place (names carry their unit: _seconds, _bytes, _total),
 * and the small HTTP server that serves them at /metrics. Each server instance gets its own Registry, so several
 * can live in one process (tests) without colliding. docs/metrics.md describes each metric; the dashboard and alert
 * rules in deploy/observability use only names declared here (a test scrapes a running server to prove it).
 *
 * Label values are bounded sets: operations and placement kinds are names in the code, `code` is a gRPC status name,
 * `seal` and `slot` come from the configuration. Never a document id, a request id or a file name.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Signer } from '../crypto/signer.ts';
import type { TsaObserver } from '../crypto/tsa-client.ts';
import type { TokenStatus } from '../pool/pool.ts';

/** What the pool gauges read at each scrape (TokenPool.status() provides it). */
export type PoolStatusSource = () => { tokens: readonly TokenStatus[] };

export interface SealdMetrics {
  readonly registry: Registry;
  /** Finished Seal calls, by seal id and gRPC status name (OK, NOT_FOUND…). */
  readonly sealRequests: Counter<'seal' | 'code'>;
  /** Wall time of a Seal call, from its first message to its status. */
  readonly sealDuration: Histogram<'seal'>;
  /** Size of each document received by Seal. */
  readonly documentBytes: Histogram;
  /** Time the token takes for one signature (the PKCS#11 sign call, through the pool). */
  readonly tokenSignDuration: Histogram<'seal' | 'outcome'>;
  /** Finished requests of every operation, by gRPC status name (per document for SealBatch). */
  readonly requests: Counter<'operation' | 'code'>;
  /** Document bytes received and sent, by operation and direction (in, out). */
  readonly documentBytesTotal: Counter<'operation' | 'direction'>;
  /** Engine time of one seal (document fully received → sealed revision ready), by placement kind. */
  readonly documentSealDuration: Histogram<'operation' | 'placement'>;
  /** Documents being received, sealed or sent back right now (Seal calls and SealBatch documents). */
  readonly inflightDocuments: Gauge;
  /** SealBatch documents answered from the idempotency store instead of being sealed again. */
  readonly idempotentReplays: Counter;
  /** One signature on one slot (token), by outcome, as the pool reports it (TokenPool.observeSigns). */
  readonly slotSignDuration: Histogram<'slot' | 'outcome'>;
  /** A timestamp request to a TSA (RFC 3161), by TSA and outcome. */
  readonly tsaRequestDuration: Histogram<'tsa' | 'outcome'>;
  /** Failed TSA requests, by TSA and reason (http, timeout, bad_response…). */
  readonly tsaErrors: Counter<'tsa' | 'reason'>;
  /** Seals made without the time-stamp they asked for (best-effort mode, the TSAs failing), by the TSA error code. */
  readonly timestampSkipped: Counter<'reason'>;
  /** Signatures requested through timedSigner and not yet returned (feeds seald_pool_queue_depth). */
  readonly signsInFlight: Gauge;
  /** Pool gauges (sessions, sessions in use, queue depth, slot state) read `source` at each scrape. */
  watchPool(source: PoolStatusSource): void;
  /** Event-loop delay (perf_hooks histogram, 1 ms resolution) since the previous scrape: p50, p99, max. */
  readonly eventLoopDelay: Gauge<'quantile'>;
}

export function createMetrics(): SealdMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const signsInFlight = new Gauge({
    name: 'seald_signs_in_flight',
    help: 'Signatures requested from the pool and not yet returned (waiting for a session or running).',
    registers: [registry],
  });
  let poolStatus: PoolStatusSource | undefined;
  const tokensNow = (): readonly TokenStatus[] => poolStatus?.().tokens ?? [];
  new Gauge({
    name: 'seald_pool_sessions',
    help: 'PKCS#11 sessions the pool holds open, per slot.',
    labelNames: ['slot'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const token of tokensNow()) this.set({ slot: slotLabel(token) }, token.sessions);
    },
  });
  new Gauge({
    name: 'seald_pool_sessions_in_use',
    help: 'PKCS#11 sessions running a signature right now, per slot.',
    labelNames: ['slot'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const token of tokensNow()) this.set({ slot: slotLabel(token) }, token.busy);
    },
  });
  new Gauge({
    name: 'seald_pool_queue_depth',
    help: 'Signatures waiting for a free session (signs in flight minus sessions in use).',
    registers: [registry],
    async collect() {
      const busy = tokensNow().reduce((sum, token) => sum + token.busy, 0);
      const requested = (await signsInFlight.get()).values[0]?.value ?? 0;
      // A sign the caller gave up on keeps its session busy until C_Sign returns: never report a negative queue.
      this.set(Math.max(0, requested - busy));
    },
  });
  new Gauge({
    name: 'seald_pool_slot_state',
    help: 'State of each slot: 1 for its current state (ready, quarantined, down), 0 for the others.',
    labelNames: ['slot', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const token of tokensNow()) {
        for (const state of SLOT_STATES) this.set({ slot: slotLabel(token), state }, token.state === state ? 1 : 0);
      }
    },
  });
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
    tokenSignDuration: new Histogram({
      name: 'seald_token_sign_duration_seconds',
      help: 'Duration of one signature by the PKCS#11 token, as seen through the pool (queueing included).',
      labelNames: ['seal', 'outcome'] as const,
      buckets: SIGN_BUCKETS,
      registers: [registry],
    }),
    requests: new Counter({
      name: 'seald_requests_total',
      help: 'Requests finished, by operation (seal, seal_batch, batch_document) and gRPC status code.',
      labelNames: ['operation', 'code'] as const,
      registers: [registry],
    }),
    documentBytesTotal: new Counter({
      name: 'seald_document_bytes_total',
      help: 'Document bytes received (direction="in") and sent back (direction="out"), by operation.',
      labelNames: ['operation', 'direction'] as const,
      registers: [registry],
    }),
    documentSealDuration: new Histogram({
      name: 'seald_document_seal_duration_seconds',
      help: 'Time to seal one received document (parse, build the revision, hash, sign), by placement kind.',
      labelNames: ['operation', 'placement'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    inflightDocuments: new Gauge({
      name: 'seald_inflight_documents',
      help: 'Documents being received, sealed or sent back (Seal calls and SealBatch documents).',
      registers: [registry],
    }),
    idempotentReplays: new Counter({
      name: 'seald_idempotent_replays_total',
      help: 'SealBatch documents answered again from the idempotency store, without a new signature.',
      registers: [registry],
    }),
    slotSignDuration: new Histogram({
      name: 'seald_slot_sign_duration_seconds',
      help: 'Duration of one PKCS#11 signature on one slot (session wait excluded), by outcome.',
      labelNames: ['slot', 'outcome'] as const,
      buckets: SIGN_BUCKETS,
      registers: [registry],
    }),
    tsaRequestDuration: new Histogram({
      name: 'seald_tsa_request_duration_seconds',
      help: 'Duration of one RFC 3161 timestamp request, by TSA and outcome.',
      labelNames: ['tsa', 'outcome'] as const,
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    tsaErrors: new Counter({
      name: 'seald_tsa_errors_total',
      help: 'Failed RFC 3161 timestamp requests, by TSA and reason.',
      labelNames: ['tsa', 'reason'] as const,
      registers: [registry],
    }),
    timestampSkipped: new Counter({
      name: 'seald_timestamp_skipped_total',
      help: 'Seals made without their signature time-stamp (best-effort mode: PAdES B-B), by the TSA error code.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    watchPool(source: PoolStatusSource) {
      poolStatus = source;
    },
    signsInFlight,
    eventLoopDelay: eventLoopDelayGauge(registry),
  };
}

const SIGN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const SLOT_STATES = ['ready', 'quarantined', 'down'] as const;

/** A slot's label: the token label, with the serial when there is one (labels may repeat across tokens). */
/** The TsaClient observer that feeds seald_tsa_request_duration_seconds and seald_tsa_errors_total. */
export function tsaObserver(metrics: SealdMetrics): TsaObserver {
  return (tsa, outcome, seconds, code) => {
    metrics.tsaRequestDuration.observe({ tsa, outcome }, seconds);
    if (outcome !== 'ok') metrics.tsaErrors.inc({ tsa, reason: code ?? 'UNKNOWN' });
  };
}

export function slotLabel(token: Pick<TokenStatus, 'label' | 'serial'>): string {
  return token.serial === '' ? token.label : `${token.label}/${token.serial}`;
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
export function observeAdmission(metrics: SealdMetrics, admission: { readonly queued: number; readonly spooledBytes: number }): void {
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
 * Token faults by class (session, login, device, pin, other), read from the pool's status at each scrape. Slot
 * state and sessions are the seald_pool_* gauges of createMetrics.
 */
/**
 * `seald_seal_certificate_expiry_timestamp_seconds{seal}`: each configured seal's certificate notAfter (Unix
 * seconds), read at every scrape from the seals in service (a reload that rotates a certificate shows at once). The
 * alert rule (deploy/observability/prometheus-rules.yaml) subtracts time(): a timestamp, not a remaining duration,
 * so the series changes only when a certificate does.
 */
export function observeSealCertificates(metrics: SealdMetrics, seals: () => Iterable<{ id: string; notAfter: Date }>): void {
  new Gauge({
    name: 'seald_seal_certificate_expiry_timestamp_seconds',
    help: "Each seal's signing certificate notAfter, as a Unix timestamp in seconds.",
    labelNames: ['seal'] as const,
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const seal of seals()) this.set({ seal: seal.id }, Math.floor(seal.notAfter.getTime() / 1000));
    },
  });
}

export function observePool(metrics: SealdMetrics, status: () => TokenStatus[]): void {
  new Counter({
    name: 'seald_token_faults_total',
    help: 'PKCS#11 faults seen on a slot, by class (session, login, device, pin, other).',
    labelNames: ['slot', 'class'] as const,
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const t of status()) {
        for (const [fault, count] of Object.entries(t.faults)) this.inc({ slot: slotLabel(t), class: fault }, count);
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
      metrics.signsInFlight.inc();
      try {
        const signature = await signer.signDigest(digest, signal);
        stop({ outcome: 'ok' });
        return signature;
      } catch (error) {
        stop({ outcome: 'error' });
        throw error;
      } finally {
        metrics.signsInFlight.dec();
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
