/**
 * From configuration to a running server: (provision embedded defaults when no file is named) → open the token pool
 * (it sets pkcs11.env before loading the module) → load each seal's certificate chain, image and Signer → listen.
 * Whatever fails on the way releases what was already opened.
 */
import { loadServerConfig } from '../provision/load-config.ts';
import { AuditLog } from '../audit/log.ts';
import { PolicyStore } from '../auth/policy-store.ts';
import { defaultPolicy, networkPlaintextPolicy } from '../auth/policy.ts';
import type { sealDocument } from '../engine/seal.ts';
import { checkedSealDocument } from '../engine/output-check.ts';
import { TokenPool } from '../pool/pool.ts';
import type { SealdConfig } from '../config/config.ts';
import type { Logger } from './logger.ts';
import { TsaClient } from '../crypto/tsa-client.ts';
import type { ServiceContext } from './context.ts';
import { createMetrics, slotLabel, timedSigner, tsaObserver, type SealdMetrics } from '../metrics/metrics.ts';
import type { TsaConfig } from '../config/tsa-config.ts';
import { loadSeals } from './seals.ts';
import { reloadSeals } from './seal-reload.ts';
import { watchConfigFile } from './config-watch.ts';
import { loadConfig, type SealConfig } from '../config/config.ts';
import type { Signer } from '../crypto/signer.ts';
import { startServer, type SealdServer } from './server.ts';
import { loadTrustAnchors } from '../crypto/anchors.ts';

export { loadServerConfig };

export interface StartOptions {
  /** Replaces the engine (tests). */
  sealDocument?: typeof sealDocument;
  healthIntervalMs?: number;
}

export async function startSealdServer(
  config: SealdConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<SealdServer> {
  logger.info(
    {
      config: config.configPath,
      module: config.pkcs11.module,
      tokens: config.pkcs11.tokens.map((t) => t.label ?? t.serial),
      limits: config.limits,
    },
    'starting',
  );
  const metrics = createMetrics();
  const policy = await PolicyStore.open(config.policy, logger, config.plaintextOnNetwork ? networkPlaintextPolicy : defaultPolicy);
  const auditLog = await AuditLog.open({ dir: config.audit.dir, maxFileBytes: config.audit.maxFileBytes }).catch((error: unknown) => {
    policy.close();
    throw error;
  });
  // SIGHUP reloads the policy and the seals (the seals once the pool is open; seal-reload.ts); so does saving the
  // configuration file (config-watch.ts; the policy store watches its own file).
  let reloadSealsNow: (() => Promise<unknown>) | undefined;
  const onHangup = (): void => {
    void policy.reload('SIGHUP');
    void reloadSealsNow?.();
  };
  process.on('SIGHUP', onHangup);
  let stopWatching = (): void => undefined;
  const releaseAccess = async (): Promise<void> => {
    process.off('SIGHUP', onHangup);
    stopWatching();
    policy.close();
    await auditLog.close();
  };
  if (config.plaintextOnNetwork) {
    // Config refuses this unless allowed explicitly (src/config/network-config.ts).
    logger.warn(
      { listen: config.listen, policy: config.policy === undefined ? 'built-in: anonymous may verify and list only' : config.policy.file },
      'plaintext gRPC on a non-loopback address (insecure_plaintext_on_network): every caller is "anonymous"; configure tls',
    );
  }
  if (config.tls === undefined && config.activation.plaintextPinsForDevelopment) {
    // Info, not warn: the setting is refused off loopback (config), and the embedded demo sets it on purpose.
    logger.info({ listen: config.listen }, 'signature PINs accepted over plaintext gRPC (development setting, loopback only)');
  }
  let pool: TokenPool;
  try {
    const { moreModules = [], ...firstModule } = config.pkcs11;
    pool = await TokenPool.open(
      [firstModule, ...moreModules.map((m) => ({ ...m, ...(firstModule.health === undefined ? {} : { health: firstModule.health }) }))],
      logger,
    );
  } catch (error) {
    await releaseAccess();
    throw error;
  }
  metrics.watchPool(() => pool.status());
  pool.observeSigns((token, outcome, seconds) => metrics.slotSignDuration.observe({ slot: slotLabel(token), outcome }, seconds));
  try {
    for (const token of pool.status().tokens) logger.info({ token }, 'token');
    const wrapSigner = (signer: Signer, seal: SealConfig): Signer => timedSigner(signer, seal.id, metrics);
    const seals = await loadSeals(config.seals, pool, logger, wrapSigner);
    // SIGHUP and a saved configuration file take this one path. A change that arrives while a reload runs (which
    // may have read the file before it) queues exactly one more reload after it, so the last save always counts.
    let reloading: Promise<unknown> | undefined;
    let again = false;
    const reloadOnce = async (): Promise<void> => {
      try {
        const next = await loadConfig({ flags: { config: config.configPath }, env: {} });
        await reloadSeals(seals, next.seals, pool, logger, wrapSigner);
      } catch (error) {
        logger.error({ err: error, config: config.configPath }, 'seals not reloaded: the configuration does not load; every seal stays as it was');
      }
    };
    reloadSealsNow = () => {
      if (reloading !== undefined) {
        again = true;
        return reloading;
      }
      return (reloading = (async () => {
        do {
          again = false;
          await reloadOnce();
        } while (again);
        reloading = undefined;
      })());
    };
    const configWatch = watchConfigFile(config.configPath, () => void reloadSealsNow?.(), logger);
    stopWatching = () => configWatch.close();
    return await startServer({
      listen: config.listen,
      metrics: config.metrics,
      limits: config.limits,
      batch: config.batch,
      logger,
      seals,
      isAvailable: (seal) => pool.hasKey(seal.config.key),
      sealDocument: options.sealDocument ?? checkedSealDocument,
      metricsRegistry: metrics,
      trustAnchors: loadTrustAnchors(config.trust.anchors),
      verifyStrict: config.verify.strict,
      verifyVisual: config.verify.visual,
      close: async () => {
        await pool.close();
        await releaseAccess();
      },
      tls: config.tls,
      policy,
      audit: { append: (entry) => auditLog.append(entry) },
      poolStatus: () => pool.status().tokens,
      activation: config.activation,
      ...(options.healthIntervalMs === undefined ? {} : { healthIntervalMs: options.healthIntervalMs }),
      ...(config.tsa === undefined ? {} : { timestamps: timestampsOf(config.tsa, metrics) }),
      ...(config.ltv.ocspUrl === undefined ? {} : { ltvOcspUrl: config.ltv.ocspUrl }),
    });
  } catch (error) {
    await pool.close();
    await releaseAccess();
    throw error;
  }
}

function timestampsOf(tsa: TsaConfig, metrics: SealdMetrics): NonNullable<ServiceContext['timestamps']> {
  const client = new TsaClient({
    endpoints: tsa.endpoints,
    timeoutMs: tsa.timeoutMs,
    ...(tsa.policy === undefined ? {} : { policy: tsa.policy }),
    observer: tsaObserver(metrics),
  });
  return { client, sealByDefault: tsa.sealTimestamp, sealMode: tsa.sealTimestampMode, timeoutMs: tsa.timeoutMs };
}

/**
 * SIGTERM / SIGINT: graceful shutdown, then exit 0. A second signal during the drain exits at once (1): the
 * operator insisted.
 */
export function exitOnSignals(server: SealdServer, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      stopping = true;
      server.shutdown(signal).then(resolve, (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
