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
import { ltvFrom, tsaFrom, type TsaConfig } from './tsa-config.ts';
import type { PinSource, Pkcs11Config, PoolHealthConfig, TokenConfig } from '../pool/config.ts';
import type { PolicySource } from '../auth/policy-store.ts';
import { DEFAULT_MAX_FILE_BYTES } from '../audit/log.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type SealKindName = 'organization' | 'personal';

export type { PinSource, Pkcs11Config, TokenConfig };

export interface SealConfig {
  id: string;
  kind: SealKindName;
  name: string;
  /** Label of the private key on the token (CKA_LABEL). */
  key: string;
  /** PEM file: the signing certificate first, then its issuers. */
  certificates: string;
  /** PNG file of the seal's mark. */
  image: string;
  /** Default size of the mark's longer side, in millimetres. */
  sizeMm: number;
}

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
}

/** Mutual TLS: the server's certificate chain and key, and the CA bundle client certificates must chain to. */
export interface TlsConfig {
  cert: string;
  key: string;
  clientCa: string;
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
  /** Time-stamping authorities; undefined when none is configured. */
  tsa: TsaConfig | undefined;
  /** Long-term validation: a fallback OCSP responder. */
  ltv: { ocspUrl?: string };
  /** Undefined: plaintext (the loopback default). */
  tls: TlsConfig | undefined;
  /** Undefined: the built-in policy (every caller may do everything). */
  policy: PolicySource | undefined;
  audit: AuditConfig;
}

/** Command-line flags of `seald serve` (highest precedence). */
export interface ConfigFlags {
  config?: string;
  dataDir?: string;
  listen?: string;
  metrics?: string;
}

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Called when neither --config nor SEALD_CONFIG names a file: provisions a ready-to-run configuration in the data
   * directory and says where it is (the server passes ensureEmbeddedDefaults).
   */
  provisionDefaults?: (dataDir: string) => Promise<{ configPath: string }>;
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
  SEALD_TSA_URLS: 'tsa.urls (comma-separated URLs)',
  SEALD_TSA_TIMEOUT_MS: 'tsa.timeout_ms',
  SEALD_LTV_OCSP_URL: 'ltv.ocsp_url',
  SEALD_TLS_CERT: 'tls.cert',
  SEALD_TLS_KEY: 'tls.key',
  SEALD_TLS_CLIENT_CA: 'tls.client_ca',
  SEALD_POLICY: 'policy (a policy file)',
  SEALD_AUDIT_DIR: 'audit.dir',
} as const;

export function configError(key: string, message: string, source?: string): SealdError {
  const where = source === undefined ? key : `${source}: ${key}`;
  return new SealdError('invalid-input', 'CONFIG_INVALID', `${where}: ${message}`);
}

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
  if (configPath === undefined) {
    if (options.provisionDefaults === undefined) {
      throw new SealdError('invalid-input', 'CONFIG_MISSING', 'no configuration file (use --config or SEALD_CONFIG)');
    }
    const dataDir = fromCwd(dataDirOverride ?? DEFAULTS.dataDir);
    ({ configPath } = await options.provisionDefaults(dataDir));
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
  ]);
  const byteSetting = (key: string, envName: keyof typeof ENVIRONMENT_VARIABLES, fallback: number): number => {
    const fromEnv = envValue(envName);
    if (fromEnv !== undefined) return parseByteSize(fromEnv, envName);
    const value = limitsFile[key];
    return value === undefined || value === null ? fallback : parseByteSize(value, `limits.${key}`, source);
  };
  const maxDocumentBytes = byteSetting('max_document_bytes', 'SEALD_MAX_DOCUMENT_BYTES', DEFAULTS.maxDocumentBytes);
  const spoolMemoryBytes = byteSetting('spool_memory_bytes', 'SEALD_SPOOL_MEMORY_BYTES', DEFAULTS.spoolMemoryBytes);
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
  const seals = sealsFrom(file.seals, fromFile, source);
  const trustFile = section(file, 'trust', source, ['anchors']);
  const anchorsEnv = envValue('SEALD_TRUST_ANCHORS');
  const anchors =
    anchorsEnv !== undefined
      ? anchorsEnv.split(path.delimiter).filter((p) => p !== '').map(fromCwd)
      : stringList(trustFile.anchors, 'trust.anchors', source).map(fromFile);

  // --- tls, policy, audit ---------------------------------------------------------------------------------------------
  const tls = tlsFrom(section(file, 'tls', source, ['cert', 'key', 'client_ca']), envValue, fromFile, fromCwd, source);
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

  return {
    tls,
    policy,
    audit,
    configPath,
    listen,
    metrics,
    dataDir,
    limits: { maxDocumentBytes, spoolMemoryBytes, tmpDir, drainSeconds, ...admission },
    batch,
    log: { level: levelText as LogLevel },
    pkcs11: { module: modulePath, env: moduleEnvVars, tokens, ...poolHealth(pkcs11File.health, source), ...moreModules(pkcs11File.more_modules, fromFile, configDir, source) },
    seals,
    trust: { anchors },
    tsa: tsaFrom(file, envValue, fromFile, source, env),
    ltv: ltvFrom(file, envValue, source),
  };
}

