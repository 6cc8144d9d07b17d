/**
 * seald's configuration: a YAML file, then `SEALD_*` environment variables, then command-line flags (each overriding
 * the one before). Everything is validated once, here, with errors that name the offending key; the rest of the
 * server sees only the typed, path-resolved `SealdConfig`.
 *
 * Relative paths in the file are resolved against the file's directory; relative paths from the environment or the
 * command line against the working directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { SealdError } from '../errors.ts';
import { activationFrom, type ActivationSettings } from './activation-config.ts';
import { verifyFrom, VERIFY_KEYS, type VerifySettings } from './verify-config.ts';

export type { VisualCheckSettings } from './verify-config.ts';
import { ltvFrom, tsaFrom, type TsaConfig } from './tsa-config.ts';
import { plaintextOnNetworkFrom, PLAINTEXT_ON_NETWORK_KEY } from './network-config.ts';
import { applyTokenEnv, moreModules, pkcs11Env, poolHealth, tokensFrom } from './pool-config.ts';
import { sealsFrom, tlsFrom, type SealConfig, type SealKindName, type TlsConfig } from './seals-config.ts';
import { checkAddress, checkKeys, configError, isDisabled, isTable, optionalString, parseByteSize, parseSeconds, positiveInteger, section, stringList, type Table } from './values.ts';
import type { PinSource, Pkcs11Config, TokenConfig } from '../pool/config.ts';
import type { PolicySource } from '../auth/policy-store.ts';
import { DEFAULT_MAX_FILE_BYTES } from '../audit/log.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];


export type { ActivationSettings, PinSource, Pkcs11Config, SealConfig, SealKindName, TlsConfig, TokenConfig };
export { checkAddress, parseByteSize };

export interface Limits {
  maxDocumentBytes: number;
  spoolMemoryBytes: number;
  /** Directory for spooled documents. */
  tmpDir: string;
  /** How long a shutdown waits for in-flight calls. */
  drainSeconds: number;
  /** Admission control (src/server/admission.ts); defaults there. */
  maxConcurrentDocuments?: number;
  maxQueuedDocuments?: number;
  maxSpooledBytes?: number;
  /** The HTTP/2 stream window the server grants (limits.http2_window_bytes; src/server/listener.ts); unset: 65,535. */
  http2WindowBytes?: number;
}

export interface AuditConfig {
  /** Directory of the audit files (default <data dir>/audit). */
  dir: string;
  maxFileBytes: number;
}

/** SealBatch settings (the `batch` section). */
export interface BatchSettings {
  /** Documents of one SealBatch call sealed at a time. */
  inflightDocuments: number;
  /** How long a sealed document is answered again instead of sealed twice; 0 disables idempotency. */
  idempotencyWindowSeconds: number;
  /** Memory-only idempotency (no idempotencyDir): bytes of records kept, least recently used out. Unused with a dir. */
  idempotencyMemoryBytes: number;
  /** Where idempotency records survive a restart; undefined keeps them in memory only. */
  idempotencyDir?: string;
}

export interface SealdConfig {
  /** The file this configuration was read from. */
  configPath: string;
  /** gRPC listen address, host:port. */
  listen: string;
  /** Prometheus /metrics listen address, host:port; undefined when disabled. */
  metrics: string | undefined;
  dataDir: string;
  limits: Limits;
  batch: BatchSettings;
  log: { level: LogLevel };
  /**
   * Handed to TokenPool.open (env included: the pool sets it before loading the module); `moreModules` are further
   * PKCS#11 libraries opened by the same pool.
   */
  pkcs11: Pkcs11Config & { env: Record<string, string>; moreModules?: Pkcs11Config[] };
  seals: SealConfig[];
  trust: { anchors: string[] };
  /**
   * Verification defaults: `strict` (no annotation change after a signature; docs/verify.md), default false; `visual`,
   * the visual shadow check (on by default where pdftoppm is installed; its time budget per document and page cap).
   */
  verify: VerifySettings;
  /** Time-stamping authorities; undefined when none is configured. */
  tsa: TsaConfig | undefined;
  /** Long-term validation: a fallback OCSP responder. */
  ltv: { ocspUrl?: string };
  /** Undefined: plaintext (the loopback default). */
  tls: TlsConfig | undefined;
  /**
   * True when the server listens without TLS on a non-loopback address because plaintext was allowed explicitly
   * (insecure_plaintext_on_network / --insecure-plaintext-on-network); the built-in policy then lets anonymous
   * callers verify and list only. Without that permission such a configuration does not load.
   */
  plaintextOnNetwork: boolean;
  /** Undefined: the built-in policy (every caller may do everything; verify and list only when plaintextOnNetwork). */
  policy: PolicySource | undefined;
  audit: AuditConfig;
  /** Signature activation: throttling of wrong PINs, and whether PINs may travel without TLS (development). */
  activation: ActivationSettings;
}

