/**
 * One token of a TokenPool: its sessions, login state, keys and health.
 *
 * Everything synchronous (open sessions, log in, find keys) happens in warmUp(). A sign is C_SignInit (synchronous,
 * fast) then the callback form of C_Sign, which pkcs11js runs on the libuv thread pool — the event loop never waits
 * on the token. PKCS#11 allows one active operation per session (v2.40 §5.2, CKR_OPERATION_ACTIVE), so each sign
 * leases a whole session from a small pool, with a FIFO queue when all are busy. A session goes back to the pool
 * only when its C_Sign has completed, even when the caller gave up earlier; and sessions are closed only once no
 * sign runs on them (closing a session under an async sign crashed SoftHSM — NOTES.md).
 */
import graphene from 'graphene-pk11';
import pkcs11js from 'pkcs11js';
import type { Logger } from 'pino';
import { SealdError } from '../errors.ts';
import { sha256DigestInfo } from '../crypto/digest-info.ts';
import { ecdsaRawToDer } from '../crypto/ecdsa-signature.ts';
import { defaultSessionCount, describePinSource, resolvePin, type TokenConfig } from './config.ts';
import type { ModuleLease } from './module-registry.ts';
import { ckrOf, DEVICE_FAULTS, LOGIN_FAULTS, PIN_FAULTS, SESSION_FAULTS } from './pkcs11-errors.ts';
import { readTokenKeyFacts, type TokenKeyFacts } from './public-key.ts';
import { isPinRejected, markPinRejected } from './rejected-pins.ts';
import { describeWanted, type FoundToken } from './slots.ts';

export type TokenState = 'ready' | 'quarantined' | 'down';

export interface TokenStatus {
  label: string;
  serial: string;
  state: TokenState;
  reason?: string;
  sessions: number;
  busy: number;
}

interface TokenKey {
  label: string;
  handle: Buffer;
  facts: TokenKeyFacts;
}

/** One session of the pool. `pinned` holds the buffers of the running C_Sign (pkcs11js issue #121). */
interface PooledSession {
  session: graphene.Session;
  pinned: Buffer[];
}

interface Waiter {
  grant(slot: PooledSession): void;
  fail(error: SealdError): void;
}

/** The SealdError for an aborted signal: a timeout is a deadline, anything else a cancellation. */
export function abortError(signal: AbortSignal): SealdError {
  const reason: unknown = signal.reason;
  if (reason instanceof SealdError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new SealdError('deadline', 'DEADLINE_EXCEEDED', 'the signing request ran out of time');
  }
  return new SealdError('cancelled', 'CANCELLED', 'the signing request was cancelled');
}

export class PooledToken {
  readonly label: string;
  readonly serial: string;
  state: TokenState = 'ready';
  reason: string | undefined;
  /** False when the token never logged in: its private keys (CKA_PRIVATE) could not be listed. */
  keysKnown = false;

  #pin: string | undefined;
  readonly #sessions: PooledSession[] = [];
  readonly #free: PooledSession[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #keys = new Map<string, TokenKey>();
  #busy = 0;
  #closing = false;
  #onIdle: (() => void) | undefined;

  private constructor(
    private readonly lease: ModuleLease,
    private readonly found: FoundToken | undefined,
    private readonly config: TokenConfig,
    private readonly logger: Logger,
  ) {
    this.label = found?.label ?? config.label ?? '';
    this.serial = found?.serial ?? config.serial ?? '';
  }

  /** Open sessions, log in and list keys (all synchronous PKCS#11 calls). Never throws for token faults: sets state. */
  static warmUp(lease: ModuleLease, found: FoundToken | undefined, config: TokenConfig, logger: Logger): PooledToken {
    const token = new PooledToken(lease, found, config, logger.child({ token: found?.label ?? config.label, serial: found?.serial ?? config.serial }));
    token.#warmUp();
    return token;
  }

