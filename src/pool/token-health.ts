/**
 * What a token reports of its health (TokenStatus), and the timers that watch it: the keep-alive probe's interval and
 * the exponential back-off between recovery probes of a token that is down.
 */
import type { PoolHealthConfig } from './config.ts';
import type { FaultClass } from './pkcs11-errors.ts';

export type TokenState = 'ready' | 'quarantined' | 'down';

/** Told of every signature a token made or failed: its outcome and how long the token took (session wait excluded). */
export type SignObserver = (token: { label: string; serial: string }, outcome: 'ok' | 'error', seconds: number) => void;

export interface TokenStatus {
  label: string;
  serial: string;
  /** Path of the PKCS#11 module holding the token. */
  module: string;
  state: TokenState;
  reason?: string;
  sessions: number;
  busy: number;
  /** Labels of the private keys found at the last login. */
  keys: string[];
  /** Faults seen, by class: session, login, device, pin, other. */
  faults: Record<FaultClass, number>;
  /** Times the token came back after being down. */
  recoveries: number;
}

/** Timers of the health probes, in milliseconds. */
export interface TokenTiming {
  keepAliveMs: number;
  retryMinMs: number;
  retryMaxMs: number;
}

export function tokenTiming(health: PoolHealthConfig = {}): TokenTiming {
  const ms = (seconds: number | undefined, fallback: number): number => Math.max(1, Math.round((seconds ?? fallback) * 1000));
  return {
    keepAliveMs: ms(health.keepAliveSeconds, 30),
    retryMinMs: ms(health.retryMinSeconds, 1),
    retryMaxMs: ms(health.retryMaxSeconds, 60),
  };
}

// PKCS#11 v2.40 §5.6, CK_SESSION_INFO.state: sessions in these states see no private objects (not logged in).
const CKS_RO_PUBLIC_SESSION = 0;
const CKS_RW_PUBLIC_SESSION = 2;

/** True when a session's CK_SESSION_INFO.state says the token is no longer logged in. */
export function isLoggedOutState(state: number): boolean {
  return state === CKS_RO_PUBLIC_SESSION || state === CKS_RW_PUBLIC_SESSION;
}

/** Waits between recovery probes: from retryMinMs, doubling up to retryMaxMs, back to the start on recovery. */
export class RecoveryBackoff {
  #ms: number;

  constructor(private readonly timing: TokenTiming) {
    this.#ms = timing.retryMinMs;
  }

  /** The wait before the next probe. */
  get ms(): number {
    return this.#ms;
  }

  /** Take the wait for this probe and double the next one. */
  next(): number {
    const wait = this.#ms;
    this.#ms = Math.min(this.timing.retryMaxMs, this.#ms * 2);
    return wait;
  }

  reset(): void {
    this.#ms = this.timing.retryMinMs;
  }
}