/** Command-line flags of `seald serve` (highest precedence). */
export interface ConfigFlags {
  config?: string;
  dataDir?: string;
  listen?: string;
  metrics?: string;
  /** --insecure-plaintext-on-network: allow gRPC without TLS on a non-loopback address. */
  insecurePlaintextOnNetwork?: boolean;
}

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Called when neither --config nor SEALD_CONFIG names a file: provisions a ready-to-run configuration in the data
   * directory and says where it is (the server passes ensureEmbeddedDefaults).
   */
  provisionDefaults?: (dataDir: string, listen: string) => Promise<{ configPath: string; tls?: TlsConfig }>;
}

export const DEFAULTS = {
  listen: '127.0.0.1:50051',
  metrics: '127.0.0.1:9464',
  dataDir: '.seald',
  maxDocumentBytes: 256 * 1024 * 1024,
  spoolMemoryBytes: 8 * 1024 * 1024,
  drainSeconds: 30,
  batchInflightDocuments: 8,
  idempotencyWindowSeconds: 24 * 3600,
  idempotencyMemoryBytes: 32 * 1024 * 1024,
  logLevel: 'info' as LogLevel,
} as const;

/**
 * Environment variables and the setting each overrides. Token variables apply to the first token of
 * `pkcs11.tokens` (created if the file has none).
 */
export const ENVIRONMENT_VARIABLES = {
  SEALD_CONFIG: 'the configuration file (--config)',
  SEALD_LISTEN: 'listen',
  SEALD_METRICS: 'metrics',
  SEALD_DATA_DIR: 'data_dir',
  SEALD_LOG_LEVEL: 'log.level',
  SEALD_MAX_DOCUMENT_BYTES: 'limits.max_document_bytes',
  SEALD_SPOOL_MEMORY_BYTES: 'limits.spool_memory_bytes',
  SEALD_HTTP2_WINDOW_BYTES: 'limits.http2_window_bytes',
  SEALD_TMP_DIR: 'limits.tmp_dir',
  SEALD_DRAIN_SECONDS: 'limits.drain_seconds',
  SEALD_BATCH_INFLIGHT_DOCUMENTS: 'batch.inflight_documents',
  SEALD_IDEMPOTENCY_WINDOW_SECONDS: 'batch.idempotency_window_seconds',
  SEALD_PKCS11_MODULE: 'pkcs11.module',
  SEALD_TOKEN_LABEL: 'pkcs11.tokens[0].label',
  SEALD_TOKEN_SERIAL: 'pkcs11.tokens[0].serial',
  SEALD_TOKEN_PIN_FILE: 'pkcs11.tokens[0].pin (as { file })',
  SEALD_TOKEN_PIN_ENV: 'pkcs11.tokens[0].pin (as { env })',
  SEALD_TOKEN_SESSIONS: 'pkcs11.tokens[0].sessions',
  SEALD_TRUST_ANCHORS: `trust.anchors (a list separated by "${path.delimiter}")`,
  SEALD_VERIFY_STRICT: 'verify.strict (true or false)',
  SEALD_VERIFY_VISUAL_CHECK: 'verify.visual_check (true or false)',
  SEALD_TSA_URLS: 'tsa.urls (comma-separated URLs)',
  SEALD_TSA_TIMEOUT_MS: 'tsa.timeout_ms',
  SEALD_LTV_OCSP_URL: 'ltv.ocsp_url',
  SEALD_TLS_CERT: 'tls.cert',
  SEALD_TLS_KEY: 'tls.key',
  SEALD_TLS_CLIENT_CA: 'tls.client_ca',
  SEALD_TLS_SERVER_NAMES: 'embedded defaults only: more names for the demo server certificate (comma-separated)',
  SEALD_POLICY: 'policy (a policy file)',
  SEALD_AUDIT_DIR: 'audit.dir',
} as const;

