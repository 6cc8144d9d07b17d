/**
 * A PKCS#11 module's own thread: every call seald makes on the module runs on one worker thread, never on the event
 * loop; the main thread holds a stand-in with the pkcs11js API (`lib`) that graphene and the pool call as before.
 *
 * Why a whole module and not only the sign: PKCS#11 sessions are per instance of the library, and an instance is what
 * C_GetFunctionList hands out. SoftHSM hands every caller the same one, but p11-kit's client module (p11-kit-client.so,
 * how a network HSM looks to seald here) builds a new instance, with its own connection, at each C_GetFunctionList: a
 * second pkcs11js binding loaded in a worker initialised cleanly (no CKR_CRYPTOKI_ALREADY_INITIALIZED) and answered
 * CKR_SESSION_HANDLE_INVALID to a session opened on the main thread. So the one binding lives on this thread.
 *
 * Two ways in:
 *   - synchronous (everything graphene does: slots, sessions, login, objects, C_GetSessionInfo probes): the main
 *     thread posts the call and blocks in Atomics.wait until the thread answers — as long as the call itself, as
 *     before, but never longer than the call timeout;
 *   - asynchronous: the callback forms (`C_Sign(session, data, out, cb)`) and the `…Async` promise forms, plus
 *     `C_SignInitAsync` and `C_LoginAsync`, which pkcs11js 2.1 lacks (its C_SignInit and C_Login are synchronous): they
 *     run on this thread while the event loop goes on. A sign is C_SignInitAsync → (C_LoginAsync) → C_Sign.
 *
 * A call that does not return within the timeout (p11-kit's client blocked for good when its server died mid-sign)
 * rejects or throws ModuleCallTimeout, and the thread is abandoned: every later call fails at once with the same
 * error (a device fault for the pool) until reinitialize() replaces the thread — a new binding, a new instance, a new
 * C_Initialize. The abandoned thread is left to its call (a thread inside a native call cannot be stopped).
 */
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import pkcs11js from 'pkcs11js';

/** The calls a sign needs off the event loop that pkcs11js offers only synchronously. */
export interface AsyncSignSteps {
  C_SignInitAsync(session: Buffer, mechanism: pkcs11js.Mechanism, key: Buffer): Promise<void>;
  C_LoginAsync(session: Buffer, userType: number, pin: string): Promise<void>;
}

/** The module as the pool sees it: pkcs11js' API, every call run on the module's thread. */
export type ModuleBinding = pkcs11js.PKCS11 & AsyncSignSteps;

/** A call that did not return in time, or a call on a thread abandoned after one. A device fault for the pool. */
export class ModuleCallTimeout extends Error {
  constructor(readonly method: string, timeoutMs: number, abandoned: boolean) {
    super(
      abandoned
        ? `CKR_DEVICE_ERROR: the PKCS#11 module's thread was abandoned after a call that did not return (${method} refused)`
        : `CKR_DEVICE_ERROR: PKCS#11 ${method} did not return within ${timeoutMs} ms; the module's thread is abandoned`,
    );
    this.name = 'ModuleCallTimeout';
  }
}

/** Default bound on one PKCS#11 call (pkcs11.call_timeout_ms). */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** pkcs11js functions with a callback form (run on libuv's pool from the module's thread). */
const CALLBACK_FORMS = new Set(['C_Sign', 'C_Verify', 'C_Digest', 'C_Encrypt', 'C_Decrypt', 'C_GenerateKey', 'C_GenerateKeyPair', 'C_WrapKey', 'C_UnwrapKey', 'C_DeriveKey']);

