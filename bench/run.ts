/**
 * `npm run bench`: every runner on the same corpus and the same RSA-2048 key, N rounds, medians printed as docs/s,
 * MB/s, peak RSS and ratios to the floor; every output checked by pdfsig; seald's server memory and latency.
 *
 *   npm run bench -- [--runs 3] [--passes 5] [--concurrency 4] [--only floor,seald,prepare-locally,pdfbox,…] [--skip …]
 *                    [--flat 10000] [--huge] [--profile] [--seald-root DIR] [--small N]
 *
 * --passes N    each round is one batch of the corpus N times over (distinct outputs, so distinct documents to seald's
 *               idempotency), run by every runner the same way: a night's batch is long, and a 76-document batch
 *               mostly measures how fast a process starts and its JIT warms up (--passes 1: the corpus once)
 * --flat N      also seal N small documents on one server, reporting its VmHWM after 1,000 and after N (flat-RSS goal)
 * --huge        also seal a 1 GB document (generated once, streaming) and report the server's peak RSS
 * --profile     run the server under node --cpu-prof for one extra seald round; summary in bench/out/profile/
 * --seald-root  run `seald serve` from another checkout (e.g. to compare two branches on the same corpus)
 * --small N     number of small contracts in the corpus (default 40, the NOTES.md mix)
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR, DEFAULT_CORPUS, DEFAULT_CORPUS_DIR, corpusBytes, ensureCorpus, type CorpusFile } from './corpus.ts';
import { MB, median, parseRunResult, percentile, runMeasured, type RunResult } from './measure.ts';
import { PEERS, type PeerContext } from './peers.ts';
import { summariseProfile } from './profile.ts';
import type { WorkItem } from './runners/list.ts';
import { SealdServerProcess } from './seald-server.ts';
import { ensureBenchKey, BENCH_SEAL_ID, type BenchKey } from './token.ts';
import { verifyOutputs, type VerifyResult } from './verify.ts';

const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const OUT = path.join(BENCH_DIR, 'out');
const RUNNERS_DIR = path.join(BENCH_DIR, 'runners');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    passes: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '4' },
    only: { type: 'string' },
    skip: { type: 'string' },
    flat: { type: 'string' },
    huge: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'seald-root': { type: 'string' },
    small: { type: 'string' },
  },
});
const runs = Number(values.runs);
const passes = Number(values.passes);
const concurrency = Number(values.concurrency);
const sealdRoot = path.resolve(values['seald-root'] ?? REPO_ROOT);
const selected = (name: string): boolean =>
  (values.only === undefined || values.only.split(',').includes(name)) && !(values.skip ?? '').split(',').includes(name);

interface Runner {
  name: string;
  /** Signs outputs that pdfsig can check (the floor does not). */
  verifiable: boolean;
  /** Why it cannot run here, with how to make it run; undefined when it can. */
  unavailable?: string;
  run(items: WorkItem[]): Promise<RunResult>;
}

function workList(files: readonly CorpusFile[], corpusDir: string, outDir: string): WorkItem[] {
  return files.map((f) => ({ ...f, input: path.join(corpusDir, f.file), output: path.join(outDir, path.basename(f.file)) }));
}

/** The corpus `passes` times over, pass k writing into outDir/pass-k (created here, for runners that do not mkdir). */
async function batchList(files: readonly CorpusFile[], corpusDir: string, outDir: string): Promise<WorkItem[]> {
  const items: WorkItem[] = [];
  for (let pass = 1; pass <= passes; pass++) {
    const dir = path.join(outDir, `pass-${pass}`);
    await mkdir(dir, { recursive: true });
    items.push(...workList(files, corpusDir, dir));
  }
  return items;
}

