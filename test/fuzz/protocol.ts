/** Messages between the fuzz driver (run.ts) and its worker thread (worker.ts). */
import type { SeedDocument } from './mutate.ts';
import type { exercise } from './target.ts';

export interface WorkerSetup {
  corpus: SeedDocument[];
  seed: number;
  /** First iteration to run, and one past the last. */
  from: number;
  until: number;
  /** Date.now() after which no new iteration starts. */
  deadline: number;
}

export type FromWorker =
  | { type: 'start'; i: number }
  | { type: 'done'; i: number; ms: number; outcome: Awaited<ReturnType<typeof exercise>> }
  | { type: 'crash'; i: number; ms: number; name: string; message: string; stack: string }
  | { type: 'finished' };
