/**
 * An RFC 3161 client over HTTP (RFC 3161 §3.4: POST application/timestamp-query, answer application/timestamp-reply)
 * for a list of TSAs: each request goes to the first healthy TSA, and on failure (down, slow past the timeout, a
 * wrong or refused answer) to the next; a TSA that failed is tried last for a cool-down period. Every answer is
 * checked (src/crypto/timestamp-token.ts) before anyone uses it.
 *
 * The client also knows how large the tokens of its TSAs are, measured on real tokens, so a signature's /Contents
 * can be sized for the token before the token exists.
 */
import { SealdError } from '../errors.ts';
import { checkTimestampResponse, timestampRequest, type TimestampToken } from './timestamp-token.ts';

export interface TsaEndpoint {
  url: string;
  /** HTTP basic authentication, when the TSA requires it. */
  username?: string;
  password?: string;
}

export type TsaOutcome = 'ok' | 'error' | 'timeout';

/** Told about every request to a TSA: the metrics hook. `url` never carries credentials. */
export type TsaObserver = (url: string, outcome: TsaOutcome, seconds: number, code: string | undefined) => void;

export interface TsaClientOptions {
  endpoints: readonly TsaEndpoint[];
  /** Time allowed to one TSA for one answer. */
  timeoutMs: number;
  /** Policy OID to request and require, if the deployment mandates one. */
  policy?: string;
  /** How long a TSA that failed stays at the back of the list. */
  coolDownMs?: number;
  observer?: TsaObserver;
}

/** Largest answer accepted from a TSA: tokens with a full chain are a few KB. */
const MAX_RESPONSE_BYTES = 256 * 1024;
/**
 * Slack added to the largest token measured: serial numbers grow, genTime may gain fraction digits, and a failover TSA
 * not measured yet may be somewhat larger (a much larger one costs one more signature: see the engine).
 */
export const TOKEN_SIZE_MARGIN = 64;

export class TsaClient {
  readonly #endpoints: readonly TsaEndpoint[];
  readonly #options: TsaClientOptions;
  readonly #failedAt = new Map<string, number>();
  #largestToken = 0;

  constructor(options: TsaClientOptions) {
    if (options.endpoints.length === 0) {
      throw new SealdError('precondition', 'TSA_NOT_CONFIGURED', 'no time-stamping authority is configured (tsa.urls / SEALD_TSA_URLS)');
    }
    for (const endpoint of options.endpoints) {
      const url = new URL(endpoint.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new SealdError('invalid-input', 'BAD_TSA_URL', `TSA URL ${displayUrl(endpoint.url)} is not http(s)`);
      }
    }
    this.#endpoints = options.endpoints;
    this.#options = options;
  }

  /** The TSA URLs, without credentials. */
  get urls(): string[] {
    return this.#endpoints.map((e) => displayUrl(e.url));
  }

  /** Time-stamps a SHA-256 imprint, trying the TSAs in turn. */
  async timestamp(imprint: Uint8Array, signal?: AbortSignal): Promise<TimestampToken> {
    const failures: string[] = [];
    let allTimeouts = true;
    for (const endpoint of this.#ordered()) {
      if (signal?.aborted) throw abortError(signal);
      const started = performance.now();
      try {
        const token = await this.#ask(endpoint, imprint, signal);
        this.#failedAt.delete(endpoint.url);
        this.#largestToken = Math.max(this.#largestToken, token.der.length);
        this.#observe(endpoint, 'ok', started, undefined);
        return token;
      } catch (error) {
        if (signal?.aborted) throw abortError(signal);
        const failure = asSealdError(error, endpoint);
        const timedOut = failure.category === 'deadline';
        allTimeouts &&= timedOut;
        this.#failedAt.set(endpoint.url, Date.now());
        this.#observe(endpoint, timedOut ? 'timeout' : 'error', started, failure.code);
        failures.push(`${displayUrl(endpoint.url)}: ${failure.message}`);
      }
    }
    const summary = `no time-stamping authority gave a usable answer (${failures.join('; ')})`;
    throw allTimeouts
      ? new SealdError('deadline', 'TSA_TIMEOUT', summary)
      : new SealdError('unavailable', 'TSA_UNAVAILABLE', summary);
  }

