/**
 * One token of a TokenPool: its sessions, login state, keys and health.
 *
 * Longer than 400 lines because the token's state machine, its session leases and the sign path share one set of
 * invariants (a session returns only after its C_Sign, closes only when idle, a fault changes state once); split, each
 * part would have to re-establish them. Splitting the session lease out is the next step (issue "One house").
 *
 * Everything synchronous (open sessions, log in, find keys) happens in warmUp(). A sign is C_SignInit (synchronous,
 * fast) then the callback form of C_Sign, which pkcs11js runs on the libuv thread pool — the event loop never waits
 * on the token. PKCS#11 allows one active operation per session (v2.40 §5.2, CKR_OPERATION_ACTIVE), so each sign
 * leases a whole session from a small pool, with a FIFO queue when all are busy. A session goes back to the pool
 * only when its C_Sign has completed, even when the caller gave up earlier; and sessions are closed only once no
 * sign runs on them (closing a session under an async sign crashed SoftHSM — NOTES.md).
 *
 * Faults (pkcs11-errors.ts): a lost session is reopened; a logged-out token logs in again (once per sign); a device
 * fault marks the token down, and a probe with exponential back-off brings it back once no sign runs on it (close
 * every session, find the token again, open, log in, list keys); a refused PIN quarantines the token for good. A
 * keep-alive probe (C_GetSessionInfo on idle sessions) finds lost sessions and lost logins before a request does.
 *
 * Signature activation (activation.ts): a key with CKA_ALWAYS_AUTHENTICATE signs as C_SignInit → C_Login(
 * CKU_CONTEXT_SPECIFIC, the caller's PIN) → C_Sign on one leased session. The caller's PIN is not the token's PIN: a
 * refused context login never quarantines the token and is never retried (not here, not on a replica); nothing of an
 * activated signature outlives it (the token itself drops the context login after the one C_Sign).
 */
import graphene from 'graphene-pk11';
import pkcs11js from 'pkcs11js';
import type { Logger } from 'pino';
import { SealdError } from '../errors.ts';
import { sha256DigestInfo } from '../crypto/digest-info.ts';
import { ecdsaRawToDer } from '../crypto/ecdsa-signature.ts';
import { defaultSessionCount, describePinSource, resolvePin, type PoolHealthConfig, type TokenConfig } from './config.ts';
import type { ModuleLease } from './module-registry.ts';
import { activationRefused, CKU_CONTEXT_SPECIFIC, type PinState, type SignatureActivation } from './activation.ts';
import { ckrOf, DEVICE_FAULTS, LOGIN_FAULTS, PIN_FAULTS, SESSION_FAULTS } from './pkcs11-errors.ts';
import { readTokenKeyFacts, type TokenKeyFacts } from './public-key.ts';
import { isPinRejected, markPinRejected } from './rejected-pins.ts';
import { describeWanted, listTokens, matchTokens, type FoundToken } from './slots.ts';

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

export type FaultClass = 'session' | 'login' | 'device' | 'pin' | 'other';

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

