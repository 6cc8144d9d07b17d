/**
 * The pkcs11 section of the configuration (module, env, tokens, health, more_modules) and the SEALD_TOKEN_*
 * variables that override its first token.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PinSource, Pkcs11Config, PoolHealthConfig, TokenConfig } from '../pool/config.ts';
import { checkKeys, configError, isTable, optionalString, parseSeconds, positiveInteger, requiredString } from './values.ts';

/**
 * pkcs11.env: variables for the PKCS#11 module. A relative value that names an existing path next to the config
 * file (e.g. `SOFTHSM2_CONF: softhsm2.conf`) is made absolute, so the server may run from any directory.
 */
export function pkcs11Env(value: unknown, configDir: string, source: string): Record<string, string> {
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

/**
 * pkcs11.health: keep_alive_seconds, retry_min_seconds, retry_max_seconds, call_timeout_seconds (src/pool/config.ts
 * PoolHealthConfig).
 */
export function poolHealth(value: unknown, source: string): { health?: PoolHealthConfig } {
  if (value === undefined || value === null) return {};
  if (!isTable(value)) throw configError('pkcs11.health', 'expected a mapping', source);
  checkKeys(value, ['keep_alive_seconds', 'retry_min_seconds', 'retry_max_seconds', 'call_timeout_seconds'], 'pkcs11.health.', source);
  const health: PoolHealthConfig = {};
  if (value.keep_alive_seconds != null) health.keepAliveSeconds = parseSeconds(value.keep_alive_seconds, 'pkcs11.health.keep_alive_seconds', source);
  if (value.retry_min_seconds != null) health.retryMinSeconds = parseSeconds(value.retry_min_seconds, 'pkcs11.health.retry_min_seconds', source);
  if (value.retry_max_seconds != null) health.retryMaxSeconds = parseSeconds(value.retry_max_seconds, 'pkcs11.health.retry_max_seconds', source);
  if (value.call_timeout_seconds != null) health.callTimeoutSeconds = parseSeconds(value.call_timeout_seconds, 'pkcs11.health.call_timeout_seconds', source);
  return { health };
}

/** pkcs11.more_modules: further PKCS#11 libraries, each { module, env, tokens } like pkcs11 itself. */
export function moreModules(
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

export function pinFrom(value: unknown, name: string, fromFile: (p: string) => string, source: string): PinSource {
  if (!isTable(value)) throw configError(name, 'required: { file: PATH } or { env: VARIABLE } or { value: PIN }', source);
  checkKeys(value, ['value', 'file', 'env'], `${name}.`, source);
  const set = (['value', 'file', 'env'] as const).filter((key) => value[key] !== undefined && value[key] !== null);
  if (set.length !== 1) throw configError(name, 'set exactly one of value, file, env', source);
  const key = set[0]!;
  const text = optionalString(value, key, source, name)!;
  return key === 'file' ? { file: fromFile(text) } : { [key]: text };
}

export function tokensFrom(value: unknown, fromFile: (p: string) => string, source: string): TokenConfig[] {
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

export function applyTokenEnv(
  tokens: TokenConfig[],
  envValue: (name: 'SEALD_TOKEN_LABEL' | 'SEALD_TOKEN_SERIAL' | 'SEALD_TOKEN_PIN_FILE' | 'SEALD_TOKEN_PIN_ENV' | 'SEALD_TOKEN_SESSIONS') => string | undefined,
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
