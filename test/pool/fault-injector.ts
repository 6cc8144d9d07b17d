/**
 * Fault injection around the REAL SoftHSM binding (not a mock): a Proxy over the pkcs11js object the pool uses (the
 * stand-in over the module's own thread, module-thread.ts), installed through module-registry's wrapModuleBinding
 * seam. The sign's steps that run off the event loop (C_SignInitAsync, C_LoginAsync, C_Sign's callback form) are
 * matched, counted and failed under their PKCS#11 names (`C_SignInit`, `C_Login`, `C_Sign`), so a rule on C_SignInit
 * sees the real sign path. Every call goes to SoftHSM unless a rule the test
 * armed matches it; a matching rule makes the call fail with a chosen CKR_ value (as pkcs11js reports it: a
 * Pkcs11Error "CKR_…" with its numeric code) or sleep before the real call runs.
 *
 * Rules can target one token (by slot id: session calls are mapped to their slot through the real
 * C_GetSessionInfo), fire a limited number of times, and count what they saw. A rule with neither `ckr` nor
 * `delayMs` only counts. The injector also watches the pool's manners: a C_CloseSession on a session whose C_Sign
 * has not returned, or a C_Logout / C_Finalize while any sign runs, is recorded in `violations`.
 */
import pkcs11js from 'pkcs11js';
import { acquireModule, wrapModuleBinding, type ModuleLease } from '../../src/pool/module-registry.ts';
import type { ModuleBinding } from '../../src/pool/module-thread.ts';

export type FaultCkr =
  | 'CKR_DEVICE_ERROR'
  | 'CKR_SESSION_HANDLE_INVALID'
  | 'CKR_DEVICE_REMOVED'
  | 'CKR_TOKEN_NOT_PRESENT'
  | 'CKR_USER_NOT_LOGGED_IN'
  | 'CKR_PIN_INCORRECT';

export interface FaultRule {
  /** PKCS#11 function, e.g. 'C_Sign', 'C_SignInit', 'C_OpenSession', 'C_Login', 'C_GetSessionInfo'. */
  call: string;
  /** Fail with this return value… */
  ckr?: FaultCkr;
  /** …or run the real call after this many milliseconds (C_Sign: the callback form, so the loop stays free). */
  delayMs?: number;
  /** Only calls on this slot (slot id as a Buffer from graphene, compared by bytes). */
  slot?: Buffer;
  /** Fire at most this many times (default: until removed). */
  times?: number;
  /** How many calls this rule changed so far. */
  fired: number;
}

/** Calls seen per function (whether or not a rule fired). */
export type CallCounts = Map<string, number>;

const CKR_CODES: Record<FaultCkr, number> = {
  CKR_DEVICE_ERROR: pkcs11js.CKR_DEVICE_ERROR,
  CKR_SESSION_HANDLE_INVALID: pkcs11js.CKR_SESSION_HANDLE_INVALID,
  CKR_DEVICE_REMOVED: pkcs11js.CKR_DEVICE_REMOVED,
  CKR_TOKEN_NOT_PRESENT: pkcs11js.CKR_TOKEN_NOT_PRESENT,
  CKR_USER_NOT_LOGGED_IN: pkcs11js.CKR_USER_NOT_LOGGED_IN,
  CKR_PIN_INCORRECT: pkcs11js.CKR_PIN_INCORRECT,
};

/** The error pkcs11js raises for a return value (message "CKR_…", numeric `code`). */
export function pkcs11Error(ckr: FaultCkr, method: string): Error {
  return new pkcs11js.Pkcs11Error(`${ckr}:${CKR_CODES[ckr]}`, CKR_CODES[ckr], method);
}

/** Functions whose first argument is a slot id rather than a session handle. */
const SLOT_CALLS = new Set(['C_OpenSession', 'C_GetTokenInfo', 'C_GetSlotInfo', 'C_CloseAllSessions', 'C_GetMechanismList']);

export class FaultInjector {
  readonly rules: FaultRule[] = [];
  readonly counts: CallCounts = new Map();
  /** Sessions opened minus sessions closed through this binding (C_OpenSession / C_CloseSession). */
  openSessions = 0;
  /** Rule breaks seen: closing, logging out or finalising under a running sign. */
  readonly violations: string[] = [];
  /** Sessions (hex handle) with a C_Sign that has not called back yet. */
  readonly #signing = new Map<string, number>();
  #lease: ModuleLease;
  #unwrap: () => void;

  private constructor(lease: ModuleLease) {
    this.#lease = lease;
    this.#unwrap = wrapModuleBinding(lease.path, (binding) => this.#proxy(binding));
  }

