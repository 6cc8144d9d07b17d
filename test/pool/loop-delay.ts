/**
 * Event-loop delay measured so that it means something on a loaded shared machine (CI: 2 cores, many processes).
 *
 * perf_hooks' monitorEventLoopDelay measures wall-clock lateness of a timer; on a machine with a load average of
 * 20 most of that is the OS not scheduling the process at all, which says nothing about seald blocking its loop.
 * So a timer fires every `intervalMs` and, for each interval, the lateness is reduced by the time the main thread
 * spent runnable but waiting for a CPU (Linux /proc/thread-self/schedstat, field 2, in ns). What remains is the
 * delay the loop would have had with a CPU to itself: synchronous work of seald, its libraries and GC pauses.
 * Both figures are reported; the adjusted one is asserted.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface LoopDelayFigures {
  /** Wall-clock lateness of the timer, ms. */
  raw: { p50: number; p99: number; max: number };
  /** Lateness minus run-queue wait, ms. */
  own: { p50: number; p99: number; max: number };
  samples: number;
}

function figures(h: RecordableHistogram) {
  return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

export function measureLoopDelay(intervalMs = 5): { stop(): LoopDelayFigures } {
  const fd = openSync('/proc/thread-self/schedstat', 'r');
  const buffer = Buffer.alloc(128);
  const runQueueWait = (): bigint => {
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    return BigInt(buffer.toString('latin1', 0, n).split(' ')[1]!);
  };
  const raw = createHistogram();
  const own = createHistogram();
  const interval = BigInt(intervalMs * 1e6);
  let last = process.hrtime.bigint();
  let lastWait = runQueueWait();
  const timer = setInterval(() => {
    const now = process.hrtime.bigint();
    const wait = runQueueWait();
    const late = now - last - interval;
    raw.record(late > 0n ? late : 1n);
    const mine = late - (wait - lastWait);
    own.record(mine > 0n ? mine : 1n);
    last = now;
    lastWait = wait;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      closeSync(fd);
      return { raw: figures(raw), own: figures(own), samples: raw.count };
    },
  };
}