  /**
   * An upper bound of the DER size of a token from these TSAs: the largest measured so far plus a margin; when none
   * has been measured yet, one real token (for a throw-away imprint) is fetched first.
   */
  async tokenSizeBound(signal?: AbortSignal): Promise<number> {
    if (this.#largestToken === 0) {
      await this.timestamp(new Uint8Array(32), signal);
    }
    return this.#largestToken + TOKEN_SIZE_MARGIN;
  }

  /** Records a token larger than expected (seen by a caller whose reservation it overflowed). */
  noteTokenSize(bytes: number): void {
    this.#largestToken = Math.max(this.#largestToken, bytes);
  }

  /** Configured order, except that TSAs which failed within the cool-down go last. */
  #ordered(): TsaEndpoint[] {
    const coolDown = this.#options.coolDownMs ?? 30_000;
    const now = Date.now();
    const cooling = (e: TsaEndpoint): boolean => now - (this.#failedAt.get(e.url) ?? -Infinity) < coolDown;
    return [...this.#endpoints.filter((e) => !cooling(e)), ...this.#endpoints.filter(cooling)];
  }

  async #ask(endpoint: TsaEndpoint, imprint: Uint8Array, signal: AbortSignal | undefined): Promise<TimestampToken> {
    const request = timestampRequest(imprint, this.#options.policy);
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    const headers: Record<string, string> = { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' };
    if (endpoint.username !== undefined) {
      headers.authorization = 'Basic ' + Buffer.from(`${endpoint.username}:${endpoint.password ?? ''}`).toString('base64');
    }
    let body: Uint8Array;
    try {
      const response = await fetch(endpoint.url, { method: 'POST', headers, body: Buffer.from(request.der), signal: combined, redirect: 'error' });
      if (response.status === 401 || response.status === 403) {
        throw new SealdError('unavailable', 'TSA_AUTH_FAILED', `the TSA refused our credentials (HTTP ${response.status})`);
      }
      if (!response.ok) throw new SealdError('unavailable', 'TSA_HTTP_ERROR', `the TSA answered HTTP ${response.status}`);
      body = await readLimited(response, MAX_RESPONSE_BYTES);
    } catch (error) {
      if (timeout.aborted && !signal?.aborted) {
        throw new SealdError('deadline', 'TSA_TIMEOUT', `no answer within ${this.#options.timeoutMs} ms`);
      }
      throw error;
    }
    return checkTimestampResponse(body, { request, policy: this.#options.policy });
  }

  #observe(endpoint: TsaEndpoint, outcome: TsaOutcome, started: number, code: string | undefined): void {
    this.#options.observer?.(displayUrl(endpoint.url), outcome, (performance.now() - started) / 1000, code);
  }
}

async function readLimited(response: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > limit) throw new SealdError('unavailable', 'TSA_BAD_RESPONSE', `the TSA's answer is too large (${declared} bytes)`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > limit) throw new SealdError('unavailable', 'TSA_BAD_RESPONSE', `the TSA's answer is too large (${bytes.length} bytes)`);
  return bytes;
}

function asSealdError(error: unknown, endpoint: TsaEndpoint): SealdError {
  if (error instanceof SealdError) return error;
  // fetch reports network failures as TypeError('fetch failed') with the system error as its cause.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
  return new SealdError('unavailable', 'TSA_UNREACHABLE', `cannot reach ${displayUrl(endpoint.url)} (${detail})`);
}

function abortError(signal: AbortSignal): SealdError {
  const reason: unknown = signal.reason;
  if (reason instanceof SealdError) return reason;
  return new SealdError('cancelled', 'CANCELLED', 'the time-stamp request was cancelled');
}

/** The URL as it may appear in logs, metrics and errors: no user name or password. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
