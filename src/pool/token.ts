/**
 * One token of a TokenPool: its state machine (ready, down, quarantined), login, keys and health probes, and what a
 * fault means for it. The parts it composes: session-pool.ts (session leases, FIFO queue), sign-operation.ts (one
 * C_SignInit / context login / C_Sign), token-keys.ts (private keys by label), token-health.ts (status, timers),
 * abort.ts (a caller that gives up).
 *
 * Longer than 400 lines because what is left is one state machine: warm-up, login, quarantine, down, recovery,
 * keep-alive and the sign path's fault handling each change the same private state (state, PIN, sessions, keys,
 * fault counters), each exactly once per fault; spread over files they would need that state exposed.
 *
 * Everything synchronous (open sessions, log in, find keys) happens in warmUp(). A sign leases a whole session and
 * runs C_Sign on the libuv thread pool — the event loop never waits on the token.
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
import type { Logger } from 'pino';
import { SealdError } from '../errors.ts';
import { defaultSessionCount, describePinSource, resolvePin, type TokenConfig } from './config.ts';
import type { ModuleLease } from './module-registry.ts';
import { ModuleCallTimeout } from './module-thread.ts';
import { activationRefused, type SignatureActivation } from './activation.ts';
import { ckrOf, classifyFault, DEVICE_FAULTS, LOGIN_FAULTS, PIN_FAULTS, SESSION_FAULTS, type FaultClass } from './pkcs11-errors.ts';
import type { TokenKeyFacts } from './public-key.ts';
import { isPinRejected, markPinRejected } from './rejected-pins.ts';
import { abortError, settleOrAbort } from './abort.ts';
import { SessionPool, type PooledSession } from './session-pool.ts';
import { cmsSignatureValue, ContextLoginRefused, readPinState, signInput, signOnce } from './sign-operation.ts';
import { describeWanted, listTokens, matchTokens, type FoundToken } from './slots.ts';
import { isLoggedOutState, RecoveryBackoff, tokenTiming, type SignObserver, type TokenState, type TokenStatus, type TokenTiming } from './token-health.ts';
import { findPrivateKeys, type TokenKey } from './token-keys.ts';

export type { FaultClass } from './pkcs11-errors.ts';
export { tokenTiming, type SignObserver, type TokenState, type TokenStatus, type TokenTiming } from './token-health.ts';

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
  readonly #backoff: RecoveryBackoff;
  readonly #sessions = new SessionPool();
  readonly #keys = new Map<string, TokenKey>();
  #closing = false;
  #signObserver: SignObserver | undefined;
  #moduleLost: (() => boolean) | undefined;

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
    this.#backoff = new RecoveryBackoff(timing);
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
    if (!this.#takePin(this.serial)) return;
    if (this.#connect(this.#found)) {
      this.logger.info(
        { sessions: this.#sessions.size, keys: [...this.#keys.values()].map((k) => `${k.label} (${k.facts.type})`) },
        'token ready',
      );
    }
  }

  /**
   * Read the PIN from its source unless it is held already. False, with the token quarantined, when it cannot be read
   * or the token `serial` refused it before in this process (it is never presented twice).
   */
  #takePin(serial: string): boolean {
    if (this.#pin !== undefined) return true;
    try {
      this.#pin = resolvePin(this.config.pin);
    } catch (error) {
      this.#quarantine(`the PIN could not be read: ${(error as Error).message}`);
      return false;
    }
    if (isPinRejected(this.lease.path, serial, this.#pin)) {
      this.#quarantine('the token already rejected this PIN in this process');
      return false;
    }
    return true;
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
        this.#sessions.add(found.slot.open(graphene.SessionFlag.SERIAL_SESSION));
      } catch (error) {
        const ckr = ckrOf(error);
        if (this.#sessions.size === 0 || (ckr !== undefined && DEVICE_FAULTS.has(ckr))) {
          this.#count(ckr);
          this.#closeSessions();
          this.#setDown(`C_OpenSession failed: ${ckr ?? (error as Error).message}`);
          return false;
        }
        this.logger.warn({ ckr, opened: this.#sessions.size, wanted }, 'token refused more sessions; continuing with fewer');
        break;
      }
    }
    const first = this.#sessions.first!;
    if (!this.#login(first.session)) {
      this.#closeSessions();
      return false;
    }
    try {
      this.#discoverKeys(first.session);
    } catch (error) {
      this.#count(ckrOf(error));
      this.#closeSessions();
      this.#setDown(`listing keys failed: ${ckrOf(error) ?? (error as Error).message}`);
      return false;
    }
    return true;
  }

  #count(ckr: string | undefined): void {
    this.#faults[classifyFault(ckr)]++;
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
    const keys = findPrivateKeys(session, this.logger);
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
    if (wasDown) this.logger.warn({ reason, retryMs: this.#backoff.ms }, 'token still down');
    else this.logger.error({ reason }, 'token down: signs go to replicas; probing it with back-off');
    this.#failWaiters();
    this.#scheduleRecovery();
  }

  #scheduleRecovery(): void {
    if (this.#closing || this.state !== 'down' || this.#retry !== undefined) return;
    const wait = this.#backoff.next();
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
    if (this.#sessions.busy > 0) {
      this.#scheduleRecovery();
      return;
    }
    this.#closeSessions();
    let found = this.#findAgain();
    // The module itself may be what failed: p11-kit's client module answers CKR_DEVICE_ERROR to every call once its
    // server went away, and reconnects only in a new C_Initialize. The pool re-initialises the module when every token
    // on it is down and idle (pool.ts), then the token is looked for once more.
    if (found === undefined && this.#moduleLost?.() === true) found = this.#findAgain();
    if (found === undefined) {
      this.#setDown(`no token with ${describeWanted(this.config)}${this.serial ? ` and serial ${this.serial}` : ''} is present`);
      return;
    }
    this.#found = found;
    if (!this.#takePin(found.serial)) return;
    if (!this.#connect(found)) return;
    this.state = 'ready';
    this.reason = undefined;
    this.#backoff.reset();
    this.#recoveries++;
    this.logger.warn({ sessions: this.#sessions.size, keys: [...this.#keys.keys()] }, 'token recovered: taking signs again');
  }

  /** The configured token among the module's slots now (same serial once known), or undefined (fault counted). */
  #findAgain(): FoundToken | undefined {
    try {
      return matchTokens(listTokens(this.lease.module), this.config).find((t) => this.serial === '' || t.serial === this.serial);
    } catch (error) {
      this.#count(ckrOf(error));
      return undefined;
    }
  }

  /** `reset` is asked to re-initialise the module when a recovery probe cannot find the token; true when it did. */
  onModuleLost(reset: () => boolean): void {
    this.#moduleLost = reset;
  }

  /**
   * Not signing (down or quarantined) and no sign running: its sessions may go (before its module is re-initialised,
   * which voids every handle).
   */
  get idleAndUnusable(): boolean {
    return this.state !== 'ready' && this.#sessions.busy === 0;
  }

  /** Close every session of an idle, unusable token (the module is about to be re-initialised). */
  dropSessions(): void {
    if (this.idleAndUnusable) this.#closeSessions();
  }

  /**
   * Keep-alive: ask the token about each idle session (C_GetSessionInfo, synchronous and cheap). A lost session is
   * reopened, a lost login redone, a device fault takes the token down — before a request meets any of them.
   */
  #probeSessions(): void {
    if (this.#closing || this.state !== 'ready') return;
    // A sign holds the module's one connection: it proves the module alive, and a synchronous probe would wait for it.
    if (this.lease.gate?.busy === true) return;
    let loggedOut: PooledSession | undefined;
    for (const slot of this.#sessions.idle()) {
      try {
        const info = this.lease.lib.C_GetSessionInfo(slot.session.handle);
        if (isLoggedOutState(info.state)) loggedOut = slot;
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
    const slot = this.#sessions.idle()[0];
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
    return this.#sessions.pressure();
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
      sessions: this.#sessions.size,
      busy: this.#sessions.busy,
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
    const input = signInput(key.facts, digest);
    const slot = await this.#sessions.acquire(signal);
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
    // The caller hears of an abort at once; the session returns to the pool when C_Sign completes (in `work`).
    return settleOrAbort(work, signal);
  }

  /** Hand the session on to the next waiter only while the token is ready. */
  #release(slot: PooledSession): void {
    this.#sessions.release(slot, this.state === 'ready');
  }

  #failWaiters(): void {
    this.#sessions.failWaiters(this.unavailableError());
  }

  /**
   * On a module that serves one call at a time (call-gate.ts), the whole sign — C_SignInit, context login, C_Sign and
   * any reopen or re-login — runs once no other sign is on the module; the token's state is checked again after the
   * wait, since it may have gone down meanwhile.
   */
  async #signOnSession(slot: PooledSession, keyLabel: string, input: Uint8Array, activation: SignatureActivation | undefined): Promise<Uint8Array> {
    const gate = this.lease.gate;
    if (gate === undefined) return this.#signWithRetries(slot, keyLabel, input, activation);
    await gate.enter();
    try {
      return await this.#signWithRetries(slot, keyLabel, input, activation);
    } finally {
      gate.leave();
    }
  }

  async #signWithRetries(slot: PooledSession, keyLabel: string, input: Uint8Array, activation: SignatureActivation | undefined): Promise<Uint8Array> {
    let reopened = false;
    let reloggedIn = false;
    for (;;) {
      if (this.state !== 'ready') throw this.unavailableError();
      const key = this.#keys.get(keyLabel);
      if (key === undefined) {
        throw new SealdError('not-found', 'KEY_NOT_FOUND', `token "${this.label}" no longer holds a private key labelled "${keyLabel}"`);
      }
      try {
        const raw = await signOnce(this.lease.lib, slot, key, input, activation);
        return cmsSignatureValue(key.facts, raw);
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

  /** What a refused context login means for the caller. Not a token fault: the token is not quarantined. */
  #contextLoginFault(refused: ContextLoginRefused): SealdError {
    const ckr = refused.ckr;
    if (ckr !== undefined && PIN_FAULTS.has(ckr)) {
      // No token info: the refusal is reported without the token's state.
      const state = readPinState(this.lease.lib, this.#found!.slot.handle);
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
      this.#setDown(error instanceof ModuleCallTimeout ? error.message.replace(/^CKR_DEVICE_ERROR: /, '') : `${ckr} during signing`);
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
    await this.#sessions.whenIdle();
    // Let the last signs' callers receive their results (promise reactions) before the sessions go.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#closeSessions();
  }

  #closeSessions(): void {
    this.#sessions.closeAll(this.logger);
  }
}