async function freshDir(dir: string): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A runner written in TypeScript runs in a child process of its own, so its peak RSS is its own. */
async function nodeRunner(script: string, items: WorkItem[], args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const list = path.join(OUT, `list-${path.basename(script, '.ts')}.json`);
  await writeFile(list, JSON.stringify(items));
  const outcome = await runMeasured(process.execPath, ['--import', 'tsx', path.join(RUNNERS_DIR, script), '--list', list, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
  const result = parseRunResult(outcome, script);
  result.peakRss = outcome.maxRss;
  return result;
}

async function sealdRound(key: BenchKey, items: WorkItem[], mode: 'unary' | 'batch' | 'prepared', placement: string, cpuProfDir?: string): Promise<RunResult> {
  const server = await SealdServerProcess.start({ root: sealdRoot, configPath: key.configPath, ...(cpuProfDir === undefined ? {} : { cpuProfDir }) });
  try {
    const result = await nodeRunner('seald-client.ts', items, ['--server', server.address, '--mode', mode, '--placement', placement, '--concurrency', String(concurrency)]);
    result.serverPeakRss = server.peakRss();
    return result;
  } finally {
    await server.stop();
  }
}

function sealdRunner(key: BenchKey, mode: 'unary' | 'batch', placement: 'image' | 'cross-page'): Runner {
  const name = `seald ${mode}${placement === 'image' ? '' : ` ${placement}`}`;
  return { name, verifiable: true, run: (items) => sealdRound(key, items, mode, placement) };
}

/**
 * seald batch with a PAdES B-T signature time-stamp on every seal, from a local TSA (OpenSSL's `ts -reply` behind
 * HTTP, test/support/test-tsa.ts, its certificate under the bench's dev CA): how much one TSA round trip per document
 * costs when a batch keeps several documents in flight.
 */
function timestampedRunner(key: BenchKey): Runner {
  return {
    name: 'seald batch timestamped',
    verifiable: true,
    run: async (items) => {
      const { startTestTsa } = await import('../test/support/test-tsa.ts');
      const tsa = await startTestTsa({
        dir: await freshDir(path.join(OUT, 'tsa')),
        ca: { certPem: path.join(key.dataDir, 'ca', 'dev-ca.pem'), keyPem: path.join(key.dataDir, 'ca', 'dev-ca.key.pem') },
      });
      const configPath = path.join(key.dataDir, 'seald-timestamped.yaml');
      await writeFile(configPath, `${await readFile(key.configPath, 'utf8')}\ntsa:\n  urls: [${tsa.url}]\n  seal_timestamp: true\n`);
      try {
        return await sealdRound({ ...key, configPath }, items, 'batch', 'image');
      } finally {
        await tsa.close();
      }
    },
  };
}

/**
 * `seald batch --prepare-locally` (issue 21 item 3): the client writes and hashes each revision with seald's engine and
 * the server signs digests only. Its own configuration grants the bench's anonymous caller sign-digest, which no
 * default grants. Selected with `--only floor,prepare-locally`.
 */
function preparedRunner(key: BenchKey): Runner {
  return {
    name: 'prepare-locally',
    verifiable: true,
    run: async (items) => {
      const configPath = path.join(key.dataDir, 'seald-prepared.yaml');
      const grant = 'policy:\n  principals:\n    - name: bench\n      match: { anonymous: true }\n      grants:\n        - seals: ["*"]\n          operations: ["*", sign-digest]\n';
      await writeFile(configPath, `${await readFile(key.configPath, 'utf8')}\n${grant}`);
      return sealdRound({ ...key, configPath }, items, 'prepared', 'image');
    },
  };
}

// --- report ---------------------------------------------------------------------------------------------------------

interface Row {
  runner: Runner;
  results: RunResult[];
  verify?: VerifyResult;
}

const mib = (bytes: number | undefined): string => (bytes === undefined || !Number.isFinite(bytes) ? '-' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`);

function describeRow(row: Row, floorSeconds: number | undefined): string[] {
  const seconds = median(row.results.map((r) => r.seconds));
  const docs = row.results[0]!.docs;
  const bytes = row.results[0]!.bytes;
  // Verified runners: every output pdfsig does not call valid, written or not; the floor: what the runner reported.
  const failures = row.verify?.invalid ?? Math.max(...row.results.map((r) => r.failures));
  const peak = median(row.results.map((r) => r.peakRss ?? Number.NaN));
  const server = row.results[0]!.serverPeakRss === undefined ? undefined : Math.max(...row.results.map((r) => r.serverPeakRss!));
  return [
    row.runner.name,
    (docs / seconds).toFixed(1),
    (bytes / MB / seconds).toFixed(1),
    seconds.toFixed(2),
    floorSeconds === undefined ? '-' : (seconds / floorSeconds).toFixed(2),
    server === undefined ? mib(peak) : `${mib(server)} server + ${mib(peak)} client`,
    row.verify === undefined ? `${failures}` : `${failures} (${row.verify.checked} checked)`,
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const corpusOptions = { ...DEFAULT_CORPUS, ...(values.small === undefined ? {} : { small: Number(values.small) }) };
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB, Node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const files = await ensureCorpus(DEFAULT_CORPUS_DIR, corpusOptions, (l) => console.log(l));
  console.log(
    `corpus: ${files.length} PDFs, ${(corpusBytes(files) / MB).toFixed(1)} MB (bench/corpus, seed ${corpusOptions.seed}); ` +
      `${runs} rounds, each a batch of the corpus ${passes} times over (${files.length * passes} documents); concurrency ${concurrency}`,
  );
  const key = await ensureBenchKey(OUT);
  const peerContext: PeerContext = { key, benchDir: BENCH_DIR, outDir: OUT, concurrency };

  const floorArgs = ['--config', key.configPath, '--seal', BENCH_SEAL_ID, '--concurrency', String(concurrency)];
  const runners: Runner[] = [
    { name: 'floor', verifiable: false, run: (items) => nodeRunner('floor.ts', items, floorArgs) },
    { name: 'floor over gRPC', verifiable: false, run: (items) => nodeRunner('floor-grpc.ts', items, floorArgs) },
    sealdRunner(key, 'unary', 'image'),
    sealdRunner(key, 'batch', 'image'),
    sealdRunner(key, 'batch', 'cross-page'),
    timestampedRunner(key),
    preparedRunner(key),
  ];
  for (const peer of PEERS) {
    const unavailable = await peer.unavailable(peerContext);
    runners.push({ name: peer.name, verifiable: true, ...(unavailable === undefined ? {} : { unavailable }), run: (items) => peer.run(items, peerContext) });
  }

  const active: Row[] = [];
  for (const runner of runners) {
    if (!selected(runner.name.split(' ')[0]!) && !selected(runner.name)) continue;
    if (runner.unavailable !== undefined) {
      console.log(`skipped ${runner.name}: ${runner.unavailable}`);
      continue;
    }
    active.push({ runner, results: [] });
  }
  for (let round = 1; round <= runs; round++) {
    for (const row of active) {
      const outDir = await freshDir(path.join(OUT, 'results', row.runner.name.replace(/[^a-z0-9]+/gi, '-')));
      try {
        const result = await row.runner.run(await batchList(files, DEFAULT_CORPUS_DIR, outDir));
        row.results.push(result);
        console.log(`round ${round}: ${row.runner.name.padEnd(18)} ${result.seconds.toFixed(2)} s, ${result.failures} failed${result.serverPeakRss === undefined ? '' : `, server VmHWM ${mib(result.serverPeakRss)}`}${result.notes?.length ? ` (${result.notes[0]})` : ''}`);
      } catch (error) {
        console.log(`round ${round}: ${row.runner.name} failed: ${(error as Error).message}`);
      }
    }
  }
  const done = active.filter((row) => row.results.length > 0);
  for (const row of done) {
    if (!row.runner.verifiable) continue;
    const outDir = path.join(OUT, 'results', row.runner.name.replace(/[^a-z0-9]+/gi, '-'));
    const outputs = (await readdir(outDir, { recursive: true })).filter((f) => f.endsWith('.pdf')).map((f) => path.join(outDir, f));
    row.verify = await verifyOutputs(outputs, key.nssDir);
    // A document the runner never wrote counts against it too.
    row.verify.invalid += files.length * passes - outputs.length;
    if (row.verify.examples.length > 0) console.log(`pdfsig on ${row.runner.name}: ${row.verify.examples.join('; ')}`);
  }

  const floor = done.find((row) => row.runner.name === 'floor');
  const floorSeconds = floor === undefined ? undefined : median(floor.results.map((r) => r.seconds));
  if (done.length > 0) {
    console.log(
      `\nmedians of ${runs} rounds, each a batch of ${files.length * passes} documents (the corpus ${passes}×; time from first read to last write;` +
        ' process-per-file peers include their start-ups)',
    );
    console.log(table([['runner', 'docs/s', 'MB/s', 'seconds', '÷ floor', 'peak RSS', 'failures'], ...done.map((row) => describeRow(row, floorSeconds))]));
  }

  const seald = done.find((row) => row.runner.name === 'seald batch') ?? done.find((row) => row.runner.name === 'seald unary');
  if (seald !== undefined) {
    const latencies = seald.results.flatMap((r) => r.smallLatenciesMs ?? []);
    if (latencies.length > 0) {
      console.log(`\n${seald.runner.name}: small-document latency under load (concurrency ${concurrency}, ${latencies.length} samples): p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
    }
    goals(seald, floorSeconds, done);
  }
  const prepared = done.find((row) => row.runner.name === 'prepare-locally');
  if (prepared !== undefined) preparedGoals(prepared, floorSeconds, done);

  if (values.profile) await profileRound(key, files);
  if (values.flat !== undefined) await flatRss(key, files, Number(values.flat));
  if (values.huge) await hugeDocument(key, corpusOptions);
  if (done.length === 0) return;
  await writeFile(path.join(OUT, 'results.json'), JSON.stringify(done.map((r) => ({ runner: r.runner.name, results: r.results.map((x) => ({ ...x, smallLatenciesMs: undefined })), verify: r.verify })), null, 1));
}

/** Issue 21 item 3: --prepare-locally within 1.3× the floor and at least 1.5× mutool; the client's peak RSS beside it. */
function preparedGoals(row: Row, floorSeconds: number | undefined, rows: Row[]): void {
  const seconds = median(row.results.map((r) => r.seconds));
  const lines: string[] = [];
  if (floorSeconds !== undefined) lines.push(`time ÷ floor ${(seconds / floorSeconds).toFixed(2)} (goal ≤ 1.3)`);
  const mutool = rows.find((r) => r.runner.name === 'mutool');
  if (mutool !== undefined) lines.push(`× mutool ${(median(mutool.results.map((r) => r.seconds)) / seconds).toFixed(1)} (goal ≥ 1.5)`);
  lines.push(`client peak RSS ${mib(Math.max(...row.results.map((r) => r.peakRss ?? 0)))}, server ${mib(Math.max(...row.results.map((r) => r.serverPeakRss ?? 0)))}`);
  console.log(`goals (prepare-locally): ${lines.join('; ')}`);
}

function goals(seald: Row, floorSeconds: number | undefined, rows: Row[]): void {
  const seconds = median(seald.results.map((r) => r.seconds));
  const speed = (name: string): number | undefined => {
    const row = rows.find((r) => r.runner.name === name);
    return row === undefined ? undefined : 1 / median(row.results.map((r) => r.seconds));
  };
  const lines: string[] = [];
  if (floorSeconds !== undefined) lines.push(`time ÷ floor ${(seconds / floorSeconds).toFixed(2)} (goal ≤ 1.3)`);
  // The same hop with nothing else on it: how much of the distance to the floor the transport takes by itself.
  const overGrpc = speed('floor over gRPC');
  if (overGrpc !== undefined) {
    lines.push(`time ÷ floor over gRPC ${(overGrpc * seconds).toFixed(2)}`);
    if (floorSeconds !== undefined) lines.push(`floor over gRPC ÷ floor ${(1 / overGrpc / floorSeconds).toFixed(2)}`);
  }
  const pdfbox = speed('pdfbox');
  if (pdfbox !== undefined) lines.push(`× PDFBox ${((1 / seconds) / pdfbox).toFixed(1)} (goal ≥ 3)`);
  const mutool = speed('mutool');
  if (mutool !== undefined) {
    lines.push(`× mutool ${((1 / seconds) / mutool).toFixed(1)} (goal ≥ 2)`);
    if (overGrpc !== undefined) lines.push(`floor over gRPC × mutool ${(overGrpc / mutool).toFixed(1)}`);
  }
  const server = Math.max(...seald.results.map((r) => r.serverPeakRss ?? 0));
  lines.push(`server peak RSS ${mib(server)} for the whole corpus (goal < 200 MiB)`);
  console.log(`goals (${seald.runner.name}): ${lines.join('; ')}`);
}

async function profileRound(key: BenchKey, files: readonly CorpusFile[]): Promise<void> {
  const dir = await freshDir(path.join(OUT, 'profile'));
  const outDir = await freshDir(path.join(OUT, 'results', 'profile'));
  const mode = 'batch';
  // Two passes over the corpus in one client run, so lazy first-use work (module loading) weighs little.
  const items = workList(files, DEFAULT_CORPUS_DIR, outDir);
  const result = await sealdRound(key, [...items, ...items.map((i) => ({ ...i, output: `${i.output}.2.pdf` }))], mode, 'image', dir);
  const profile = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  if (profile === undefined) {
    console.log('\nprofile: the server wrote no .cpuprofile');
    return;
  }
  console.log(`\nprofile (seald ${mode}, ${result.seconds.toFixed(2)} s under node --cpu-prof; ${path.join(dir, profile)})`);
  console.log(await summariseProfile(path.join(dir, profile), sealdRoot, result.window));
}

/** One server, N small documents (cycling over the corpus's small contracts), VmHWM after 1,000 and after N. */
async function flatRss(key: BenchKey, files: readonly CorpusFile[], count: number): Promise<void> {
  const small = files.filter((f) => f.kind === 'small');
  const outDir = await freshDir(path.join(OUT, 'results', 'flat'));
  const items = Array.from({ length: count }, (_, i) => {
    const f = small[i % small.length]!;
    return { ...f, input: path.join(DEFAULT_CORPUS_DIR, f.file), output: path.join(outDir, `${String(i).padStart(6, '0')}.pdf`) };
  });
  const server = await SealdServerProcess.start({ root: sealdRoot, configPath: key.configPath });
  const idle = server.peakRss();
  try {
    const mode = 'batch';
    const args = ['--server', server.address, '--mode', mode, '--placement', 'image', '--concurrency', String(concurrency)];
    const first = Math.min(1000, count);
    // VmHWM keeps a transient peak (a major GC late, a burst) forever; VmRSS sampled through each phase shows
    // whether memory grows with the batch or only spikes.
    const sampled = (run: Promise<RunResult>): Promise<[RunResult, number[]]> => {
      const samples: number[] = [];
      const timer = setInterval(() => samples.push(server.rss()), 100);
      return run.finally(() => clearInterval(timer)).then((result) => [result, samples]);
    };
    const [a, samples1] = await sampled(nodeRunner('seald-client.ts', items.slice(0, first), args));
    const hwm1 = server.peakRss();
    const rss1 = server.rss();
    const [b, samples2] = await sampled(nodeRunner('seald-client.ts', items.slice(first), args));
    const hwm2 = server.peakRss();
    const rss2 = server.rss();
    const spread = (unsorted: number[]): string => {
      const samples = [...unsorted].sort((x, y) => x - y);
      return samples.length === 0 ? 'no samples' : `median ${mib(samples[Math.floor(samples.length / 2)]!)}, max ${mib(samples[samples.length - 1]!)}`;
    };
    // Memory that grows with the batch shows as a second half above the first; a sawtooth (garbage collected in
    // bursts) as the same maximum in both.
    const halves = [samples2.slice(0, Math.floor(samples2.length / 2)), samples2.slice(Math.floor(samples2.length / 2))];
    const docs = a.docs + b.docs;
    const notes = [...(a.notes ?? []), ...(b.notes ?? [])];
    console.log(
      `\nflat RSS (seald ${mode}, ${small.length} distinct small contracts cycled, ${docs} documents, ${a.failures + b.failures} failed, ${(docs / (a.seconds + b.seconds)).toFixed(1)} docs/s):` +
        ` idle server VmHWM ${mib(idle)}; after ${first}: VmHWM ${mib(hwm1)}, VmRSS ${mib(rss1)}; after ${count}: VmHWM ${mib(hwm2)}, VmRSS ${mib(rss2)};` +
        ` growth ${(((hwm2 - hwm1) / hwm1) * 100).toFixed(1)}% (goal within ±10%)${notes.length > 0 ? `; ${notes.join('; ')}` : ''}` +
        `\n  VmRSS sampled every 100 ms: documents 1-${first} ${spread(samples1)}; ${first + 1}-${count}: first half ${spread(halves[0])}, second half ${spread(halves[1])}`,
    );
  } finally {
    await server.stop();
    await rm(outDir, { recursive: true, force: true });
  }
}

async function hugeDocument(key: BenchKey, corpusOptions: typeof DEFAULT_CORPUS): Promise<void> {
  const files = await ensureCorpus(DEFAULT_CORPUS_DIR, { ...corpusOptions, huge: true }, (l) => console.log(l));
  const huge = files.find((f) => f.kind === 'huge')!;
  const outDir = await freshDir(path.join(OUT, 'results', 'huge'));
  const server = await SealdServerProcess.start({
    root: sealdRoot,
    configPath: key.configPath,
    env: { SEALD_MAX_DOCUMENT_BYTES: String(2 * 1024 ** 3) },
  });
  try {
    const items = workList([huge], DEFAULT_CORPUS_DIR, outDir);
    const result = await nodeRunner('seald-client.ts', items, ['--server', server.address, '--mode', 'unary', '--placement', 'image', '--concurrency', '1']);
    const peak = server.peakRss();
    const verify = existsSync(items[0]!.output) && result.failures === 0 ? await verifyOutputs([items[0]!.output], key.nssDir) : undefined;
    console.log(
      `\nhuge document (${(huge.bytes / MB).toFixed(0)} MB): ${result.failures === 0 ? `sealed in ${result.seconds.toFixed(1)} s (${(huge.bytes / MB / result.seconds).toFixed(0)} MB/s)` : `FAILED: ${result.notes?.[0]}`},` +
        ` server peak RSS ${mib(peak)} (goal < 300 MiB), client ${mib(result.peakRss)}, pdfsig ${verify === undefined ? 'not run' : verify.invalid === 0 ? 'valid' : verify.examples[0]}`,
    );
  } finally {
    await server.stop();
    await rm(outDir, { recursive: true, force: true });
  }
  // The same document prepared locally: the client holds the revision and reads the file twice, streaming.
  const preparedConfig = path.join(key.dataDir, 'seald-prepared.yaml');
  if (!existsSync(preparedConfig)) return; // written by the prepare-locally runner
  const local = await SealdServerProcess.start({ root: sealdRoot, configPath: preparedConfig });
  try {
    const items = workList([huge], DEFAULT_CORPUS_DIR, await freshDir(path.join(OUT, 'results', 'huge-prepared')));
    const result = await nodeRunner('seald-client.ts', items, ['--server', local.address, '--mode', 'prepared', '--placement', 'image', '--concurrency', '1']);
    console.log(
      `huge document, --prepare-locally: ${result.failures === 0 ? `sealed in ${result.seconds.toFixed(1)} s` : `FAILED: ${result.notes?.[0]}`}, client peak RSS ${mib(result.peakRss)} (goal < 300 MiB), server ${mib(local.peakRss())}`,
    );
  } finally {
    await local.stop();
    await rm(path.join(OUT, 'results', 'huge-prepared'), { recursive: true, force: true });
  }
}

await main();
