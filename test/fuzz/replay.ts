/**
 * Replay fuzz findings outside vitest, timed: `node --import tsx test/fuzz/replay.ts FILE… ` (the inputs the fuzz test
 * writes to test/.cache/fuzz/) or `node --import tsx test/fuzz/replay.ts --seed S I…` (rebuilt from the seed corpus).
 * Prints each input's outcome or the error it throws, and how long it took.
 */
import { readFile } from 'node:fs/promises';
import { seedCorpus } from './corpus.ts';
import { caseFor } from './mutate.ts';
import { exercise } from './target.ts';

async function one(name: string, bytes: Uint8Array, password?: string): Promise<void> {
  const started = performance.now();
  try {
    const outcome = await exercise(bytes, password);
    console.log(`${name}: ${JSON.stringify(outcome)} in ${Math.round(performance.now() - started)} ms`);
  } catch (error) {
    console.log(`${name}: THROWS after ${Math.round(performance.now() - started)} ms: ${(error as Error).stack}`);
  }
}

const args = process.argv.slice(2);
if (args[0] === '--seed') {
  const seed = Number(args[1]);
  const corpus = await seedCorpus();
  for (const i of args.slice(2).map(Number)) {
    const c = caseFor(seed, i, corpus);
    console.log(`iteration ${i}: ${c.description}`);
    await one(`iteration ${i}`, c.bytes, c.password);
  }
} else {
  for (const file of args) await one(file, new Uint8Array(await readFile(file)));
}
