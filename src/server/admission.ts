/**
 * Admission control for Seal calls: a bounded number of documents in progress, a bounded number of bytes spooled
 * (memory and temp files together), and a bounded FIFO queue whose waiters give up at their own gRPC deadline.
 * When the queue is full, or a document would push the spooled bytes over the budget, the caller hears
 * RESOURCE_EXHAUSTED at once instead of the server growing without bound; during shutdown, UNAVAILABLE.
 */
import { SealdError } from '../errors.ts';

export interface AdmissionLimits {
  /** Documents received, sealed or sent back at once. */
  maxConcurrentDocuments: number;
  /** Calls waiting for a place; one more is refused at once. */
  maxQueuedDocuments: number;
  /** Bytes of documents held (in memory and spool files) by all calls together. */
  maxSpooledBytes: number;
}

export const DEFAULT_ADMISSION: AdmissionLimits = {
  maxConcurrentDocuments: 32,
  maxQueuedDocuments: 512,
  maxSpooledBytes: 2 * 1024 ** 3,
};

/** A place held by one call; release() exactly once, on every path. */
export interface AdmissionTicket {
  /** Count `bytes` more of this document against the spool budget; RESOURCE_EXHAUSTED when over it. */
  reserve(bytes: number): void;
  release(): void;
}

interface Waiter {
  bytes: number;
  grant(): void;
}

export class Admission {
  #active = 0;
  #spooled = 0;
  #closed = false;
  readonly #queue: Waiter[] = [];

  constructor(readonly limits: AdmissionLimits = DEFAULT_ADMISSION) {}

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.length;
  }

  get spooledBytes(): number {
    return this.#spooled;
  }

  /**
   * Wait for a place (FIFO) until `signal` aborts — the call's deadline or cancellation, whose reason is thrown.
   * `expectedBytes` (the header's document_size) is reserved up front, so a document that cannot fit waits or is
   * refused before its upload starts.
   */
  async admit(signal: AbortSignal, expectedBytes = 0): Promise<AdmissionTicket> {
    if (this.#closed) throw new SealdError('unavailable', 'SHUTTING_DOWN', 'the server is shutting down: retry on another instance');
    if (expectedBytes > this.limits.maxSpooledBytes) {
      throw new SealdError('too-large', 'SPOOL_FULL', `a document of ${expectedBytes} bytes is larger than the server's spool budget (${this.limits.maxSpooledBytes} bytes)`);
    }
    if (signal.aborted) throw signal.reason;
    if (this.#queue.length === 0 && this.#fits(expectedBytes)) {
      this.#active++;
      this.#spooled += expectedBytes;
      return this.#ticket(expectedBytes);
    }
    if (this.#queue.length >= this.limits.maxQueuedDocuments) {
      throw new SealdError(
        'too-large',
        'SERVER_BUSY',
        `the server is at capacity (${this.#active} documents in progress, ${this.#queue.length} waiting): retry with back-off`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) this.#queue.splice(index, 1);
        reject(signal.reason);
        this.#pump();
      };
      const waiter: Waiter = {
        bytes: expectedBytes,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
    return this.#ticket(expectedBytes);
  }

  /**
   * Refuse new calls from now on (shutdown). Calls already admitted or queued were accepted: they go on, within the
   * drain time (after it the server cancels them and their waits end with the call).
   */
  close(): void {
    this.#closed = true;
  }

  #fits(bytes: number): boolean {
    return this.#active < this.limits.maxConcurrentDocuments && this.#spooled + bytes <= this.limits.maxSpooledBytes;
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#fits(this.#queue[0]!.bytes)) {
      const waiter = this.#queue.shift()!;
      this.#active++;
      this.#spooled += waiter.bytes;
      waiter.grant();
    }
  }

  /** `announced` bytes are already counted; bytes received beyond them are counted as they arrive. */
  #ticket(announced: number): AdmissionTicket {
    let held = announced;
    let received = 0;
    let released = false;
    return {
      reserve: (bytes) => {
        received += bytes;
        const extra = received - held;
        if (extra <= 0) return;
        this.#spooled += extra;
        held += extra;
        if (this.#spooled > this.limits.maxSpooledBytes) {
          throw new SealdError(
            'too-large',
            'SPOOL_FULL',
            `the server holds too many document bytes right now (budget ${this.limits.maxSpooledBytes}): retry with back-off`,
          );
        }
      },
      release: () => {
        if (released) return;
        released = true;
        this.#active--;
        this.#spooled -= held;
        this.#pump();
      },
    };
  }
}
