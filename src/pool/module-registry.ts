/**
 * One loaded, initialised instance per PKCS#11 library per process, reference counted.
 *
 * PKCS#11 v2.40 §5.4: C_Initialize is process-wide; a second call answers CKR_CRYPTOKI_ALREADY_INITIALIZED and
 * C_Finalize ends it for every user. So every part of seald that talks to a module (each TokenPool, the admin
 * helper) leases it here, and the module is finalised only when the last lease is released.
 *
 * CK_C_INITIALIZE_ARGS.flags = CKF_OS_LOCKING_OK: without it SoftHSM disables its mutexes and the async signs that
 * run on libuv threads crash or hang (NOTES.md). graphene's Module.initialize(options) hands `options` unchanged
 * to pkcs11js' C_Initialize, which builds a CK_C_INITIALIZE_ARGS from `options.flags` (and passes a zeroed struct,
 * i.e. no locking, when called without options) — so the flag must be passed explicitly, as done here.
 */
import { realpathSync } from 'node:fs';
import graphene from 'graphene-pk11';
import type { Logger } from 'pino';
import { SealdError } from '../errors.ts';
import { CallGate, servesOneCallAtATime } from './call-gate.ts';
import { ModuleThread, type ModuleBinding } from './module-thread.ts';
import { ckrOf } from './pkcs11-errors.ts';

/** PKCS#11 v2.40 §5.4, CK_C_INITIALIZE_ARGS.flags. */
export const CKF_OS_LOCKING_OK = 0x00000002;

interface ModuleEntry {
  path: string;
  module: graphene.Module;
  /** What every caller uses: the binding itself, or a wrapper installed by wrapModuleBinding (tests). */
  lib: ModuleBinding;
  /** The stand-in binding over the module's own thread (module-thread.ts), which graphene was given. */
  binding: ModuleBinding;
  thread: ModuleThread;
  refs: number;
  initialised: boolean;
  env: Record<string, string>;
  /** Set when the module serves one call at a time (call-gate.ts); signs on it then take turns. */
  gate: CallGate | undefined;
}

export interface ModuleLease {
  readonly path: string;
  readonly module: graphene.Module;
  /**
   * The pkcs11js binding under the graphene module (same object graphene's sessions call); every call runs on the
   * module's own thread (module-thread.ts), the sign's steps without blocking the event loop.
   */
  readonly lib: ModuleBinding;
  /** Present when the module serves one call at a time (p11-kit's client): signs take turns through it (call-gate.ts). */
  readonly gate: CallGate | undefined;
  /** Drop this lease; the last one finalises the module. Idempotent. The caller must have no PKCS#11 call running. */
  release(): void;
  /**
   * C_Finalize then C_Initialize again (same flags, same environment): the one way PKCS#11 offers to reset a module
   * whose connection to its device is gone. Every session and login of every lease holder ends. For the pool's
   * recovery of a module that answers every call with a device fault (token.ts); the caller must have no PKCS#11
   * call running on the module. When a call hung on the module's thread, the thread is replaced first (a new binding
   * of the library; the hung one is left to its call).
   */
  reinitialize(): void;
}

const entries = new Map<string, ModuleEntry>();

/** Names in `wanted` whose value differs from what the initialised module saw. */
function conflictingEnv(entry: ModuleEntry, wanted: Record<string, string>): string[] {
  return Object.keys(wanted).filter((name) => (entry.env[name] ?? process.env[name]) !== wanted[name]);
}

function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    throw new SealdError('unavailable', 'PKCS11_MODULE_NOT_FOUND', `PKCS#11 module ${path} does not exist`);
  }
}

/**
 * Lease the module at `path`, loading and initialising it (with CKF_OS_LOCKING_OK) if nobody holds it.
 * `env` is applied to process.env before the library is loaded and before each first C_Initialize; a lease asking for
 * other values while the module is initialised is refused, because the module has already read its environment (and a
 * module that reads it on load, like p11-kit's client, keeps the first values for the life of the process).
 */
