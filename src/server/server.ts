/**
 * The gRPC server: SealService, BatchService, PreparedService, grpc.health.v1.Health and server reflection on one port, Prometheus
 * metrics on another, and a graceful shutdown (stop accepting, let in-flight calls finish within the drain time, cancel what
 * is left, wait for the handlers to clean up, then release the tokens).
 *
 * This module assembles already-loaded parts; src/server/bootstrap.ts turns a configuration into those parts (token
 * pool, seal material) and is what `seald serve` runs.
 */
import * as grpc from '@grpc/grpc-js';
import { file_seald_v1_seald, SealService } from '../gen/seald/v1/seald_pb.ts';
import { file_seald_v1_rollback, RollbackService } from '../gen/seald/v1/rollback_pb.ts';
import { defaultPolicy, type Policy } from '../auth/policy.ts';
import { file_seald_v1_verify, VerifyService } from '../gen/seald/v1/verify_pb.ts';
import { file_seald_v1_timestamp, TimestampService } from '../gen/seald/v1/timestamp_pb.ts';
import { ltvHandler, timestampHandler } from './timestamp-handler.ts';
import { file_seald_v1_pool, PoolService } from '../gen/seald/v1/pool_pb.ts';
import type { TokenStatus } from '../pool/pool.ts';
import { poolStatusHandler } from './pool-handler.ts';
import { Admission, DEFAULT_ADMISSION } from './admission.ts';
import type { sealDocument } from '../engine/seal.ts';
import { DEFAULTS, type ActivationSettings, type BatchSettings, type Limits, type TlsConfig, type VisualCheckSettings } from '../config/config.ts';
import { ACTIVATION_DEFAULTS } from '../config/activation-config.ts';
import { ActivationGate } from './activation.ts';
import { BatchService, file_seald_v1_batch } from '../gen/seald/v1/batch_pb.ts';
import { sealBatchHandler } from './batch-handler.ts';
import { file_seald_v1_prepared, PreparedService } from '../gen/seald/v1/prepared_pb.ts';
import { signPreparedHandler } from './prepared-handler.ts';
import { IdempotencyStore } from './idempotency.ts';
import type { ServiceContext } from './context.ts';
import { grpcServiceDefinition, type GrpcServiceHandlers } from '../rpc/grpc-service.ts';
import { HealthMonitor } from './health.ts';
import { listSealsHandler } from './list-seals-handler.ts';
import { locateHandler } from './locate-handler.ts';
import type { Logger } from './logger.ts';
import { createMetrics, observeAdmission, observePool, observeSealCertificates, startMetricsServer, type MetricsServer, type SealdMetrics } from '../metrics/metrics.ts';
import { addReflection } from './reflection.ts';
import { rollbackHandler } from './rollback-handler.ts';
import { sealHandler } from './seal-handler.ts';
import type { ConfiguredSeal } from './seals.ts';
import { removeStaleSpoolFiles } from './spool.ts';
import { watchSealExpiry } from './seal-expiry.ts';
import { listenTls, type TlsListener } from './tls.ts';
import { http2WindowsFor, listenPlaintext } from './listener.ts';
import { verifyHandler } from './verify-handler.ts';

/**
 * Requests are streamed in chunks of at most 1 MiB, so the receive limit is set deliberately just above that (the
 * 4 MiB grpc-js default would let a misbehaving client make the server buffer 4x more per message than it should).
 */
export const MAX_RECEIVE_MESSAGE_BYTES = 1024 * 1024 + 64 * 1024;

export interface ServerParts {
  /** host:port; port 0 picks a free port. */
  listen: string;
  /** host:port of the /metrics endpoint, or undefined for none. */
  metrics: string | undefined;
  limits: Limits;
  logger: Logger;
  seals: ReadonlyMap<string, ConfiguredSeal>;
  isAvailable(seal: ConfiguredSeal): boolean;
  sealDocument: typeof sealDocument;
  /** Metrics registry and instruments; created when not given (bootstrap creates them first to time the signers). */
  metricsRegistry?: SealdMetrics;
  /** Released last, after every call has finished (e.g. the token pool). */
  close?: () => Promise<void>;
  /** Health re-check interval. */
  healthIntervalMs?: number;
  /** Time-stamping authorities (config `tsa`). */
  timestamps?: ServiceContext['timestamps'];
  /** Fallback OCSP responder for Ltv (config ltv.ocsp_url). */
  ltvOcspUrl?: string;
  /** Mutual TLS on the gRPC port; undefined: plaintext. */
  tls?: TlsConfig;
  /** The authorisation policy; default: every caller may do everything. */
  policy?: { current(): Policy };
  /** The audit log; default: records are dropped (tests that do not look at them). */
  audit?: ServiceContext['audit'];
  /** DER trust anchors for the Verify RPC (none: every signer is UNTRUSTED). */
  trustAnchors?: Uint8Array[];
  /** Verify's strict mode by default (config verify.strict). */
  verifyStrict?: boolean;
  /** Verify's visual shadow check by default, and its budgets (config verify.visual_check, visual_budget_ms, visual_max_pages). */
  verifyVisual?: VisualCheckSettings;
  /** SealBatch settings; defaults: DEFAULTS, idempotency records in memory only. */
  batch?: BatchSettings;
  /** Signature activation settings (config `activation`); default: ACTIVATION_DEFAULTS (no PIN without TLS). */
  activation?: ActivationSettings;
  /** Token status of the pool, for PoolService and the token metrics (absent: no PoolService). */
  poolStatus?: () => TokenStatus[];
  /** How often the expiring-certificate warning is logged again (default a day). */
  expiryLogIntervalMs?: number;
}