  /** Lease the module (first C_Initialize with CKF_OS_LOCKING_OK if nobody has) and wrap it. */
  static install(modulePath: string, env: Record<string, string>): FaultInjector {
    return new FaultInjector(acquireModule(modulePath, { env }));
  }

  /** The graphene module (its objects call through the injector). */
  get module(): ModuleLease['module'] {
    return this.#lease.module;
  }

  add(rule: Omit<FaultRule, 'fired'>): FaultRule {
    const armed: FaultRule = { ...rule, fired: 0 };
    this.rules.push(armed);
    return armed;
  }

  remove(rule: FaultRule): void {
    const index = this.rules.indexOf(rule);
    if (index >= 0) this.rules.splice(index, 1);
  }

  clear(): void {
    this.rules.length = 0;
  }

  count(call: string): number {
    return this.counts.get(call) ?? 0;
  }

  uninstall(): void {
    this.#unwrap();
    this.#lease.release();
  }

  #match(binding: ModuleBinding, call: string, args: unknown[]): FaultRule | undefined {
    for (const rule of this.rules) {
      if (rule.call !== call || (rule.times !== undefined && rule.fired >= rule.times)) continue;
      if (rule.slot !== undefined && !rule.slot.equals(this.#slotOf(binding, call, args))) continue;
      rule.fired++;
      return rule;
    }
    return undefined;
  }

  #slotOf(binding: ModuleBinding, call: string, args: unknown[]): Buffer {
    const first = args[0] as Buffer;
    if (SLOT_CALLS.has(call)) return first;
    try {
      return binding.C_GetSessionInfo(first).slotID;
    } catch {
      return Buffer.alloc(0);
    }
  }

  #watch(call: string, args: unknown[]): void {
    if (call === 'C_CloseSession' && this.#signing.has((args[0] as Buffer).toString('hex'))) {
      this.violations.push('C_CloseSession on a session with a running C_Sign');
    }
    if ((call === 'C_Logout' || call === 'C_Finalize') && this.#signing.size > 0) {
      this.violations.push(`${call} while ${this.#signing.size} sign(s) run`);
    }
  }

  #proxy(binding: ModuleBinding): ModuleBinding {
    return new Proxy(binding, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof property !== 'string' || !property.startsWith('C_') || typeof value !== 'function') {
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        }
        const real = value as (...a: unknown[]) => unknown;
        // C_SignInitAsync is C_SignInit run off the event loop: the same call for counts and rules.
        const promised = property.endsWith('Async');
        const name = promised ? property.slice(0, -'Async'.length) : property;
        return (...args: unknown[]) => {
          this.counts.set(name, this.count(name) + 1);
          // C_Login is also counted per CK_USER_TYPE: "C_Login/1" (CKU_USER), "C_Login/2" (CKU_CONTEXT_SPECIFIC).
          if (name === 'C_Login') this.counts.set(`C_Login/${String(args[1])}`, this.count(`C_Login/${String(args[1])}`) + 1);
          this.#watch(name, args);
          const rule = this.#match(target, name, args);
          if (promised) {
            if (rule?.ckr !== undefined) return Promise.reject(pkcs11Error(rule.ckr, name));
            if (rule?.delayMs !== undefined) {
              return new Promise((resolve) => setTimeout(resolve, rule.delayMs)).then(() => real.apply(target, args));
            }
            return real.apply(target, args);
          }
          let callback = typeof args[args.length - 1] === 'function' ? (args[args.length - 1] as (e: Error | null, r?: unknown) => void) : undefined;
          if (property === 'C_Sign' && callback !== undefined) {
            const handle = (args[0] as Buffer).toString('hex');
            const done = callback;
            this.#signing.set(handle, (this.#signing.get(handle) ?? 0) + 1);
            callback = (error, result) => {
              const left = (this.#signing.get(handle) ?? 1) - 1;
              if (left === 0) this.#signing.delete(handle);
              else this.#signing.set(handle, left);
              done(error, result);
            };
            args[args.length - 1] = callback;
          }
          if (rule?.ckr !== undefined) {
            const error = pkcs11Error(rule.ckr, property);
            if (callback === undefined) throw error;
            setImmediate(() => callback(error));
            return undefined;
          }
          if (rule?.delayMs !== undefined) {
            if (callback === undefined) {
              // A synchronous call that hangs: block, as a stuck driver would.
              Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, rule.delayMs);
            } else {
              setTimeout(() => real.apply(target, args), rule.delayMs);
              return undefined;
            }
          }
          const result = real.apply(target, args);
          if (property === 'C_OpenSession') this.openSessions++;
          if (property === 'C_CloseSession') this.openSessions--;
          return result;
        };
      },
    });
  }
}
