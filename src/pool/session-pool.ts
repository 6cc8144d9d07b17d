/**
 * The sessions of one token, leased whole to one signature at a time.
 *
 * PKCS#11 allows one active operation per session (v2.40 §5.2, CKR_OPERATION_ACTIVE), so each sign leases a whole
 * session, with a FIFO queue when all are busy. A session goes back only when its C_Sign has completed, even when the
 * caller gave up earlier; and sessions are closed only once no sign runs on them (closing a session under an async
 * sign crashed SoftHSM — NOTES.md). The token (token.ts) decides when a lease may be handed on and when waiters fail.
 */
import type graphene from 'graphene-pk11';
import type { Logger } from 'pino';
import type { SealdError } from '../errors.ts';
import { abortError } from './abort.ts';
import { ckrOf } from './pkcs11-errors.ts';

/** One session of the pool. */
export interface PooledSession {
  session: graphene.Session;
}

interface Waiter {
  grant(slot: PooledSession): void;
  fail(error: SealdError): void;
}

export class SessionPool {
  readonly #sessions: PooledSession[] = [];
  readonly #free: PooledSession[] = [];
  readonly #waiters: Waiter[] = [];
  #busy = 0;
  #onIdle: (() => void) | undefined;

  /** Sessions open. */
  get size(): number {
    return this.#sessions.length;
  }

  /** Sessions leased to a running sign. */
  get busy(): number {
    return this.#busy;
  }

  /** Signs waiting for a session. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** The first session opened (login and key listing run on it), if any. */
  get first(): PooledSession | undefined {
    return this.#sessions[0];
  }

  /** The idle sessions, as a copy (the keep-alive probe may replace a session while walking them). */
  idle(): PooledSession[] {
    return [...this.#free];
  }

  /** Add a newly opened session, free at once. */
  add(session: graphene.Session): void {
    const slot = { session };
    this.#sessions.push(slot);
    this.#free.push(slot);
  }

  /** Signs waiting or running per session: lower is better when choosing among tokens. */
  pressure(): number {
    return (this.#busy + this.#waiters.length) / Math.max(1, this.#sessions.length);
  }

  /** A free session now, or the first one released after the waiters ahead of this one; rejects when `signal` aborts. */
  acquire(signal?: AbortSignal): Promise<PooledSession> {
    const free = this.#free.pop();
    if (free !== undefined) {
      this.#busy++;
      return Promise.resolve(free);
    }
    return new Promise<PooledSession>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(abortError(signal!));
      };
      const waiter: Waiter = {
        grant: (slot) => {
          signal?.removeEventListener('abort', onAbort);
          this.#busy++;
          resolve(slot);
        },
        fail: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Return a leased session: to the next waiter when `handOn` (the token is ready), else to the free list. */
  release(slot: PooledSession, handOn: boolean): void {
    this.#busy--;
    const next = handOn ? this.#waiters.shift() : undefined;
    if (next !== undefined) next.grant(slot);
    else this.#free.push(slot);
    if (this.#busy === 0 && this.#waiters.length === 0) this.#onIdle?.();
  }

  /** Reject every waiting sign with `error` (the token went down or was quarantined). */
  failWaiters(error: SealdError): void {
    for (const waiter of this.#waiters.splice(0)) waiter.fail(error);
    if (this.#busy === 0) this.#onIdle?.();
  }

  /** Resolves once no sign runs or waits. */
  async whenIdle(): Promise<void> {
    if (this.#busy > 0 || this.#waiters.length > 0) {
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
      });
    }
  }

  /** Close every session (the caller makes sure no C_Sign runs on any). */
  closeAll(logger: Logger): void {
    for (const slot of this.#sessions.splice(0)) {
      try {
        slot.session.close();
      } catch (error) {
        logger.debug({ ckr: ckrOf(error) }, 'C_CloseSession failed');
      }
    }
    this.#free.length = 0;
  }
}