export function acquireModule(path: string, opts: { env?: Record<string, string>; logger?: Logger; callTimeoutMs?: number } = {}): ModuleLease {
  const key = canonicalPath(path);
  const env = opts.env ?? {};
  let entry = entries.get(key);
  const conflicts = entry?.initialised ? conflictingEnv(entry, env) : [];
  if (conflicts.length > 0) {
    throw new SealdError(
      'precondition',
      'PKCS11_ENV_CONFLICT',
      `PKCS#11 module ${path} is already in use in this process with a different ${conflicts.join(', ')}`,
    );
  }
  if (entry === undefined) {
    // Some modules read their environment when loaded, not in C_Initialize: p11-kit's client module takes
    // P11_KIT_SERVER_ADDRESS in C_GetFunctionList, which graphene calls on load (and never reads it again).
    for (const [name, value] of Object.entries(env)) process.env[name] = value;
    let thread: ModuleThread;
    try {
      thread = ModuleThread.load(key, opts.callTimeoutMs);
    } catch (cause) {
      throw new SealdError('unavailable', 'PKCS11_MODULE_LOAD', `cannot load PKCS#11 module ${path}: ${(cause as Error).message}`, {
        cause,
      });
    }
    const module = new graphene.Module(thread.lib);
    module.libFile = key;
    module.libName = key;
    const binding = thread.lib;
    entry = { path: key, module, lib: binding, binding, thread, refs: 0, initialised: false, env: {}, gate: undefined };
    entries.set(key, entry);
  }
  if (opts.callTimeoutMs !== undefined) entry.thread.setCallTimeout(opts.callTimeoutMs);
  if (!entry.initialised) {
    for (const [name, value] of Object.entries(env)) process.env[name] = value;
    initialize(entry, path, opts.logger);
    entry.env = { ...env };
  }
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    path: held.path,
    module: held.module,
    get lib() {
      return held.lib;
    },
    get gate() {
      return held.gate;
    },
    release() {
      if (released) return;
      released = true;
      held.refs--;
      if (held.refs === 0 && held.initialised) {
        held.initialised = false;
        try {
          held.lib.C_Finalize();
        } catch (cause) {
          opts.logger?.warn({ module: held.path, ckr: ckrOf(cause) }, 'C_Finalize failed');
        }
        opts.logger?.info({ module: held.path }, 'PKCS#11 module finalised');
      }
    },
    reinitialize() {
      if (released) throw new SealdError('precondition', 'PKCS11_NOT_LEASED', `PKCS#11 module ${path} is not in use: lease it first`);
      try {
        if (!held.thread.abandoned) held.lib.C_Finalize();
      } catch (cause) {
        // Expected when the module lost its device: the finalise is only there to allow the C_Initialize.
        opts.logger?.debug({ module: held.path, ckr: ckrOf(cause) }, 'C_Finalize before re-initialising failed');
      }
      held.initialised = false;
      if (held.thread.abandoned) {
        held.thread.replace();
        opts.logger?.warn({ module: held.path }, "PKCS#11 module's thread replaced after a call that did not return");
      }
      initialize(held, path, opts.logger);
      opts.logger?.warn({ module: held.path }, 'PKCS#11 module re-initialised');
    },
  };
}

/** C_Initialize with CKF_OS_LOCKING_OK, then C_GetInfo for the log; marks the entry initialised. */
function initialize(entry: ModuleEntry, path: string, logger: Logger | undefined): void {
  try {
    entry.lib.C_Initialize({ flags: CKF_OS_LOCKING_OK });
  } catch (cause) {
    if (ckrOf(cause) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      throw new SealdError('unavailable', 'PKCS11_INITIALIZE', `C_Initialize of ${path} failed: ${ckrOf(cause) ?? (cause as Error).message}`, {
        cause,
      });
    }
    // Someone outside this registry initialised it (another binding of the same library): its flags apply.
    logger?.warn({ module: entry.path }, 'PKCS#11 module was already initialised outside seald; CKF_OS_LOCKING_OK cannot be guaranteed');
  }
  const info = entry.lib.C_GetInfo();
  entry.initialised = true;
  // Kept across a re-initialisation: signs may be queued on it.
  entry.gate ??= servesOneCallAtATime(info.manufacturerID) ? new CallGate() : undefined;
  logger?.info(
    {
      module: entry.path,
      library: info.libraryDescription.trim(),
      manufacturer: info.manufacturerID.trim(),
      version: `${info.libraryVersion.major}.${info.libraryVersion.minor}`,
      cryptoki: `${info.cryptokiVersion.major}.${info.cryptokiVersion.minor}`,
      oneCallAtATime: entry.gate !== undefined,
    },
    'PKCS#11 module initialised (CKF_OS_LOCKING_OK)',
  );
}

/** Leases currently held on a module (0 when it is not loaded or finalised). For status and tests. */
export function moduleLeases(path: string): number {
  try {
    return entries.get(realpathSync(path))?.refs ?? 0;
  } catch {
    return 0;
  }
}

/**
 * Test seam: route every later PKCS#11 call on the module at `path` through `wrap(binding)` (a fault injector
 * around the real binding). The module must be leased. graphene objects keep the `lib` they were created with, so
 * install the wrapper before opening the TokenPool that should see it. Returns a function that removes it.
 */
export function wrapModuleBinding(path: string, wrap: (binding: ModuleBinding) => ModuleBinding): () => void {
  const entry = entries.get(canonicalPath(path));
  if (entry === undefined || entry.refs === 0) {
    throw new SealdError('precondition', 'PKCS11_NOT_LEASED', `PKCS#11 module ${path} is not in use: lease it first`);
  }
  const wrapped = wrap(entry.binding);
  const setLib = (lib: ModuleBinding): void => {
    entry.lib = lib;
    (entry.module as unknown as { lib: ModuleBinding }).lib = lib;
  };
  setLib(wrapped);
  return () => setLib(entry.binding);
}