// ---------------------------------------------------------------------------------------------------------------------

export type Table = Record<string, unknown>;

const TOP_LEVEL_KEYS = ['listen', 'metrics', 'data_dir', 'limits', 'batch', 'log', 'pkcs11', 'seals', 'trust', 'tls', 'policy', 'audit', 'tsa', 'ltv'];

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

export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(table: Table, allowed: readonly string[], prefix: string, source: string): void {
  for (const key of Object.keys(table)) {
    if (!allowed.includes(key)) {
      throw configError(`${prefix}${key}`, `unknown setting (expected one of: ${allowed.join(', ')})`, source);
    }
  }
}

export function section(file: Table, key: string, source: string, allowed: readonly string[]): Table {
  const value = file[key];
  if (value === undefined || value === null) return {};
  if (!isTable(value)) throw configError(key, 'expected a mapping', source);
  checkKeys(value, allowed, `${key}.`, source);
  return value;
}

export function optionalString(table: Table, key: string, source: string, prefix?: string): string | undefined {
  const value = table[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value === '') {
    throw configError(prefix === undefined ? key : `${prefix}.${key}`, 'expected a non-empty string', source);
  }
  return value;
}

function requiredString(table: Table, key: string, name: string, source: string): string {
  const value = optionalString(table, key, source);
  if (value === undefined) throw configError(name, 'required', source);
  return value;
}

export function stringList(value: unknown, name: string, source: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    throw configError(name, 'expected a list of non-empty strings', source);
  }
  return value as string[];
}

function metricsFromFile(file: Table, source: string): string | undefined {
  const value = file.metrics;
  if (value === undefined) return undefined;
  if (value === null || value === false) return '';
  if (typeof value !== 'string') throw configError('metrics', 'expected host:port, "" or off', source);
  return value;
}

function isDisabled(value: string): boolean {
  return ['', 'off', 'false', 'no', 'none', 'disabled'].includes(value.trim().toLowerCase());
}

/** host:port, [v6]:port; port 0 picks a free port. */
export function checkAddress(value: string, name: string, source?: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(value.trim());
  if (match === null || Number(match[2]) > 65535) {
    throw configError(name, `expected host:port (e.g. ${DEFAULTS.listen}), got "${value}"`, source);
  }
  return value.trim();
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** A byte count: an integer, or a number with a unit (`8MiB`, `256 MiB`, `1.5GB`; `M` means MiB). */
export function parseByteSize(value: unknown, name: string, source?: string): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  const match = text === undefined ? null : /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text);
  const unit = match === null ? undefined : BYTE_UNITS[match[2]!.toLowerCase()];
  if (match === null || unit === undefined) {
    throw configError(name, `expected a byte size such as 8388608, 8MiB or 256 MiB, got ${JSON.stringify(value)}`, source);
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw configError(name, `expected a positive byte size, got ${JSON.stringify(value)}`, source);
  }
  return bytes;
}

function parseSeconds(value: unknown, name: string, source?: string): number {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!Number.isFinite(seconds) || seconds < 0 || (typeof value === 'string' && value.trim() === '')) {
    throw configError(name, `expected a number of seconds ≥ 0, got ${JSON.stringify(value)}`, source);
  }
  return seconds;
}

/**
 * pkcs11.env: variables for the PKCS#11 module. A relative value that names an existing path next to the config
 * file (e.g. `SOFTHSM2_CONF: softhsm2.conf`) is made absolute, so the server may run from any directory.
 */
function pkcs11Env(value: unknown, configDir: string, source: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isTable(value)) throw configError('pkcs11.env', 'expected a mapping of variable names to values', source);
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw configError(`pkcs11.env.${name}`, 'not a variable name', source);
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      throw configError(`pkcs11.env.${name}`, 'expected a string', source);
    }
    const text = String(raw);
    const candidate = path.resolve(configDir, text);
    out[name] = text !== '' && !path.isAbsolute(text) && fs.existsSync(candidate) ? candidate : text;
  }
  return out;
}

