/**
 * The fuzz worker thread: runs iterations from `from` on, posting `start` before each so the main thread knows which
 * input a hang or an out-of-memory death belongs to (PdfDocument.open is synchronous: only another thread can stop it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { caseFor } from './mutate.ts';
import { exercise } from './target.ts';
import type { FromWorker, WorkerSetup } from './protocol.ts';

const setup = workerData as WorkerSetup;
const post = (m: FromWorker) => parentPort!.postMessage(m);

for (let i = setup.from; i < setup.until && Date.now() < setup.deadline; i++) {
  post({ type: 'start', i });
  const input = caseFor(setup.seed, i, setup.corpus);
  const started = performance.now();
  try {
    const outcome = await exercise(input.bytes, input.password);
    post({ type: 'done', i, ms: performance.now() - started, outcome });
  } catch (error) {
    const e = error as Error;
    post({ type: 'crash', i, ms: performance.now() - started, name: e?.name ?? typeof error, message: String(e?.message ?? error), stack: String(e?.stack ?? '') });
  }
}
post({ type: 'finished' });