function classify(ckr: string | undefined): FaultClass {
  if (ckr === undefined) return 'other';
  if (SESSION_FAULTS.has(ckr)) return 'session';
  if (LOGIN_FAULTS.has(ckr)) return 'login';
  if (DEVICE_FAULTS.has(ckr)) return 'device';
  if (PIN_FAULTS.has(ckr)) return 'pin';
  return 'other';
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
  #found: FoundToken | undefined;
  readonly #faults: Record<FaultClass, number> = { session: 0, login: 0, device: 0, pin: 0, other: 0 };
  #recoveries = 0;
  #keepAlive: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #retryMs: number;
  readonly #sessions: PooledSession[] = [];
  readonly #free: PooledSession[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #keys = new Map<string, TokenKey>();
  #busy = 0;
  #closing = false;
  #onIdle: (() => void) | undefined;
  #signObserver: SignObserver | undefined;

  private constructor(
    private readonly lease: ModuleLease,
    found: FoundToken | undefined,
    private readonly config: TokenConfig,
    private readonly timing: TokenTiming,
    private readonly logger: Logger,
  ) {
    this.#found = found;
    this.label = found?.label ?? config.label ?? '';
    this.serial = found?.serial ?? config.serial ?? '';
    this.#retryMs = timing.retryMinMs;
  }

  /** Open sessions, log in and list keys (all synchronous PKCS#11 calls). Never throws for token faults: sets state. */
  static warmUp(
    lease: ModuleLease,
    found: FoundToken | undefined,
    config: TokenConfig,
    logger: Logger,
    timing: TokenTiming = tokenTiming(),
  ): PooledToken {
    const token = new PooledToken(lease, found, config, timing, logger.child({ token: found?.label ?? config.label, serial: found?.serial ?? config.serial }));
    token.#warmUp();
    token.#keepAlive = setInterval(() => token.#probeSessions(), timing.keepAliveMs);
    token.#keepAlive.unref();
    return token;
  }

  #warmUp(): void {
    const wanted = this.config.sessions;
    if (wanted !== undefined && (!Number.isInteger(wanted) || wanted < 1)) {
      throw new SealdError('invalid-input', 'BAD_SESSION_COUNT', `sessions must be a positive integer, got ${wanted}`);
    }
    if (this.#found === undefined) {
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
    if (this.#connect(this.#found)) {
      this.logger.info(
        { sessions: this.#sessions.length, keys: [...this.#keys.values()].map((k) => `${k.label} (${k.facts.type})`) },
        'token ready',
      );
    }
  }

  /**
   * Open the sessions, log in, list the keys. On failure the token is down or quarantined, with no session left open,
   * and false is returned.
   */
  #connect(found: FoundToken): boolean {
    let wanted = this.config.sessions;
    if (wanted === undefined) {
      let tokenMax: number | undefined;
      try {
        tokenMax = found.slot.getToken().maxSessionCount;
      } catch {
        // Token info unavailable: size by the thread pool alone.
      }
      wanted = defaultSessionCount(tokenMax);
    }
    for (let i = 0; i < wanted; i++) {
      try {
        this.#sessions.push({ session: found.slot.open(graphene.SessionFlag.SERIAL_SESSION), pinned: [] });
      } catch (error) {
        const ckr = ckrOf(error);
        if (this.#sessions.length === 0 || (ckr !== undefined && DEVICE_FAULTS.has(ckr))) {
          this.#count(ckr);
          this.#closeSessions();
          this.#setDown(`C_OpenSession failed: ${ckr ?? (error as Error).message}`);
          return false;
        }
        this.logger.warn({ ckr, opened: this.#sessions.length, wanted }, 'token refused more sessions; continuing with fewer');
        break;
      }
    }
    this.#free.push(...this.#sessions);
    if (!this.#login(this.#sessions[0]!.session)) {
      this.#closeSessions();
      return false;
    }
    try {
      this.#discoverKeys(this.#sessions[0]!.session);
    } catch (error) {
      this.#count(ckrOf(error));
      this.#closeSessions();
      this.#setDown(`listing keys failed: ${ckrOf(error) ?? (error as Error).message}`);
      return false;
    }
    return true;
  }

  #count(ckr: string | undefined): void {
    this.#faults[classify(ckr)]++;
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
      this.#count(ckr);
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
    const wasDown = this.state === 'down';
    this.state = 'down';
    this.reason = reason;
    if (wasDown) this.logger.warn({ reason, retryMs: this.#retryMs }, 'token still down');
    else this.logger.error({ reason }, 'token down: signs go to replicas; probing it with back-off');
    this.#failWaiters();
    this.#scheduleRecovery();
  }

  #scheduleRecovery(): void {
    if (this.#closing || this.state !== 'down' || this.#retry !== undefined) return;
    const wait = this.#retryMs;
    this.#retryMs = Math.min(this.timing.retryMaxMs, this.#retryMs * 2);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#recover();
    }, wait);
    this.#retry.unref();
  }

  /**
   * Health probe of a down token. Only once no sign runs on it (sessions are closed here, and closing a session under
   * an async sign crashed SoftHSM): close what is left, find the token again (it may be in another slot after a
   * re-insertion, but it must have the same serial), then open, log in and list keys as at warm-up.
   */
  #recover(): void {
    if (this.#closing || this.state !== 'down') return;
    if (this.#busy > 0) {
      this.#scheduleRecovery();
      return;
    }
    this.#closeSessions();
    let found: FoundToken | undefined;
    try {
      found = matchTokens(listTokens(this.lease.module), this.config).find((t) => this.serial === '' || t.serial === this.serial);
    } catch (error) {
      this.#count(ckrOf(error));
    }
    if (found === undefined) {
      this.#setDown(`no token with ${describeWanted(this.config)}${this.serial ? ` and serial ${this.serial}` : ''} is present`);
      return;
    }
    this.#found = found;
    if (this.#pin === undefined) {
      try {
        this.#pin = resolvePin(this.config.pin);
      } catch (error) {
        this.#quarantine(`the PIN could not be read: ${(error as Error).message}`);
        return;
      }
      if (isPinRejected(this.lease.path, found.serial, this.#pin)) {
        this.#quarantine('the token already rejected this PIN in this process');
        return;
      }
    }
    if (!this.#connect(found)) return;
    this.state = 'ready';
    this.reason = undefined;
    this.#retryMs = this.timing.retryMinMs;
    this.#recoveries++;
    this.logger.warn({ sessions: this.#sessions.length, keys: [...this.#keys.keys()] }, 'token recovered: taking signs again');
  }

  /**
   * Keep-alive: ask the token about each idle session (C_GetSessionInfo, synchronous and cheap). A lost session is
   * reopened, a lost login redone, a device fault takes the token down — before a request meets any of them.
   */
  #probeSessions(): void {
    if (this.#closing || this.state !== 'ready') return;
    let loggedOut: PooledSession | undefined;
    for (const slot of [...this.#free]) {
      try {
        const info = this.lease.lib.C_GetSessionInfo(slot.session.handle);
        if (info.state === CKS_RO_PUBLIC_SESSION || info.state === CKS_RW_PUBLIC_SESSION) loggedOut = slot;
      } catch (error) {
        const ckr = ckrOf(error);
        this.#count(ckr);
        if (ckr !== undefined && SESSION_FAULTS.has(ckr)) {
          this.logger.warn({ ckr }, 'keep-alive: session lost; reopening it');
          try {
            this.#reopen(slot);
          } catch {
            return; // #reopen has set the token's state
          }
          continue;
        }
        if (ckr !== undefined && DEVICE_FAULTS.has(ckr)) {
          this.#setDown(`${ckr} in keep-alive probe`);
          return;
        }
        this.logger.warn({ ckr, err: ckr === undefined ? error : undefined }, 'keep-alive probe failed');
      }
    }
    if (loggedOut !== undefined) {
      this.#faults.login++;
      this.logger.warn('keep-alive: token logged out; logging in again');
      if (!this.#login(loggedOut.session)) return;
      try {
        this.#guard(() => this.#discoverKeys(loggedOut.session));
      } catch {
        // #guard has set the token's state.
      }
    }
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

  /** Run a synchronous read on an idle session of a ready token (start-up and reload: token-objects.ts); undefined when none is idle. */
  readOnIdleSession<T>(read: (session: graphene.Session) => T): T | undefined {
    const slot = this.#free[0];
    return slot === undefined || this.state !== 'ready' ? undefined : read(slot.session);
  }

  hasKey(label: string): boolean {
    return this.#keys.has(label);
  }

  keyFacts(label: string): TokenKeyFacts | undefined {
    return this.#keys.get(label)?.facts;
  }

  /** True when the key needs a context login per signature (CKA_ALWAYS_AUTHENTICATE). */
  requiresActivation(label: string): boolean | undefined {
    return this.#keys.get(label)?.facts.alwaysAuthenticate;
  }

  /** Signs waiting or running per session: lower is better when choosing among tokens. */
  pressure(): number {
    return (this.#busy + this.#waiters.length) / Math.max(1, this.#sessions.length);
  }

  /** Report every signature of this token to `observer` (seald_slot_sign_duration_seconds). */
  observeSigns(observer: SignObserver): void {
    this.#signObserver = observer;
  }

  status(): TokenStatus {
    const status: TokenStatus = {
      label: this.label,
      serial: this.serial,
      module: this.lease.path,
      state: this.state,
      sessions: this.#sessions.length,
      busy: this.#busy,
      keys: [...this.#keys.keys()].sort(),
      faults: { ...this.#faults },
      recoveries: this.#recoveries,
    };
    if (this.reason !== undefined) status.reason = this.reason;
    return status;
  }

  /**
   * Sign a SHA-256 digest with the key labelled `keyLabel`. Returns what CMS wants (RSA octets, ECDSA DER).
   * `activation`: the holder's PIN for a key with CKA_ALWAYS_AUTHENTICATE (refused before any token call without it).
   */
  async sign(keyLabel: string, digest: Uint8Array, signal?: AbortSignal, activation?: SignatureActivation): Promise<Uint8Array> {
    if (this.state !== 'ready' || this.#closing) throw this.unavailableError();
    if (signal?.aborted) throw abortError(signal);
    const key = this.#keys.get(keyLabel);
    if (key === undefined) {
      throw new SealdError('not-found', 'KEY_NOT_FOUND', `token "${this.label}" holds no private key labelled "${keyLabel}"`);
    }
    if (key.facts.alwaysAuthenticate && activation === undefined) {
      throw new SealdError('precondition', 'ACTIVATION_REQUIRED', `key "${keyLabel}" signs only with its holder's PIN (signature activation)`);
    }
    // RSA: CKM_RSA_PKCS over the DigestInfo (RFC 8017 §9.2); ECDSA: CKM_ECDSA over the bare digest.
    const input = key.facts.type === 'RSA' ? sha256DigestInfo(digest) : new Uint8Array(digest);
    const slot = await this.#acquire(signal);
    if (signal?.aborted) {
      // Aborted between the grant and now: nothing has reached the token yet.
      this.#release(slot);
      throw abortError(signal);
    }
    const started = performance.now();
    const work = this.#signOnSession(slot, keyLabel, input, activation).finally(() => this.#release(slot));
    if (this.#signObserver !== undefined) {
      const observe = this.#signObserver;
      work.then(
        () => observe(this, 'ok', (performance.now() - started) / 1000),
        () => observe(this, 'error', (performance.now() - started) / 1000),
      );
    }
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

  async #signOnSession(slot: PooledSession, keyLabel: string, input: Uint8Array, activation: SignatureActivation | undefined): Promise<Uint8Array> {
    let reopened = false;
    let reloggedIn = false;
    for (;;) {
      if (this.state !== 'ready') throw this.unavailableError();
      const key = this.#keys.get(keyLabel);
      if (key === undefined) {
        throw new SealdError('not-found', 'KEY_NOT_FOUND', `token "${this.label}" no longer holds a private key labelled "${keyLabel}"`);
      }
      try {
        const raw = await this.#signOnce(slot, key, input, activation);
        return key.facts.type === 'EC' ? ecdsaRawToDer(raw) : raw;
      } catch (error) {
        if (error instanceof SealdError) throw error;
        if (error instanceof ContextLoginRefused) throw this.#contextLoginFault(error);
        const ckr = ckrOf(error);
        this.#count(ckr);
        // Once the holder's PIN went to the token, the signature is final: a retry would present it again.
        if (activation?.presented === true) throw this.#fault(ckr, error);
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

  /**
   * C_SignInit (synchronous), the context login of an activated signature (synchronous, one attempt), then C_Sign on
   * the libuv thread pool.
   */
  async #signOnce(slot: PooledSession, key: TokenKey, input: Uint8Array, activation: SignatureActivation | undefined): Promise<Uint8Array> {
    const data = Buffer.from(input);
    const out = Buffer.alloc(key.facts.signatureLength);
    const mechanism: pkcs11js.Mechanism = { mechanism: key.facts.type === 'RSA' ? pkcs11js.CKM_RSA_PKCS : pkcs11js.CKM_ECDSA };
    this.lease.lib.C_SignInit(slot.session.handle, mechanism, key.handle);
    if (activation !== undefined) {
      try {
        this.lease.lib.C_Login(slot.session.handle, CKU_CONTEXT_SPECIFIC, activation.present());
      } catch (error) {
        this.#endSignOperation(slot, key);
        throw new ContextLoginRefused(error);
      }
    }
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

  /**
   * End the sign operation a refused context login left active (SoftHSM 2.6 then answers C_SignInit with
   * CKR_OPERATION_ACTIVE). PKCS#11 v2.40 has no C_SessionCancel; a C_Sign that fails with anything but
   * CKR_BUFFER_TOO_SMALL ends the operation (§5.12), and without the context login it fails (CKR_USER_NOT_LOGGED_IN).
   */
  #endSignOperation(slot: PooledSession, key: TokenKey): void {
    try {
      this.lease.lib.C_Sign(slot.session.handle, Buffer.alloc(32), Buffer.alloc(key.facts.signatureLength));
    } catch {
      // Expected: the failure is what ends the operation.
    }
  }

  /** What a refused context login means for the caller. Not a token fault: the token is not quarantined. */
  #contextLoginFault(refused: ContextLoginRefused): SealdError {
    const ckr = refused.ckr;
    if (ckr !== undefined && PIN_FAULTS.has(ckr)) {
      let state: PinState | undefined;
      try {
        const flags = this.lease.lib.C_GetTokenInfo(this.#found!.slot.handle).flags;
        state = {
          countLow: (flags & pkcs11js.CKF_USER_PIN_COUNT_LOW) !== 0,
          finalTry: (flags & pkcs11js.CKF_USER_PIN_FINAL_TRY) !== 0,
          locked: (flags & pkcs11js.CKF_USER_PIN_LOCKED) !== 0,
        };
      } catch {
        // No token info: report the refusal without the token's state.
      }
      this.logger.warn({ ckr, pinCountLow: state?.countLow, pinFinalTry: state?.finalTry, pinLocked: state?.locked }, 'signature activation refused by the token');
      return activationRefused(ckr, this.label, state);
    }
    this.#count(ckr);
    return this.#fault(ckr, refused.cause);
  }

  /** Replace a session the token no longer knows (no operation can be running on it: its call has returned). */
  #reopen(slot: PooledSession): void {
    try {
      slot.session.close();
    } catch {
      // Already gone: that is why it is being replaced.
    }
    this.#guard(() => {
      slot.session = this.#found!.slot.open(graphene.SessionFlag.SERIAL_SESSION);
    });
  }

  /** Run a synchronous PKCS#11 call of the recovery path, turning its failure into the token's state. */
  #guard(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#count(ckrOf(error));
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
    clearInterval(this.#keepAlive);
    clearTimeout(this.#retry);
    this.#retry = undefined;
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

/** A C_Login(CKU_CONTEXT_SPECIFIC) the token refused (kept apart from the user login's PIN faults). */
class ContextLoginRefused extends Error {
  readonly ckr: string | undefined;
  constructor(cause: unknown) {
    super('context login refused', { cause });
    this.ckr = ckrOf(cause);
  }
}
