/** What the service handlers share: configured seals, limits, logger, metrics, the engine entry point. */
import type { sealDocument, Timestamper } from '../engine/seal.ts';
import type { Limits } from './config.ts';
import type { Logger } from './logger.ts';
import type { SealdMetrics } from './metrics.ts';
import type { ConfiguredSeal } from './seals.ts';

export interface ServiceContext {
  seals: ReadonlyMap<string, ConfiguredSeal>;
  /** True when the seal's key is on a token that is ready to sign. */
  isAvailable(seal: ConfiguredSeal): boolean;
  limits: Limits;
  logger: Logger;
  metrics: SealdMetrics;
  sealDocument: typeof sealDocument;
  /** The time-stamping authorities, when configured, and whether Seal time-stamps by default. */
  timestamps?: { client: Timestamper; sealByDefault: boolean };
  /** Register a call's work so a shutdown can wait for it (and never close the pool under a running sign). */
  track(work: Promise<unknown>): void;
}