  #warmUp(): void {
    if (this.found === undefined) {
      this.#setDown(`no token with ${describeWanted(this.config)} is present in ${this.lease.path}`);
      return;
    }
    try {
      this.#pin = resolvePin(this.config.pin);
    } catch (error) {
      this.#quarantine(`the PIN could not be read: ${(error as Error).message}`);
      return;
    }
    if (isPinRejected(this.lease.path, this.serial, this.#pin)) {
      this.#quarantine('the token already rejected this PIN in this process');
      return;
    }
    const wanted = this.config.sessions ?? defaultSessionCount();
    if (!Number.isInteger(wanted) || wanted < 1) {
      throw new SealdError('invalid-input', 'BAD_SESSION_COUNT', `sessions must be a positive integer, got ${wanted}`);
    }
    for (let i = 0; i < wanted; i++) {
      try {
        this.#sessions.push({ session: this.found.slot.open(graphene.SessionFlag.SERIAL_SESSION), pinned: [] });
      } catch (error) {
        const ckr = ckrOf(error);
        if (this.#sessions.length === 0 || (ckr !== undefined && DEVICE_FAULTS.has(ckr))) {
          this.#setDown(`C_OpenSession failed: ${ckr ?? (error as Error).message}`);
          this.#closeSessions();
          return;
        }
        this.logger.warn({ ckr, opened: this.#sessions.length, wanted }, 'token refused more sessions; continuing with fewer');
        break;
      }
    }
    this.#free.push(...this.#sessions);
    if (!this.#login(this.#sessions[0]!.session)) {
      this.#closeSessions();
      return;
    }
    try {
      this.#discoverKeys(this.#sessions[0]!.session);
    } catch (error) {
      this.#setDown(`listing keys failed: ${ckrOf(error) ?? (error as Error).message}`);
      return;
    }
    this.logger.info(
      { sessions: this.#sessions.length, keys: [...this.#keys.values()].map((k) => `${k.label} (${k.facts.type})`) },
      'token ready',
    );
  }

  /**
   * C_Login as CKU_USER. Login is per token per process (PKCS#11 v2.40 §5.6): CKR_USER_ALREADY_LOGGED_IN is success.
   * A PIN fault quarantines the token and the PIN is never presented again in this process.
   */
  #login(session: graphene.Session): boolean {
    try {
      session.login(this.#pin!, graphene.UserType.USER);
      return true;
    } catch (error) {
      const ckr = ckrOf(error);
      if (ckr === 'CKR_USER_ALREADY_LOGGED_IN') return true;
      if (ckr !== undefined && PIN_FAULTS.has(ckr)) {
        markPinRejected(this.lease.path, this.serial, this.#pin!);
        this.#quarantine(`the token refused the PIN from ${describePinSource(this.config.pin)} (${ckr})`);
      } else {
        this.#setDown(`C_Login failed: ${ckr ?? (error as Error).message}`);
      }
      return false;
    }
  }

  /** Index private keys by CKA_LABEL. Handles change after a re-login (SoftHSM drops private handles on logout). */
  #discoverKeys(session: graphene.Session): void {
    const found = session.find({ class: graphene.ObjectClass.PRIVATE_KEY });
    const keys = new Map<string, TokenKey>();
    for (let i = 0; i < found.length; i++) {
      const object = found.items(i);
      const label = (object.getAttribute(pkcs11js.CKA_LABEL) as Buffer).toString('utf8');
      const facts = readTokenKeyFacts(session, object);
      if (facts === undefined) {
        this.logger.debug({ key: label }, 'ignoring private key that is neither RSA nor EC');
        continue;
      }
      if (keys.has(label)) {
        this.logger.warn({ key: label }, 'two private keys share a label on this token; using the first');
        continue;
      }
      keys.set(label, { label, handle: object.handle, facts });
    }
    this.#keys.clear();
    for (const [label, key] of keys) this.#keys.set(label, key);
    this.keysKnown = true;
  }

  #quarantine(reason: string): void {
    this.state = 'quarantined';
    this.reason = reason;
    this.#pin = undefined;
    // Error level, and never the PIN: only where it came from.
    this.logger.error({ reason }, 'token quarantined: fix the PIN in the configuration and restart');
    this.#failWaiters();
  }

  #setDown(reason: string): void {
    this.state = 'down';
    this.reason = reason;
    this.logger.error({ reason }, 'token down');
    this.#failWaiters();
  }

  unavailableError(): SealdError {
    const who = `token "${this.label}"${this.serial ? ` (serial ${this.serial})` : ''}`;
    if (this.state === 'quarantined') {
      return new SealdError(
        'unavailable',
        'TOKEN_QUARANTINED',
        `${who} is quarantined: ${this.reason}. Fix the PIN in the configuration and restart seald; a refused PIN is not retried in this process`,
      );
    }
    if (this.#closing) return new SealdError('unavailable', 'POOL_CLOSED', `${who} is closing`);
    return new SealdError('unavailable', 'TOKEN_DOWN', `${who} is down: ${this.reason}`);
  }

  hasKey(label: string): boolean {
    return this.#keys.has(label);
  }

  keyFacts(label: string): TokenKeyFacts | undefined {
    return this.#keys.get(label)?.facts;
  }

  /** Signs waiting or running per session: lower is better when choosing among tokens. */
  pressure(): number {
    return (this.#busy + this.#waiters.length) / Math.max(1, this.#sessions.length);
  }

  status(): TokenStatus {
    const status: TokenStatus = { label: this.label, serial: this.serial, state: this.state, sessions: this.#sessions.length, busy: this.#busy };
    if (this.reason !== undefined) status.reason = this.reason;
    return status;
  }

  /** Sign a SHA-256 digest with the key labelled `keyLabel`. Returns what CMS wants (RSA octets, ECDSA DER). */
  async sign(keyLabel: string, digest: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    if (this.state !== 'ready' || this.#closing) throw this.unavailableError();
    if (signal?.aborted) throw abortError(signal);
    const key = this.#keys.get(keyLabel);
    if (key === undefined) {
      throw new SealdError('not-found', 'KEY_NOT_FOUND', `token "${this.label}" holds no private key labelled "${keyLabel}"`);
    }
    // RSA: CKM_RSA_PKCS over the DigestInfo (RFC 8017 §9.2); ECDSA: CKM_ECDSA over the bare digest.
    const input = key.facts.type === 'RSA' ? sha256DigestInfo(digest) : new Uint8Array(digest);
    const slot = await this.#acquire(signal);
    if (signal?.aborted) {
      // Aborted between the grant and now: nothing has reached the token yet.
      this.#release(slot);
      throw abortError(signal);
    }
    const work = this.#signOnSession(slot, keyLabel, input).finally(() => this.#release(slot));
    if (signal === undefined) return work;
    return new Promise<Uint8Array>((resolve, reject) => {
      // The caller hears of an abort at once; the session returns to the pool when C_Sign completes (in `work`).
      const onAbort = () => reject(abortError(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (signature) => {
          signal.removeEventListener('abort', onAbort);
          resolve(signature);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  #acquire(signal?: AbortSignal): Promise<PooledSession> {
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

  #release(slot: PooledSession): void {
    this.#busy--;
    const next = this.state === 'ready' ? this.#waiters.shift() : undefined;
    if (next !== undefined) next.grant(slot);
    else this.#free.push(slot);
    if (this.#busy === 0 && this.#waiters.length === 0) this.#onIdle?.();
  }

  #failWaiters(): void {
    const error = this.unavailableError();
    for (const waiter of this.#waiters.splice(0)) waiter.fail(error);
    if (this.#busy === 0) this.#onIdle?.();
  }

  async #signOnSession(slot: PooledSession, keyLabel: string, input: Uint8Array): Promise<Uint8Array> {
    let reopened = false;
    let reloggedIn = false;
    for (;;) {
      if (this.state !== 'ready') throw this.unavailableError();
      const key = this.#keys.get(keyLabel);
      if (key === undefined) {
        throw new SealdError('not-found', 'KEY_NOT_FOUND', `token "${this.label}" no longer holds a private key labelled "${keyLabel}"`);
      }
      try {
        const raw = await this.#signOnce(slot, key, input);
        return key.facts.type === 'EC' ? ecdsaRawToDer(raw) : raw;
      } catch (error) {
        if (error instanceof SealdError) throw error;
        const ckr = ckrOf(error);
        if (ckr !== undefined && SESSION_FAULTS.has(ckr) && !reopened) {
          reopened = true;
          this.logger.warn({ ckr }, 'session lost; reopening it and retrying the sign once');
          this.#reopen(slot);
          continue;
        }
        if (ckr !== undefined && LOGIN_FAULTS.has(ckr) && !reloggedIn) {
          reloggedIn = true;
          this.logger.warn({ ckr }, 'token logged out; logging in again and retrying the sign once');
          if (!this.#login(slot.session)) throw this.unavailableError();
          this.#guard(() => this.#discoverKeys(slot.session));
          continue;
        }
        throw this.#fault(ckr, error);
      }
    }
  }

  /** C_SignInit (synchronous) then C_Sign on the libuv thread pool. */
  async #signOnce(slot: PooledSession, key: TokenKey, input: Uint8Array): Promise<Uint8Array> {
    const data = Buffer.from(input);
    const out = Buffer.alloc(key.facts.signatureLength);
    const mechanism: pkcs11js.Mechanism = { mechanism: key.facts.type === 'RSA' ? pkcs11js.CKM_RSA_PKCS : pkcs11js.CKM_ECDSA };
    this.lease.lib.C_SignInit(slot.session.handle, mechanism, key.handle);
    return new Promise<Uint8Array>((resolve, reject) => {
      // pkcs11js #121: the worker thread reads `data` and writes `out` after this frame returns; keep both reachable.
      slot.pinned = [data, out];
      this.lease.lib.C_Sign(slot.session.handle, data, out, (error, signature) => {
        slot.pinned = [];
        if (error) reject(error);
        else resolve(new Uint8Array(signature));
      });
    });
  }

  /** Replace a session the token no longer knows (no operation can be running on it: its call has returned). */
  #reopen(slot: PooledSession): void {
    try {
      slot.session.close();
    } catch {
      // Already gone: that is why it is being replaced.
    }
    this.#guard(() => {
      slot.session = this.found!.slot.open(graphene.SessionFlag.SERIAL_SESSION);
    });
  }

  /** Run a synchronous PKCS#11 call of the recovery path, turning its failure into the token's state. */
  #guard(call: () => void): void {
    try {
      call();
    } catch (error) {
      throw this.#fault(ckrOf(error), error);
    }
  }

  #fault(ckr: string | undefined, error: unknown): SealdError {
    if (ckr !== undefined && DEVICE_FAULTS.has(ckr)) {
      this.#setDown(`${ckr} during signing`);
      return this.unavailableError();
    }
    if (ckr !== undefined && PIN_FAULTS.has(ckr)) return this.unavailableError();
    this.logger.error({ ckr, err: ckr === undefined ? error : undefined }, 'sign failed');
    return new SealdError('unavailable', 'SIGN_FAILED', `token "${this.label}" failed to sign: ${ckr ?? (error as Error).message}`, {
      cause: error,
    });
  }

  /** Wait until no sign runs or waits, then close every session (never under a running C_Sign). */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#busy > 0 || this.#waiters.length > 0) {
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
      });
    }
    // Let the last signs' callers receive their results (promise reactions) before the sessions go.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#closeSessions();
  }

  #closeSessions(): void {
    for (const slot of this.#sessions.splice(0)) {
      try {
        slot.session.close();
      } catch (error) {
        this.logger.debug({ ckr: ckrOf(error) }, 'C_CloseSession failed');
      }
    }
    this.#free.length = 0;
  }
}