/**
 * The thread's code, plain CommonJS so that it runs the same from the sources (tsx) and from dist/. Structured clone
 * turns Buffers into Uint8Arrays: both sides turn them back, since pkcs11js and graphene want Buffers.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const pkcs11js = require(workerData.pkcs11js);
const lib = new pkcs11js.PKCS11();
const flag = new Int32Array(workerData.flag);
const syncPort = workerData.syncPort;
const toBuffers = (v) => {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(toBuffers);
  if (v !== null && typeof v === 'object') { const o = {}; for (const k of Object.keys(v)) o[k] = toBuffers(v[k]); return o; }
  return v;
};
const errorOf = (e) => ({ message: String((e && e.message) || e), code: e && e.code, method: e && e.method });
const run = (method, args) => (method === 'load' ? lib.load(args[0]) : lib[method](...args));
parentPort.on('message', (m) => {
  const args = toBuffers(m.args);
  if (m.sync) {
    let reply;
    try { reply = { seq: m.seq, value: run(m.method, args) }; } catch (e) { reply = { seq: m.seq, error: errorOf(e) }; }
    syncPort.postMessage(reply);
    Atomics.store(flag, 0, m.seq);
    Atomics.notify(flag, 0);
    return;
  }
  const done = (error, value) => parentPort.postMessage({ id: m.id, value, error: error ? errorOf(error) : undefined });
  try {
    if (m.callback) lib[m.method](...args, done);
    else done(null, run(m.method, args));
  } catch (e) { done(e); }
});
`;

interface WireError {
  message: string;
  code?: number;
  method?: string;
}

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

function toBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(toBuffers);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toBuffers(v)]));
  }
  return value;
}

/** The error pkcs11js would have thrown on this thread (message "CKR_…", numeric code), so ckrOf reads it the same. */
function errorFrom(wire: WireError): Error {
  if (wire.code !== undefined && /^CKR_/.test(wire.message)) return new pkcs11js.Pkcs11Error(wire.message, wire.code, wire.method ?? '');
  return new Error(wire.message);
}

/** One worker thread holding one pkcs11js binding of one library. */
class Thread {
  readonly #worker: Worker;
  readonly #flag = new Int32Array(new SharedArrayBuffer(4));
  readonly #syncPort: MessagePort;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #seq = 0;
  abandoned = false;

  constructor(public timeoutMs: number) {
    const { port1, port2 } = new MessageChannel();
    this.#syncPort = port2;
    this.#worker = new Worker(THREAD_SOURCE, {
      eval: true,
      // Plain CommonJS needs none of the process's preloads or loader hooks (tsx, test runners): the main thread waits
      // in Atomics.wait for the first call, and must not be what a preload in this thread waits for.
      execArgv: [],
      workerData: { pkcs11js: createRequire(import.meta.url).resolve('pkcs11js'), flag: this.#flag.buffer, syncPort: port1 },
      transferList: [port1],
    });
    this.#worker.on('message', (reply: { id: number; value: unknown; error?: WireError }) => this.#settle(reply));
    // The thread's own code catches every call's error: an 'error' or an early exit means the thread is gone.
    this.#worker.on('error', () => this.#abandon());
    this.#worker.on('exit', () => this.#abandon());
    this.#worker.unref();
  }

  /**
   * Run `method` on the thread and wait for it here (Atomics.wait), at most the timeout. Each call has a sequence
   * number, which the thread writes into the shared flag after posting its answer: the answer taken is always this
   * call's, never one left over.
   */
  callSync(method: string, args: unknown[]): unknown {
    if (this.abandoned) throw new ModuleCallTimeout(method, this.timeoutMs, true);
    const seq = (this.#seq = (this.#seq % 0x7fffffff) + 1);
    this.#worker.postMessage({ sync: true, seq, method, args });
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.#flag, 0);
      if (seen === seq) break;
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(this.#flag, 0, seen, left) === 'timed-out') {
        this.#abandon();
        throw new ModuleCallTimeout(method, this.timeoutMs, false);
      }
    }
    let reply: { seq: number; value?: unknown; error?: WireError } | undefined;
    do reply = receiveMessageOnPort(this.#syncPort)?.message as typeof reply;
    while (reply !== undefined && reply.seq !== seq);
    if (reply === undefined) throw new Error(`PKCS#11 ${method}: the module's thread answered nothing`);
    if (reply.error !== undefined) throw errorFrom(reply.error);
    return toBuffers(reply.value);
  }

  /** Run `method` on the thread (its callback form when `callback`); the event loop goes on meanwhile. */
  callAsync(method: string, args: unknown[], callback: boolean): Promise<unknown> {
    if (this.abandoned) return Promise.reject(new ModuleCallTimeout(method, this.timeoutMs, true));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ModuleCallTimeout(method, this.timeoutMs, false));
        this.#abandon();
      }, this.timeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      // A call in flight keeps the process alive, as pkcs11js' own async work does.
      if (this.#pending.size === 1) this.#worker.ref();
      this.#worker.postMessage({ sync: false, id, callback, method, args });
    });
  }

  #settle(reply: { id: number; value: unknown; error?: WireError }): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (this.#pending.size === 0) this.#worker.unref();
    if (reply.error !== undefined) pending.reject(errorFrom(reply.error));
    else pending.resolve(toBuffers(reply.value));
  }

  /** Give the thread up: fail what waits on it, refuse what comes. */
  #abandon(): void {
    if (this.abandoned) return;
    this.abandoned = true;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new ModuleCallTimeout(pending.method, this.timeoutMs, true));
    }
    this.#pending.clear();
    this.#worker.unref();
    // A thread stuck in a native call does not stop; one that is not will.
    void this.#worker.terminate().catch(() => undefined);
  }

  stop(): void {
    if (this.#pending.size === 0) void this.#worker.terminate().catch(() => undefined);
  }
}

