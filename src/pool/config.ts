/** Configuration of the PKCS#11 pool, as the config loader hands it over (paths already resolved). */
import { readFileSync } from 'node:fs';
import { SealdError } from '../errors.ts';

/** Where a token's user PIN comes from. Exactly one of the three. The PIN itself never reaches a log or an error. */
export interface PinSource {
  value?: string;
  /** A file holding the PIN; surrounding whitespace (a trailing newline) is trimmed. */
  file?: string;
  /** Name of an environment variable holding the PIN. */
  env?: string;
}

export interface TokenConfig {
  /** CKA token label (CK_TOKEN_INFO.label, trailing blanks ignored). */
  label?: string;
  /** CK_TOKEN_INFO.serialNumber; with a label, both must match. */
  serial?: string;
  pin: PinSource;
  /**
   * Sessions kept open for signing (one operation per session at a time). Default: min(4, UV_THREADPOOL_SIZE or 4,
   * the token's own session limit).
   */
  sessions?: number;
}

/** How the pool watches its tokens (seconds). */
export interface PoolHealthConfig {
  /**
   * Longest wait for one PKCS#11 call on the module's thread (module-thread.ts). A call that takes longer fails the
   * token (a device fault), and the module's thread is replaced at recovery. Default 10.
   */
  callTimeoutSeconds?: number;
  /** Interval of the keep-alive probe (C_GetSessionInfo on idle sessions). Default 30. */
  keepAliveSeconds?: number;
  /** First wait before probing a token that went down; doubles on each failed probe. Default 1. */
  retryMinSeconds?: number;
  /** Longest wait between probes of a down token. Default 60. */
  retryMaxSeconds?: number;
}

export interface Pkcs11Config {
  /** Path of the PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so). */
  module: string;
  /**
   * Environment variables set before the module is first initialised in this process (e.g. SOFTHSM2_CONF).
   * Extension of the base API; the module reads them in C_Initialize, so they cannot change while it is in use.
   */
  env?: Record<string, string>;
  tokens: TokenConfig[];
  health?: PoolHealthConfig;
}

/**
 * Default session count: libuv runs async PKCS#11 calls on its thread pool (UV_THREADPOOL_SIZE, default 4), so
 * more sessions than threads only queue inside libuv, and more threads than cores slowed SoftHSM (NOTES.md).
 * `tokenMax` is CK_TOKEN_INFO.ulMaxSessionCount; CK_EFFECTIVELY_INFINITE (0) and CK_UNAVAILABLE_INFORMATION (~0)
 * mean no limit (PKCS#11 v2.40 §3.2).
 */
export function defaultSessionCount(tokenMax?: number): number {
  const threads = Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10);
  const byThreads = Math.min(4, Number.isInteger(threads) && threads > 0 ? threads : 4);
  const limited = tokenMax !== undefined && tokenMax > 0 && tokenMax < 0xffffffff;
  return limited ? Math.max(1, Math.min(byThreads, tokenMax)) : byThreads;
}

/** Human description of a PIN source that is safe to log (never the PIN). */
export function describePinSource(source: PinSource): string {
  if (source.file !== undefined) return `file ${source.file}`;
  if (source.env !== undefined) return `environment variable ${source.env}`;
  if (source.value !== undefined) return 'inline value';
  return 'nothing';
}

/** Read the PIN. Throws SealdError('precondition', 'PIN_UNAVAILABLE') with a message that never contains the PIN. */
export function resolvePin(source: PinSource): string {
  const given = [source.value, source.file, source.env].filter((x) => x !== undefined).length;
  if (given !== 1) {
    throw new SealdError('precondition', 'PIN_UNAVAILABLE', 'a token PIN needs exactly one of value, file or env');
  }
  let pin: string | undefined;
  if (source.file !== undefined) {
    try {
      pin = readFileSync(source.file, 'utf8').trim();
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? 'error';
      throw new SealdError('precondition', 'PIN_UNAVAILABLE', `cannot read the PIN file ${source.file} (${code})`);
    }
  } else if (source.env !== undefined) {
    pin = process.env[source.env];
    if (pin === undefined) {
      throw new SealdError('precondition', 'PIN_UNAVAILABLE', `environment variable ${source.env} (the token PIN) is not set`);
    }
  } else {
    pin = source.value;
  }
  if (pin === undefined || pin.length === 0) {
    throw new SealdError('precondition', 'PIN_UNAVAILABLE', `the PIN from ${describePinSource(source)} is empty`);
  }
  return pin;
}