const BUILT_IN_POLICY = defaultPolicy();
const NO_AUDIT = { append: async () => undefined };

export interface SealdServer {
  /** host:port actually bound. */
  readonly address: string;
  readonly port: number;
  readonly metricsPort: number | undefined;
  readonly health: HealthMonitor;
  readonly metrics: SealdMetrics;
  /** Graceful shutdown; resolves once everything is released. Idempotent. */
  shutdown(reason?: string): Promise<void>;
}

export async function startServer(parts: ServerParts): Promise<SealdServer> {
  const { logger, limits } = parts;
  const metrics = parts.metricsRegistry ?? createMetrics();
  const inflight = new Set<Promise<unknown>>();
  const draining = new AbortController();
  const admission = new Admission({
    maxConcurrentDocuments: limits.maxConcurrentDocuments ?? DEFAULT_ADMISSION.maxConcurrentDocuments,
    maxQueuedDocuments: limits.maxQueuedDocuments ?? DEFAULT_ADMISSION.maxQueuedDocuments,
    maxSpooledBytes: limits.maxSpooledBytes ?? DEFAULT_ADMISSION.maxSpooledBytes,
  });
  observeAdmission(metrics, admission);
  if (parts.poolStatus !== undefined) observePool(metrics, parts.poolStatus);
  const context: ServiceContext = {
    admission,
    seals: parts.seals,
    isAvailable: parts.isAvailable,
    limits,
    logger,
    metrics,
    sealDocument: parts.sealDocument,
    ...(parts.timestamps === undefined ? {} : { timestamps: parts.timestamps }),
    ...(parts.ltvOcspUrl === undefined ? {} : { ltvOcspUrl: parts.ltvOcspUrl }),
    policy: parts.policy ?? { current: () => BUILT_IN_POLICY },
    audit: parts.audit ?? NO_AUDIT,
    trustAnchors: parts.trustAnchors ?? [],
    verifyStrict: parts.verifyStrict ?? false,
    ...(parts.verifyVisual === undefined ? {} : { verifyVisual: parts.verifyVisual }),
    activation: new ActivationGate(parts.activation ?? ACTIVATION_DEFAULTS, parts.tls !== undefined),
    track(work) {
      const tracked = work.catch((error: unknown) => logger.error({ err: error }, 'call handler failed'));
      inflight.add(tracked);
      void tracked.finally(() => inflight.delete(tracked));
    },
  };

  const stale = await removeStaleSpoolFiles(limits.tmpDir);
  if (stale.length > 0) logger.warn({ files: stale.length, dir: limits.tmpDir }, 'removed spool files of dead processes');

  const batch = parts.batch ?? {
    inflightDocuments: DEFAULTS.batchInflightDocuments,
    idempotencyWindowSeconds: DEFAULTS.idempotencyWindowSeconds,
    idempotencyMemoryBytes: DEFAULTS.idempotencyMemoryBytes,
  };
  const idempotency =
    batch.idempotencyWindowSeconds > 0
      ? await IdempotencyStore.open({
          windowSeconds: batch.idempotencyWindowSeconds,
          memoryBytes: batch.idempotencyMemoryBytes,
          ...(batch.idempotencyDir === undefined ? {} : { dir: batch.idempotencyDir }),
          logger,
        })
      : undefined;

  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES });
  const handlers: GrpcServiceHandlers<typeof SealService.method> = {
    seal: sealHandler(context),
    listSeals: listSealsHandler(context),
    locate: locateHandler(context),
  };
  server.addService(grpcServiceDefinition(SealService), handlers);
  const rollbackHandlers: GrpcServiceHandlers<typeof RollbackService.method> = { rollback: rollbackHandler(context) };
  server.addService(grpcServiceDefinition(RollbackService), rollbackHandlers);
  server.addService(grpcServiceDefinition(TimestampService), { timestamp: timestampHandler(context), ltv: ltvHandler(context) } satisfies GrpcServiceHandlers<typeof TimestampService.method>);
  server.addService(grpcServiceDefinition(VerifyService), { verify: verifyHandler(context) } satisfies GrpcServiceHandlers<typeof VerifyService.method>);
  const batchHandlers: GrpcServiceHandlers<typeof BatchService.method> = {
    sealBatch: sealBatchHandler(context, { maxInflight: batch.inflightDocuments, idempotency, draining: draining.signal }),
  };
  server.addService(grpcServiceDefinition(BatchService), batchHandlers);
  // Local preparation (seald batch --prepare-locally): digests only, under the named-only grant sign-digest.
  server.addService(grpcServiceDefinition(PreparedService), {
    signPrepared: signPreparedHandler(context, { maxInflight: batch.inflightDocuments, idempotency, draining: draining.signal }),
  } satisfies GrpcServiceHandlers<typeof PreparedService.method>);
  const health = new HealthMonitor(
    // A disabled seal signs nothing: its token's state does not make the server unhealthy.
    () => [...parts.seals.values()].every((seal) => seal.config.disabled === true || parts.isAvailable(seal)),
    logger,
    parts.healthIntervalMs,
  );
  health.addToServer(server);
  if (parts.poolStatus !== undefined) {
    const tokens = parts.poolStatus;
    server.addService(grpcServiceDefinition(PoolService), {
      getPoolStatus: poolStatusHandler({ tokens, seals: parts.seals }, logger),
    } satisfies GrpcServiceHandlers<typeof PoolService.method>);
  }
  addReflection(server, [file_seald_v1_seald, file_seald_v1_rollback, file_seald_v1_verify, file_seald_v1_batch, file_seald_v1_pool, file_seald_v1_timestamp, file_seald_v1_prepared]);

  let tlsListener: TlsListener | undefined;
  const windows = http2WindowsFor(limits.http2WindowBytes); // seald's listeners: HTTP/2 windows (listener.ts)
  const port =
    parts.tls === undefined
      ? (tlsListener = await listenPlaintext(server, parts.listen, windows)).port
      : (tlsListener = await listenTls(server, parts.listen, parts.tls, logger, windows)).port;
  const host = parts.listen.slice(0, parts.listen.lastIndexOf(':'));
  const address = `${host}:${port}`;

  let metricsServer: MetricsServer | undefined;
  try {
    metricsServer = parts.metrics === undefined ? undefined : await startMetricsServer(parts.metrics, metrics.registry);
  } catch (error) {
    server.forceShutdown();
    await tlsListener?.close();
    await idempotency?.close();
    throw error;
  }
  health.start();
  observeSealCertificates(metrics, () => [...context.seals.values()].map((seal) => ({ id: seal.config.id, notAfter: seal.certificate.notAfter })));
  const stopExpiryWatch = watchSealExpiry(() => context.seals.values(), logger, parts.expiryLogIntervalMs);
  logger.info(
    { address, tls: parts.tls === undefined ? 'off' : 'mutual', metrics: metricsServer === undefined ? 'off' : metricsServer.port, seals: [...parts.seals.keys()], health: health.status },
    'seald listening',
  );

  let shutdown: Promise<void> | undefined;
  return {
    address,
    port,
    metricsPort: metricsServer?.port,
    health,
    metrics,
    shutdown(reason = 'shutdown') {
      shutdown ??= (async () => {
        logger.info({ reason, inflight: inflight.size, drainSeconds: limits.drainSeconds }, 'shutting down');
        health.stop();
        stopExpiryWatch();
        const listenerClosed = tlsListener?.close(); // no new TLS connections; open ones drain with the server
        draining.abort(); // SealBatch calls answer what they received and end (batch-handler.ts)
        admission.close();
        await drain(server, [...inflight], limits.drainSeconds * 1000, logger);
        // Cancelled handlers still clean up (spool files) and may wait on a token: never close the pool under them.
        await Promise.allSettled([...inflight]);
        await listenerClosed;
        await metricsServer?.close();
        await idempotency?.close(); // finishes the records still queued for disk
        await parts.close?.();
        logger.info('stopped');
      })();
      return shutdown;
    },
  };
}

/**
 * Stop accepting calls; wait up to `timeoutMs` for the in-flight Seal calls, then cancel whatever is still open.
 * Waiting for the seals rather than for every stream matters: a load balancer's health Watch stream never ends on
 * its own and would otherwise hold every shutdown for the whole drain time.
 */
async function drain(server: grpc.Server, seals: Promise<unknown>[], timeoutMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<'closed'>((resolve) => server.tryShutdown(() => resolve('closed')));
  const sealsDone = Promise.allSettled(seals).then(() => 'seals done' as const);
  const timedOut = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), timeoutMs);
  });
  let outcome = await Promise.race([closed, sealsDone, timedOut]);
  if (outcome === 'seals done') {
    // The last statuses are on their way out: give connections a moment to close by themselves.
    outcome = await Promise.race([closed, timedOut, delay(DRAIN_GRACE_MS).then(() => 'seals done' as const)]);
  }
  clearTimeout(timer);
  if (outcome === 'closed') return;
  if (outcome === 'timed out') {
    logger.warn({ drainMs: timeoutMs }, 'drain time over: cancelling the calls still running');
  }
  server.forceShutdown(); // what is left: seals past the drain time, or streams that never end (health Watch)
}

const DRAIN_GRACE_MS = 500;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
