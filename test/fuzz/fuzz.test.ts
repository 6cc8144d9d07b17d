/**
 * Fuzzing the parser, the recovery path and the decryption (issue 18): mutated seed documents (mutate.ts) through
 * everything src/pdf does with an untrusted file (target.ts), in a worker thread with a capped heap and a watchdog
 * (run.ts). Any exception that is not a typed refusal, any input running past the deadline, any out-of-memory death
 * fails the test; each finding's input is written to test/.cache/fuzz/ and reproduced by its seed and iteration.
 * Every crash found so far is a regression fixture in regressions.test.ts.
 *
 * CI runs a fixed, reproducible budget (seed 20261202, 400 iterations, stopped at 50 s if the machine is slower than
 * that: about 40 s on a loaded 2-core machine). A longer run, with a new seed each time (printed):
 *   SEALD_FUZZ_SECONDS=600 SEALD_FUZZ_ITERATIONS=1000000 SEALD_FUZZ_SEED=random nice -n 10 npx vitest run test/fuzz/fuzz.test.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedCorpus } from './corpus.ts';
import { distinctFindings, fuzz } from './run.ts';

const env = process.env;
const seed = env['SEALD_FUZZ_SEED'] === 'random' ? Math.floor(Math.random() * 2 ** 32) : Number(env['SEALD_FUZZ_SEED'] ?? 20261202);
const iterations = Number(env['SEALD_FUZZ_ITERATIONS'] ?? 400);
const seconds = Number(env['SEALD_FUZZ_SECONDS'] ?? 50);

describe('fuzzing src/pdf with mutated documents', () => {
  it(`no crash, hang or runaway memory (seed ${seed}, up to ${iterations} iterations or ${seconds} s)`, { timeout: (seconds + 240) * 1000 }, async () => {
    const corpus = await seedCorpus();
    const report = await fuzz({ seed, corpus, iterations, seconds });
    const distinct = distinctFindings(report.findings);
    const lines = [
      `fuzz: seed ${report.seed}, ${report.iterations} iterations in ${(report.millis / 1000).toFixed(1)} s over ${corpus.length} seed documents`,
      `outcomes (strict/recovering/sealed output): ${[...report.outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`,
      ...distinct.map(({ finding: f, count }) => `${f.kind} ×${count}: iteration ${f.iteration}: ${f.summary}\n    input: ${f.description}`),
    ];
    console.log(lines.join('\n'));
    if (report.findings.length > 0) {
      const dir = join(import.meta.dirname, '..', '.cache', 'fuzz');
      await mkdir(dir, { recursive: true });
      for (const { finding } of distinct) await writeFile(join(dir, `${finding.kind}-${seed}-${finding.iteration}.pdf`), finding.input);
    }
    expect(distinct.map(({ finding: f }) => `${f.kind} at iteration ${f.iteration}: ${f.summary}`)).toEqual([]);
    // The budget was spent on documents, not on a broken set-up: most inputs must get past the first read.
    expect(report.iterations).toBeGreaterThan(Math.min(iterations, 100));
    expect([...report.outcomes].filter(([k]) => k.startsWith('read')).reduce((n, [, c]) => n + c, 0)).toBeGreaterThan(report.iterations / 10);
  });
});