export async function loadConfig(options: LoadConfigOptions = {}): Promise<SealdConfig> {
  const flags = options.flags ?? {};
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const fromCwd = (p: string): string => path.resolve(cwd, p);
  const envValue = (name: keyof typeof ENVIRONMENT_VARIABLES): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };

  const dataDirOverride = flags.dataDir ?? envValue('SEALD_DATA_DIR');
  let configPath = flags.config ?? envValue('SEALD_CONFIG');
  /** The embedded defaults' TLS (off loopback): used when the file and environment configure none. */
  let provisionedTls: TlsConfig | undefined;
  if (configPath === undefined) {
    if (options.provisionDefaults === undefined) {
      throw new SealdError('invalid-input', 'CONFIG_MISSING', 'no configuration file (use --config or SEALD_CONFIG)');
    }
    const dataDir = fromCwd(dataDirOverride ?? DEFAULTS.dataDir);
    // The generated file names no listen address: the flag or environment decides, as below.
    const provisioned = await options.provisionDefaults(dataDir, flags.listen ?? envValue('SEALD_LISTEN') ?? DEFAULTS.listen);
    ({ configPath, tls: provisionedTls } = provisioned);
  }
  configPath = fromCwd(configPath);

  let text: string;
  try {
    text = await fs.promises.readFile(configPath, 'utf8');
  } catch (cause) {
    throw new SealdError('invalid-input', 'CONFIG_MISSING', `cannot read configuration file ${configPath}`, { cause });
  }
  const file = parseConfigFile(text, configPath);
  const configDir = path.dirname(configPath);
  const fromFile = (p: string): string => path.resolve(configDir, p);
  const source = configPath;

  // --- top level -------------------------------------------------------------------------------------------------
  const listen = checkAddress(
    flags.listen ?? envValue('SEALD_LISTEN') ?? optionalString(file, 'listen', source) ?? DEFAULTS.listen,
    flags.listen !== undefined ? '--listen' : envValue('SEALD_LISTEN') !== undefined ? 'SEALD_LISTEN' : 'listen',
    source,
  );
  const metricsRaw = flags.metrics ?? env.SEALD_METRICS ?? metricsFromFile(file, source) ?? DEFAULTS.metrics;
  const metrics = isDisabled(metricsRaw)
    ? undefined
    : checkAddress(metricsRaw, flags.metrics !== undefined ? '--metrics' : 'metrics', source);
  const dataDirFile = optionalString(file, 'data_dir', source);
  const dataDir =
    dataDirOverride !== undefined
      ? fromCwd(dataDirOverride)
      : dataDirFile !== undefined
        ? fromFile(dataDirFile)
        : fromCwd(DEFAULTS.dataDir);

  // --- log ---------------------------------------------------------------------------------------------------------
  const log = section(file, 'log', source, ['level']);
  const levelText = envValue('SEALD_LOG_LEVEL') ?? optionalString(log, 'level', source, 'log') ?? DEFAULTS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(levelText)) {
    throw configError('log.level', `expected one of ${LOG_LEVELS.join(', ')}, got "${levelText}"`, source);
  }

  // --- limits ------------------------------------------------------------------------------------------------------
  const limitsFile = section(file, 'limits', source, [
    'max_document_bytes',
    'spool_memory_bytes',
    'tmp_dir',
    'drain_seconds',
    'max_concurrent_documents',
    'max_queued_documents',
    'max_spooled_bytes',
    'http2_window_bytes',
  ]);
  const byteSetting = (key: string, envName: keyof typeof ENVIRONMENT_VARIABLES, fallback: number): number => {
    const fromEnv = envValue(envName);
    if (fromEnv !== undefined) return parseByteSize(fromEnv, envName);
    const value = limitsFile[key];
    return value === undefined || value === null ? fallback : parseByteSize(value, `limits.${key}`, source);
  };
  const maxDocumentBytes = byteSetting('max_document_bytes', 'SEALD_MAX_DOCUMENT_BYTES', DEFAULTS.maxDocumentBytes);
  const spoolMemoryBytes = byteSetting('spool_memory_bytes', 'SEALD_SPOOL_MEMORY_BYTES', DEFAULTS.spoolMemoryBytes);
  const http2WindowBytes = byteSetting('http2_window_bytes', 'SEALD_HTTP2_WINDOW_BYTES', 65_535);
  if (http2WindowBytes < 65_535 || http2WindowBytes > 2 ** 29) {
    throw configError('limits.http2_window_bytes', `expected 64 KiB (65535, the protocol's default) to 512 MiB, got ${http2WindowBytes}`, source);
  }
  const tmpDirEnv = envValue('SEALD_TMP_DIR');
  const tmpDirFile = optionalString(limitsFile, 'tmp_dir', source, 'limits');
  const tmpDir =
    tmpDirEnv !== undefined
      ? fromCwd(tmpDirEnv)
      : tmpDirFile !== undefined
        ? fromFile(tmpDirFile)
        : path.join(dataDir, 'spool');
  const drainEnv = envValue('SEALD_DRAIN_SECONDS');
  const drainSeconds =
    drainEnv !== undefined
      ? parseSeconds(drainEnv, 'SEALD_DRAIN_SECONDS')
      : limitsFile.drain_seconds === undefined || limitsFile.drain_seconds === null
        ? DEFAULTS.drainSeconds
        : parseSeconds(limitsFile.drain_seconds, 'limits.drain_seconds', source);

  // --- batch -------------------------------------------------------------------------------------------------------
  const batchFile = section(file, 'batch', source, [
    'inflight_documents',
    'idempotency_window_seconds',
    'idempotency_memory_bytes',
    'idempotency_dir',
  ]);
  const inflightEnv = envValue('SEALD_BATCH_INFLIGHT_DOCUMENTS');
  const windowEnv = envValue('SEALD_IDEMPOTENCY_WINDOW_SECONDS');
  const idempotencyDirFile = optionalString(batchFile, 'idempotency_dir', source, 'batch');
  const batch: BatchSettings = {
    inflightDocuments:
      inflightEnv !== undefined
        ? positiveInteger(inflightEnv, 'SEALD_BATCH_INFLIGHT_DOCUMENTS')
        : batchFile.inflight_documents === undefined || batchFile.inflight_documents === null
          ? DEFAULTS.batchInflightDocuments
          : positiveInteger(batchFile.inflight_documents, 'batch.inflight_documents', source),
    idempotencyWindowSeconds:
      windowEnv !== undefined
        ? parseSeconds(windowEnv, 'SEALD_IDEMPOTENCY_WINDOW_SECONDS')
        : batchFile.idempotency_window_seconds === undefined || batchFile.idempotency_window_seconds === null
          ? DEFAULTS.idempotencyWindowSeconds
          : parseSeconds(batchFile.idempotency_window_seconds, 'batch.idempotency_window_seconds', source),
    idempotencyMemoryBytes:
      batchFile.idempotency_memory_bytes === undefined || batchFile.idempotency_memory_bytes === null
        ? DEFAULTS.idempotencyMemoryBytes
        : parseByteSize(batchFile.idempotency_memory_bytes, 'batch.idempotency_memory_bytes', source),
    idempotencyDir:
      idempotencyDirFile !== undefined ? fromFile(idempotencyDirFile) : path.join(dataDir, 'idempotency'),
  };
  const admission: Pick<Limits, 'maxConcurrentDocuments' | 'maxQueuedDocuments' | 'maxSpooledBytes'> = {};
  if (limitsFile.max_concurrent_documents != null) {
    admission.maxConcurrentDocuments = positiveInteger(limitsFile.max_concurrent_documents, 'limits.max_concurrent_documents', source);
  }
  if (limitsFile.max_queued_documents != null) {
    admission.maxQueuedDocuments = positiveInteger(limitsFile.max_queued_documents, 'limits.max_queued_documents', source);
  }
  if (limitsFile.max_spooled_bytes != null) {
    admission.maxSpooledBytes = parseByteSize(limitsFile.max_spooled_bytes, 'limits.max_spooled_bytes', source);
  }

  // --- pkcs11 ------------------------------------------------------------------------------------------------------
  const pkcs11File = section(file, 'pkcs11', source, ['module', 'env', 'tokens', 'health', 'more_modules']);
  const moduleEnv = envValue('SEALD_PKCS11_MODULE');
  const moduleFile = optionalString(pkcs11File, 'module', source, 'pkcs11');
  const modulePath = moduleEnv !== undefined ? fromCwd(moduleEnv) : moduleFile !== undefined ? fromFile(moduleFile) : undefined;
  if (modulePath === undefined) throw configError('pkcs11.module', 'required (the PKCS#11 library path)', source);
  const moduleEnvVars = pkcs11Env(pkcs11File.env, configDir, source);
  const tokens = tokensFrom(pkcs11File.tokens, fromFile, source);
  applyTokenEnv(tokens, envValue, fromCwd);
  if (tokens.length === 0) throw configError('pkcs11.tokens', 'at least one token is required', source);

  // --- seals and trust ---------------------------------------------------------------------------------------------
  // time_zone: every seal's default zone for /M and the date stamp (seals-config.ts SealConfig.timeZone).
  const seals = sealsFrom(file.seals, fromFile, source, optionalString(file, 'time_zone', source));
  const trustFile = section(file, 'trust', source, ['anchors']);
  const anchorsEnv = envValue('SEALD_TRUST_ANCHORS');
  const anchors =
    anchorsEnv !== undefined
      ? anchorsEnv.split(path.delimiter).filter((p) => p !== '').map(fromCwd)
      : stringList(trustFile.anchors, 'trust.anchors', source).map(fromFile);
  const verify = verifyFrom(section(file, 'verify', source, VERIFY_KEYS), envValue('SEALD_VERIFY_STRICT'), envValue('SEALD_VERIFY_VISUAL_CHECK'), source);

  // --- tls, policy, audit ---------------------------------------------------------------------------------------------
  const tls = tlsFrom(section(file, 'tls', source, ['cert', 'key', 'client_ca']), envValue, fromFile, fromCwd, source) ?? provisionedTls;
  const policyEnv = envValue('SEALD_POLICY');
  const policy: PolicySource | undefined =
    policyEnv !== undefined
      ? { file: fromCwd(policyEnv), section: false }
      : typeof file.policy === 'string'
        ? { file: fromFile(file.policy), section: false }
        : isTable(file.policy)
          ? { file: configPath, section: true }
          : file.policy === undefined || file.policy === null
            ? undefined
            : (() => {
                throw configError('policy', 'expected a policy mapping or the path of a policy file', source);
              })();
  const auditFile = section(file, 'audit', source, ['dir', 'max_file_bytes']);
  const auditDirEnv = envValue('SEALD_AUDIT_DIR');
  const auditDirFile = optionalString(auditFile, 'dir', source, 'audit');
  const audit: AuditConfig = {
    dir: auditDirEnv !== undefined ? fromCwd(auditDirEnv) : auditDirFile !== undefined ? fromFile(auditDirFile) : path.join(dataDir, 'audit'),
    maxFileBytes:
      auditFile.max_file_bytes === undefined || auditFile.max_file_bytes === null
        ? DEFAULT_MAX_FILE_BYTES
        : parseByteSize(auditFile.max_file_bytes, 'audit.max_file_bytes', source),
  };

  const plaintextOnNetwork = plaintextOnNetworkFrom(file, flags.insecurePlaintextOnNetwork, listen, tls !== undefined, source);

  return {
    tls,
    plaintextOnNetwork,
    policy,
    audit,
    activation: activationFrom(file, listen, tls !== undefined, source),
    configPath,
    listen,
    metrics,
    dataDir,
    limits: { maxDocumentBytes, spoolMemoryBytes, tmpDir, drainSeconds, ...admission, ...(http2WindowBytes === 65_535 ? {} : { http2WindowBytes }) },
    batch,
    log: { level: levelText as LogLevel },
    pkcs11: { module: modulePath, env: moduleEnvVars, tokens, ...poolHealth(pkcs11File.health, source), ...moreModules(pkcs11File.more_modules, fromFile, configDir, source) },
    seals,
    trust: { anchors },
    verify,
    tsa: tsaFrom(file, envValue, fromFile, source, env),
    ltv: ltvFrom(file, envValue, source),
  };
}

// ---------------------------------------------------------------------------------------------------------------------

const TOP_LEVEL_KEYS = ['listen', 'metrics', 'data_dir', 'limits', 'batch', 'log', 'pkcs11', 'seals', 'trust', 'verify', 'tls', 'policy', 'audit', 'tsa', 'ltv', 'activation', 'time_zone', PLAINTEXT_ON_NETWORK_KEY];

function parseConfigFile(text: string, source: string): Table {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new SealdError('invalid-input', 'CONFIG_INVALID', `${source}: ${first.message}`);
  }
  const value: unknown = document.toJS();
  if (value === null || value === undefined) return {};
  if (!isTable(value)) throw configError('(top level)', 'expected a mapping of settings', source);
  checkKeys(value, TOP_LEVEL_KEYS, '', source);
  return value;
}

function metricsFromFile(file: Table, source: string): string | undefined {
  const value = file.metrics;
  if (value === undefined) return undefined;
  if (value === null || value === false) return '';
  if (typeof value !== 'string') throw configError('metrics', 'expected host:port, "" or off', source);
  return value;
}