/**
 * The module's thread and the stand-in binding over it. `lib` is stable for the life of the module, across replace():
 * graphene's objects keep the binding they were made with.
 */
export class ModuleThread {
  #thread: Thread;
  readonly lib: ModuleBinding;

  private constructor(private readonly path: string, private timeoutMs: number) {
    this.#thread = new Thread(timeoutMs);
    this.lib = this.#binding();
  }

  /** Start a thread and load the library at `path` on it (C_GetFunctionList; the environment must be set already). */
  static load(path: string, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): ModuleThread {
    const thread = new ModuleThread(path, timeoutMs);
    thread.#thread.callSync('load', [path]);
    return thread;
  }

  /** Bound the calls made from now on (the pool's pkcs11.health.call_timeout_seconds; the last lease to set it wins). */
  setCallTimeout(ms: number): void {
    this.timeoutMs = ms;
    this.#thread.timeoutMs = ms;
  }

  /** True once a call hung: every call fails until replace(). */
  get abandoned(): boolean {
    return this.#thread.abandoned;
  }

  /** A new thread with a fresh binding of the library (the caller then runs C_Initialize). */
  replace(): void {
    this.#thread.stop();
    this.#thread = new Thread(this.timeoutMs);
    this.#thread.callSync('load', [this.path]);
  }

  #binding(): ModuleBinding {
    const call = (method: string) => (...args: unknown[]): unknown => {
      const last = args[args.length - 1];
      if (typeof last === 'function' && CALLBACK_FORMS.has(method)) {
        const done = last as (error: Error | null, value?: unknown) => void;
        this.#thread.callAsync(method, args.slice(0, -1), true).then((value) => done(null, value), (error: Error) => done(error));
        return undefined;
      }
      if (method.endsWith('Async')) {
        const base = method.slice(0, -'Async'.length);
        return this.#thread.callAsync(base, args, CALLBACK_FORMS.has(base));
      }
      return this.#thread.callSync(method, args);
    };
    // One function per name, made on first use and kept on the object: the same identity at each read, and a test may
    // replace one by assignment as on a pkcs11js binding. `close` (graphene's Module.close) keeps the library loaded on
    // its thread for the life of the process, as the registry does.
    const methods: Record<string, unknown> = { close: () => undefined };
    return new Proxy(methods as unknown as ModuleBinding, {
      get: (target, property) => {
        const own = (target as unknown as Record<string | symbol, unknown>)[property];
        if (own !== undefined || typeof property !== 'string' || !property.startsWith('C_')) return own;
        const made = call(property);
        methods[property] = made;
        return made;
      },
    });
  }
}