/** pkcs11.health: keep_alive_seconds, retry_min_seconds, retry_max_seconds (src/pool/config.ts PoolHealthConfig). */
function poolHealth(value: unknown, source: string): { health?: PoolHealthConfig } {
  if (value === undefined || value === null) return {};
  if (!isTable(value)) throw configError('pkcs11.health', 'expected a mapping', source);
  checkKeys(value, ['keep_alive_seconds', 'retry_min_seconds', 'retry_max_seconds'], 'pkcs11.health.', source);
  const health: PoolHealthConfig = {};
  if (value.keep_alive_seconds != null) health.keepAliveSeconds = parseSeconds(value.keep_alive_seconds, 'pkcs11.health.keep_alive_seconds', source);
  if (value.retry_min_seconds != null) health.retryMinSeconds = parseSeconds(value.retry_min_seconds, 'pkcs11.health.retry_min_seconds', source);
  if (value.retry_max_seconds != null) health.retryMaxSeconds = parseSeconds(value.retry_max_seconds, 'pkcs11.health.retry_max_seconds', source);
  return { health };
}

/** pkcs11.more_modules: further PKCS#11 libraries, each { module, env, tokens } like pkcs11 itself. */
function moreModules(
  value: unknown,
  fromFile: (p: string) => string,
  configDir: string,
  source: string,
): { moreModules?: Pkcs11Config[] } {
  if (value === undefined || value === null) return {};
  if (!Array.isArray(value)) throw configError('pkcs11.more_modules', 'expected a list of { module, env, tokens }', source);
  return {
    moreModules: value.map((item: unknown, index) => {
      const name = `pkcs11.more_modules[${index}]`;
      if (!isTable(item)) throw configError(name, 'expected a mapping', source);
      checkKeys(item, ['module', 'env', 'tokens'], `${name}.`, source);
      const tokens = tokensFrom(item.tokens, fromFile, source);
      if (tokens.length === 0) throw configError(`${name}.tokens`, 'at least one token is required', source);
      return { module: fromFile(requiredString(item, 'module', `${name}.module`, source)), env: pkcs11Env(item.env, configDir, source), tokens };
    }),
  };
}

function pinFrom(value: unknown, name: string, fromFile: (p: string) => string, source: string): PinSource {
  if (!isTable(value)) throw configError(name, 'required: { file: PATH } or { env: VARIABLE } or { value: PIN }', source);
  checkKeys(value, ['value', 'file', 'env'], `${name}.`, source);
  const set = (['value', 'file', 'env'] as const).filter((key) => value[key] !== undefined && value[key] !== null);
  if (set.length !== 1) throw configError(name, 'set exactly one of value, file, env', source);
  const key = set[0]!;
  const text = optionalString(value, key, source, name)!;
  return key === 'file' ? { file: fromFile(text) } : { [key]: text };
}

function tokensFrom(value: unknown, fromFile: (p: string) => string, source: string): TokenConfig[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw configError('pkcs11.tokens', 'expected a list of tokens', source);
  return value.map((item: unknown, index) => {
    const name = `pkcs11.tokens[${index}]`;
    if (!isTable(item)) throw configError(name, 'expected a mapping', source);
    checkKeys(item, ['label', 'serial', 'pin', 'sessions'], `${name}.`, source);
    const token: TokenConfig = { pin: pinFrom(item.pin, `${name}.pin`, fromFile, source) };
    const label = optionalString(item, 'label', source, name);
    const serial = optionalString(item, 'serial', source, name);
    if (label !== undefined) token.label = label;
    if (serial !== undefined) token.serial = serial;
    if (label === undefined && serial === undefined) throw configError(name, 'set label or serial', source);
    if (item.sessions !== undefined && item.sessions !== null) {
      token.sessions = positiveInteger(item.sessions, `${name}.sessions`, source);
    }
    return token;
  });
}

