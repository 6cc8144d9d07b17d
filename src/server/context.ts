/** What the service handlers share: configured seals, limits, logger, metrics, the engine entry point. */
import type { AuditEntry } from '../audit/record.ts';
import type { Policy } from '../auth/policy.ts';
import type { sealDocument, Timestamper, TimestampMode } from '../engine/seal.ts';
import type { Admission } from './admission.ts';
import type { ActivationGate } from './activation.ts';
import type { Limits, VisualCheckSettings } from '../config/config.ts';
import type { Logger } from './logger.ts';
import type { SealdMetrics } from '../metrics/metrics.ts';
import type { ConfiguredSeal } from './seals.ts';

export interface ServiceContext {
  seals: ReadonlyMap<string, ConfiguredSeal>;
  /** True when the seal's key is on a token that is ready to sign. */
  isAvailable(seal: ConfiguredSeal): boolean;
  limits: Limits;
  logger: Logger;
  metrics: SealdMetrics;
  sealDocument: typeof sealDocument;
  /** The authorisation policy in force (it may be reloaded between calls). */
  policy: { current(): Policy };
  /** The audit log: a record is durable once `append` resolves. */
  audit: { append(entry: AuditEntry): Promise<unknown> };
  /** DER certificates the Verify RPC trusts (config trust.anchors). */
  trustAnchors: Uint8Array[];
  /** The Verify RPC's strict mode when the header leaves it unset (config verify.strict; default false). */
  verifyStrict?: boolean;
  /** The Verify RPC's visual shadow check when the header leaves it unset, and its budgets (config verify.visual_*). */
  verifyVisual?: VisualCheckSettings;
  /** Bounds documents in progress and spooled bytes (absent: no admission control). */
  admission?: Admission;
  /** The time-stamping authorities, when configured, and whether Seal time-stamps by default. */
  timestamps?: { client: Timestamper; sealByDefault: boolean; sealMode: TimestampMode; timeoutMs: number };
  /** An OCSP responder for certificates whose AIA names none (config ltv.ocsp_url). */
  ltvOcspUrl?: string;
  /** Signature activation: PIN checks before any token call, the wrong-PIN throttle (src/server/activation.ts). */
  activation: ActivationGate;
  /** Register a call's work so a shutdown can wait for it (and never close the pool under a running sign). */
  track(work: Promise<unknown>): void;
}
