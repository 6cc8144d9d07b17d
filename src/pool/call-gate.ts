/**
 * One sign at a time on a module that serves its calls one by one over a single connection.
 *
 * p11-kit's client module (p11-kit-client.so, the remoting in front of SoftHSM in the tests, and how a network HSM
 * looks to seald) multiplexes every session of the process over one socket to one p11-kit-remote process, which
 * answers one call after another. Measured here (loaded 2-core machine, RSA-2048): 4 signs in flight cost 1.77 ms
 * per sign against 1.72 ms with 1 in flight — no gain — while a synchronous C_SignInit on the event loop, which waits
 * behind the signs already on the socket, went from 0.37 ms to 1.69 ms on average (10.6 ms at worst). Worse, p11-kit
 * 0.24's client hung for good in a synchronous C_SignInit on the main thread when its server died while a C_Sign of a
 * libuv thread was on the same connection (test/pool/faults.test.ts, p11-kit path): the event loop never turned again.
 *
 * So on such a module a sign runs its C_SignInit → (context C_Login) → C_Sign only when no other sign is on the
 * module, and the keep-alive probe skips its turn while one is (a running sign is proof enough that the module is
 * alive). Other modules get no gate: SoftHSM reached directly signs in parallel on the libuv thread pool.
 */
export class CallGate {
  #busy = false;
  readonly #queue: (() => void)[] = [];

  /** True while an operation holds the gate. */
  get busy(): boolean {
    return this.#busy;
  }

  /** Resolves once this caller holds the gate (first come, first served). Every enter() needs one leave(). */
  enter(): Promise<void> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.#queue.push(resolve));
  }

  /** Hand the gate to the next waiter, or open it. */
  leave(): void {
    const next = this.#queue.shift();
    if (next !== undefined) next();
    else this.#busy = false;
  }
}

/** PKCS#11 libraries known to serve one call at a time per process (CK_INFO.manufacturerID, trailing blanks trimmed). */
const SERIAL_MODULES = new Set(['PKCS#11 Kit']);

/** True when the module's CK_INFO names a library that serves one call at a time (p11-kit's client and proxy). */
export function servesOneCallAtATime(manufacturerId: string): boolean {
  return SERIAL_MODULES.has(manufacturerId.trim());
}