function applyTokenEnv(
  tokens: TokenConfig[],
  envValue: (name: keyof typeof ENVIRONMENT_VARIABLES) => string | undefined,
  fromCwd: (p: string) => string,
): void {
  const label = envValue('SEALD_TOKEN_LABEL');
  const serial = envValue('SEALD_TOKEN_SERIAL');
  const pinFile = envValue('SEALD_TOKEN_PIN_FILE');
  const pinEnv = envValue('SEALD_TOKEN_PIN_ENV');
  const sessions = envValue('SEALD_TOKEN_SESSIONS');
  if ([label, serial, pinFile, pinEnv, sessions].every((v) => v === undefined)) return;
  if (pinFile !== undefined && pinEnv !== undefined) {
    throw configError('SEALD_TOKEN_PIN_FILE', 'set only one of SEALD_TOKEN_PIN_FILE and SEALD_TOKEN_PIN_ENV');
  }
  if (tokens.length === 0) {
    if (pinFile === undefined && pinEnv === undefined) {
      throw configError('SEALD_TOKEN_PIN_FILE', 'no token in the file: set SEALD_TOKEN_PIN_FILE or SEALD_TOKEN_PIN_ENV');
    }
    tokens.push({ pin: {} });
  }
  const token = tokens[0]!;
  if (label !== undefined) token.label = label;
  if (serial !== undefined) token.serial = serial;
  if (pinFile !== undefined) token.pin = { file: fromCwd(pinFile) };
  if (pinEnv !== undefined) token.pin = { env: pinEnv };
  if (sessions !== undefined) token.sessions = positiveInteger(sessions, 'SEALD_TOKEN_SESSIONS');
  if (token.label === undefined && token.serial === undefined) {
    throw configError('SEALD_TOKEN_LABEL', 'the token needs a label or serial');
  }
}

export function positiveInteger(value: unknown, name: string, source?: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw configError(name, `expected a positive integer, got ${JSON.stringify(value)}`, source);
  return n;
}

function sealsFrom(value: unknown, fromFile: (p: string) => string, source: string): SealConfig[] {
  if (value === undefined || value === null) throw configError('seals', 'at least one seal is required', source);
  if (!Array.isArray(value) || value.length === 0) throw configError('seals', 'expected a non-empty list of seals', source);
  const seen = new Set<string>();
  return value.map((item: unknown, index) => {
    const name = `seals[${index}]`;
    if (!isTable(item)) throw configError(name, 'expected a mapping', source);
    checkKeys(item, ['id', 'kind', 'name', 'key', 'certificates', 'image', 'size_mm'], `${name}.`, source);
    const id = requiredString(item, 'id', `${name}.id`, source);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) {
      throw configError(`${name}.id`, `"${id}": use letters, digits, ".", "_" and "-"`, source);
    }
    if (seen.has(id)) throw configError(`${name}.id`, `duplicate seal id "${id}"`, source);
    seen.add(id);
    const kind = requiredString(item, 'kind', `${name}.kind`, source);
    if (kind !== 'organization' && kind !== 'personal') {
      throw configError(`${name}.kind`, `expected organization or personal, got "${kind}"`, source);
    }
    const sizeMm = item.size_mm;
    if (typeof sizeMm !== 'number' || !Number.isFinite(sizeMm) || sizeMm <= 0 || sizeMm > 1000) {
      throw configError(`${name}.size_mm`, `expected a size in millimetres (0 < size ≤ 1000), got ${JSON.stringify(sizeMm)}`, source);
    }
    return {
      id,
      kind,
      name: requiredString(item, 'name', `${name}.name`, source),
      key: requiredString(item, 'key', `${name}.key`, source),
      certificates: fromFile(requiredString(item, 'certificates', `${name}.certificates`, source)),
      image: fromFile(requiredString(item, 'image', `${name}.image`, source)),
      sizeMm,
    };
  });
}

/** tls.cert / tls.key / tls.client_ca (or SEALD_TLS_*): all three, or none for plaintext. */
function tlsFrom(
  table: Table,
  envValue: (name: keyof typeof ENVIRONMENT_VARIABLES) => string | undefined,
  fromFile: (p: string) => string,
  fromCwd: (p: string) => string,
  source: string,
): TlsConfig | undefined {
  const pick = (key: string, envName: keyof typeof ENVIRONMENT_VARIABLES): string | undefined => {
    const fromEnv = envValue(envName);
    if (fromEnv !== undefined) return fromCwd(fromEnv);
    const value = optionalString(table, key, source, 'tls');
    return value === undefined ? undefined : fromFile(value);
  };
  const cert = pick('cert', 'SEALD_TLS_CERT');
  const key = pick('key', 'SEALD_TLS_KEY');
  const clientCa = pick('client_ca', 'SEALD_TLS_CLIENT_CA');
  if (cert === undefined && key === undefined && clientCa === undefined) return undefined;
  if (cert === undefined || key === undefined || clientCa === undefined) {
    const missing = [cert === undefined ? 'cert' : '', key === undefined ? 'key' : '', clientCa === undefined ? 'client_ca' : '']
      .filter((k) => k !== '')
      .map((k) => `tls.${k}`);
    throw configError('tls', `mutual TLS needs cert, key and client_ca: ${missing.join(', ')} missing`, source);
  }
  return { cert, key, clientCa };
}
