/**
 * The fuzz driver: runs the mutator (mutate.ts) over a seed corpus in a worker thread with a capped heap, watching
 * it from this thread. A finding is
 *   crash   an exception that is not a SealdError or LimitExceeded (target.ts),
 *   hang    an input still running after `hangMillis` (the worker is terminated and a new one goes on after it),
 *   slow    an input that finished, but after `slowMillis` (a deadline a server worker would have missed),
 *   memory  the worker died for want of heap (`maxHeapMb`): memory that grows with something a file controls.
 * Each finding carries (seed, iteration): `caseFor(seed, iteration, corpus)` rebuilds its input exactly.
 */
import { Worker } from 'node:worker_threads';
import { caseFor, type SeedDocument } from './mutate.ts';
import type { FromWorker, WorkerSetup } from './protocol.ts';

export interface FuzzOptions {
  seed: number;
  corpus: SeedDocument[];
  /** Stop after this many iterations, or when `seconds` have passed, whichever comes first. */
  iterations: number;
  seconds: number;
  hangMillis?: number;
  slowMillis?: number;
  maxHeapMb?: number;
}

export interface Finding {
  kind: 'crash' | 'hang' | 'slow' | 'memory';
  iteration: number;
  /** What went wrong, and the stack's first frames in seald's code. */
  summary: string;
  /** The seed document and mutations (mutate.ts). */
  description: string;
  input: Uint8Array;
}

export interface FuzzReport {
  seed: number;
  iterations: number;
  millis: number;
  /** Outcomes of the strict, recovering and sealed-output readings, e.g. `read/read/read`: counts. */
  outcomes: Map<string, number>;
  findings: Finding[];
}

/** Frames of seald's own code, for a crash's summary (and to tell distinct crashes apart). */
function ownFrames(stack: string): string {
  return stack
    .split('\n')
    .filter((l) => l.includes('/src/'))
    .slice(0, 3)
    .map((l) => l.trim().replace(/^at /, '').replace(/\(.*\/src\//, '(src/'))
    .join(' ← ');
}

export async function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { seed, corpus } = options;
  // Generous, for a 2-core machine shared with other work: a clean seed document's own reading takes up to ~1 s
  // there (signed-by-other's 270 KB font dictionary), and every input is read three times.
  const hangMillis = options.hangMillis ?? 45_000;
  const slowMillis = options.slowMillis ?? 15_000;
  const started = Date.now();
  const deadline = started + options.seconds * 1000;
  const outcomes = new Map<string, number>();
  const findings: Finding[] = [];
  const finding = (kind: Finding['kind'], iteration: number, summary: string) => {
    const input = caseFor(seed, iteration, corpus);
    findings.push({ kind, iteration, summary, description: input.description, input: input.bytes });
  };
  let next = 0;
  while (next < options.iterations && Date.now() < deadline) {
    next = await new Promise<number>((resolve) => {
      const setup: WorkerSetup = { corpus, seed, from: next, until: options.iterations, deadline };
      const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
        workerData: setup,
        resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 768 },
      });
      let current = next;
      let since = Date.now();
      let settled = false;
      const settle = (resume: number) => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        void worker.terminate();
        resolve(resume);
      };
      const watchdog = setInterval(() => {
        if (Date.now() - since <= hangMillis) return;
        finding('hang', current, `still running after ${hangMillis} ms`);
        settle(current + 1);
      }, 250);
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'start') {
          current = m.i;
          since = Date.now();
        } else if (m.type === 'done') {
          const key = `${m.outcome.strict}/${m.outcome.recovering}/${m.outcome.sealed}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          if (m.ms > slowMillis) finding('slow', m.i, `took ${Math.round(m.ms)} ms`);
        } else if (m.type === 'crash') {
          finding('crash', m.i, `${m.name}: ${m.message.slice(0, 200)} at ${ownFrames(m.stack)}`);
        } else settle(Number.POSITIVE_INFINITY);
      });
      worker.on('error', (error: Error & { code?: string }) => {
        const memory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
        finding(memory ? 'memory' : 'crash', current, `worker died: ${error.code ?? error.name}: ${error.message.slice(0, 200)}`);
        settle(current + 1);
      });
      worker.on('exit', () => settle(current + 1));
    });
  }
  let iterations = 0;
  for (const n of outcomes.values()) iterations += n;
  iterations += findings.filter((f) => f.kind !== 'slow').length;
  return { seed, iterations, millis: Date.now() - started, outcomes, findings };
}

/** One line per distinct finding (same kind and same place in seald), with how often it was seen; slow inputs one by one. */
export function distinctFindings(findings: Finding[]): { finding: Finding; count: number }[] {
  const groups = new Map<string, { finding: Finding; count: number }>();
  for (const f of findings) {
    const key = f.kind === 'slow' ? `slow ${f.iteration}` : `${f.kind} ${f.summary.replace(/\d+/g, 'N')}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { finding: f, count: 1 });
  }
  return [...groups.values()];
}
