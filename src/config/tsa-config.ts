/**
 * The `tsa` section of the configuration: the time-stamping authorities seald asks, in order of preference.
 *
 *   tsa:
 *     urls:                            # tried in order; a failed one goes last for a while
 *       - http://tsa.example.cn/tsr
 *       - url: https://tsa2.example.cn/
 *         username: seald
 *         password_file: /run/secrets/tsa2   # or password_env: TSA2_PASSWORD (never inline)
 *     timeout_ms: 10000                # per TSA, per request
 *     policy: 1.2.156.xxxx             # optional: require this TSA policy
 *     seal_timestamp: false            # PAdES B-T for every Seal unless the request says otherwise
 *     seal_timestamp_mode: strict      # or best-effort: a TSA failure seals B-B and reports the missing time-stamp
 *
 * SEALD_TSA_URLS (comma-separated URLs) replaces `urls`; SEALD_TSA_TIMEOUT_MS replaces `timeout_ms`.
 */
import { readFileSync } from 'node:fs';
import type { TsaEndpoint } from '../crypto/tsa-client.ts';
import { configError, isTable, optionalString, positiveInteger, section, type Table } from './values.ts';

export interface TsaConfig {
  endpoints: TsaEndpoint[];
  timeoutMs: number;
  policy?: string;
  /** Whether Seal adds a signature time-stamp when the request leaves it unset. */
  sealTimestamp: boolean;
  /** What a TSA failure does to a Seal whose request leaves SignatureOptions.timestamp_mode unset. */
  sealTimestampMode: 'strict' | 'best-effort';
}

export const TSA_DEFAULT_TIMEOUT_MS = 10_000;

export function tsaFrom(
  file: Table,
  envValue: (name: 'SEALD_TSA_URLS' | 'SEALD_TSA_TIMEOUT_MS') => string | undefined,
  fromFile: (p: string) => string,
  source: string,
  env: NodeJS.ProcessEnv,
): TsaConfig | undefined {
  const tsa = section(file, 'tsa', source, ['urls', 'timeout_ms', 'policy', 'seal_timestamp', 'seal_timestamp_mode']);
  const urlsEnv = envValue('SEALD_TSA_URLS');
  const endpoints =
    urlsEnv !== undefined
      ? urlsEnv.split(',').map((u) => u.trim()).filter((u) => u !== '').map((url) => endpoint({ url }, 'SEALD_TSA_URLS', fromFile, source, env))
      : endpointsFrom(tsa.urls, fromFile, source, env);
  if (endpoints.length === 0) {
    if (tsa.seal_timestamp === true) throw configError('tsa.seal_timestamp', 'needs at least one TSA in tsa.urls', source);
    return undefined;
  }
  const timeoutEnv = envValue('SEALD_TSA_TIMEOUT_MS');
  const timeoutMs =
    timeoutEnv !== undefined
      ? positiveInteger(timeoutEnv, 'SEALD_TSA_TIMEOUT_MS')
      : tsa.timeout_ms === undefined
        ? TSA_DEFAULT_TIMEOUT_MS
        : positiveInteger(tsa.timeout_ms, 'tsa.timeout_ms', source);
  const policy = optionalString(tsa, 'policy', source, 'tsa');
  if (policy !== undefined && !/^\d+(\.\d+)+$/.test(policy)) throw configError('tsa.policy', 'expected an OID such as 1.2.3.4', source);
  if (tsa.seal_timestamp !== undefined && typeof tsa.seal_timestamp !== 'boolean') {
    throw configError('tsa.seal_timestamp', 'expected true or false', source);
  }
  const mode = tsa.seal_timestamp_mode ?? 'strict';
  if (mode !== 'strict' && mode !== 'best-effort') throw configError('tsa.seal_timestamp_mode', 'expected strict or best-effort', source);
  return {
    endpoints,
    timeoutMs,
    ...(policy === undefined ? {} : { policy }),
    sealTimestamp: tsa.seal_timestamp === true,
    sealTimestampMode: mode,
  };
}

function endpointsFrom(value: unknown, fromFile: (p: string) => string, source: string, env: NodeJS.ProcessEnv): TsaEndpoint[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw configError('tsa.urls', 'expected a list', source);
  return value.map((item, i) => {
    const key = `tsa.urls[${i}]`;
    if (typeof item === 'string') return endpoint({ url: item }, key, fromFile, source, env);
    if (!isTable(item)) throw configError(key, 'expected a URL or { url, username, password_file | password_env }', source);
    return endpoint(item, key, fromFile, source, env);
  });
}

function endpoint(item: Table, key: string, fromFile: (p: string) => string, source: string, env: NodeJS.ProcessEnv): TsaEndpoint {
  if ('password' in item) throw configError(`${key}.password`, 'use password_file or password_env', source);
  for (const k of Object.keys(item)) {
    if (!['url', 'username', 'password_file', 'password_env'].includes(k)) throw configError(`${key}.${k}`, 'unknown setting', source);
  }
  const url = optionalString(item, 'url', source, key);
  if (url === undefined) throw configError(`${key}.url`, 'required', source);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw configError(`${key}.url`, 'not a valid URL', source);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw configError(`${key}.url`, 'must be http or https', source);
  if (parsed.username !== '' || parsed.password !== '') {
    throw configError(`${key}.url`, 'put credentials in username and password_file/password_env, not in the URL', source);
  }
  const result: TsaEndpoint = { url };
  const username = optionalString(item, 'username', source, key);
  if (username === undefined) return result;
  result.username = username;
  const passwordFile = optionalString(item, 'password_file', source, key);
  const passwordEnv = optionalString(item, 'password_env', source, key);
  if ((passwordFile === undefined) === (passwordEnv === undefined)) {
    throw configError(key, 'with a username, set exactly one of password_file and password_env', source);
  }
  if (passwordFile !== undefined) {
    try {
      result.password = readFileSync(fromFile(passwordFile), 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw configError(`${key}.password_file`, 'cannot read the file', source);
    }
  } else {
    const value = env[passwordEnv!];
    if (value === undefined) throw configError(`${key}.password_env`, `the environment variable ${passwordEnv} is not set`, source);
    result.password = value;
  }
  return result;
}

/**
 * The `ltv` section: an OCSP responder to ask about certificates whose AIA names none (`ocsp_url`; environment
 * SEALD_LTV_OCSP_URL). Certificates' own AIA and CRL distribution points are always used first.
 */
export function ltvFrom(file: Table, envValue: (name: 'SEALD_LTV_OCSP_URL') => string | undefined, source: string): { ocspUrl?: string } {
  const ltv = section(file, 'ltv', source, ['ocsp_url']);
  const url = envValue('SEALD_LTV_OCSP_URL') ?? optionalString(ltv, 'ocsp_url', source, 'ltv');
  if (url === undefined) return {};
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw configError('ltv.ocsp_url', 'not a valid URL', source);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw configError('ltv.ocsp_url', 'must be http or https', source);
  return { ocspUrl: url };
}
