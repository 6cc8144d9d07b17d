// The fuzz worker thread's entry (test/fuzz/run.ts): Node 20 does not carry vitest's or tsx's loader into worker
// threads, so the worker registers tsx itself before loading the TypeScript (as bench/score-worker-entry.mjs does).
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
