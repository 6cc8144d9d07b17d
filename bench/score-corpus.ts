/**
 * Score seald on other people's PDFs: seal page 1 of every file in-process on a SoftHSM token, check what came out
 * with independent tools, verify the files that already carry signatures, and count what happened.
 *
 *   node --import tsx bench/score-corpus.ts DIR... [--json out.json] [--limit N] [--timeout S]
 *
 * Per file (at most 100 MB; larger ones are skipped, not read):
 *   sealed   → `qpdf --check` must exit 0 or 3 (3 = warnings; when it fails, the original is checked too), the original
 *              must be an exact prefix of the output, `pdfsig -nocert` must call the new signature valid (skipped for
 *              an encrypted output pdfsig cannot open without a user password), and seald's own verifier too;
 *   refused  → a SealdError: counted by code (category `internal` is listed apart: it means a bug or a failed check);
 *   crashed  → any other exception, or the worker running out of memory: a bug, its stack printed;
 *   hung     → no answer within the timeout (30 s by default): the worker is stopped and replaced.
 * Files that carry signatures (a /ByteRange in the bytes or a signature field) also get `verifyDocument`; its verdicts
 * are counted, and an INVALID "the PDF cannot be analysed" (the verifier's catch of a RangeError/TypeError) is counted
 * as a masked crash. `--limit N` takes the first N files (by name) of each DIR. The corpora stay outside the repository;
 * bench/README.md ("Other people's files") says how they were fetched and what the last run found.
 *
 * The parsing runs in a worker thread (bench/score-worker.ts) so a hang or an exhausted heap can be stopped; the token
 * stays in this thread, which signs for the worker. The token is the embedded defaults' (bench/out/score-data).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { loadTrustAnchors } from '../src/crypto/anchors.ts';
import { pemToDer } from '../src/crypto/certificate.ts';
import { SealdError } from '../src/errors.ts';
import { TokenPool } from '../src/pool/pool.ts';
import { loadServerConfig } from '../src/provision/load-config.ts';
import type { FileResult, Outcome, Sealed, WorkerMessage, WorkerSetup } from './score-protocol.ts';

const MAX_BYTES = 100 * 1024 * 1024;
const WORKER_HEAP_MB = 1536;
const TOOL_TIMEOUT_MS = 60_000;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: 'string' },
    limit: { type: 'string' },
    timeout: { type: 'string', default: '30' },
    quiet: { type: 'boolean', default: false },
  },
});
if (positionals.length === 0) {
  console.error('usage: node --import tsx bench/score-corpus.ts DIR... [--json out.json] [--limit N] [--timeout S]');
  process.exit(2);
}
const limit = values.limit === undefined ? Infinity : Number(values.limit);
const timeoutMs = Number(values.timeout) * 1000;

function pdfsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...pdfsUnder(p));
    else if (entry.isFile() && /\.pdf$/i.test(entry.name)) out.push(p);
  }
  return out;
}

const files = positionals.flatMap((dir) => pdfsUnder(path.resolve(dir)).slice(0, limit));
const benchDir = path.dirname(new URL(import.meta.url).pathname);
const dataDir = path.join(benchDir, 'out', 'score-data');
const outDir = mkdtempSync(path.join(os.tmpdir(), 'seald-score-'));
const keptDir = path.join(benchDir, 'out', 'score-kept');
mkdirSync(keptDir, { recursive: true });

const logger = pino({ level: 'warn' });
const config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
const pool = await TokenPool.open(config.pkcs11, logger);
const sealConfig = config.seals.find((s) => s.id === 'org')!;
const chain = pemToDer(readFileSync(sealConfig.certificates!, 'utf8'));
const signer = pool.signer('org', chain);
const setup: WorkerSetup = {
  certificates: chain,
  algorithm: signer.algorithm,
  sealPng: new Uint8Array(readFileSync(sealConfig.image!)),
  trustAnchors: loadTrustAnchors(config.trust.anchors),
};

/** One worker at a time; replaced after a hang or a crash of the thread itself. */
class ScoreWorker {
  private worker!: Worker;
  private ready!: Promise<void>;
  private current: { resolve(r: FileResult): void; phase: string; file: string } | undefined;
  /** Workers that died before saying ready: more than a few in a row means the worker cannot start at all. */
  private startFailures = 0;

  constructor() {
    this.start();
  }

  private start(): void {
    const worker = new Worker(new URL('./score-worker-entry.mjs', import.meta.url), {
      workerData: setup,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    this.worker = worker;
    let isReady = false;
    this.ready = new Promise((resolve) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          isReady = true;
          this.startFailures = 0;
          resolve();
        }
        else if (message.type === 'phase' && this.current) this.current.phase = message.phase;
        else if (message.type === 'sign') void this.sign(worker, message.id, message.digest);
        else if (message.type === 'done' && this.current) {
          const current = this.current;
          this.current = undefined;
          current.resolve(message.result);
        }
      });
    });
    worker.on('error', (error: Error & { code?: string }) => {
      // An uncaught exception or ERR_WORKER_OUT_OF_MEMORY: the thread is gone; the file crashed it.
      if (!isReady && ++this.startFailures > 3) {
        console.error(`the score worker does not start: ${error.stack ?? error.message}`);
        process.exit(1);
      }
      const current = this.current;
      this.current = undefined;
      if (current) {
        current.resolve({ file: current.file, bytes: 0, seal: { class: 'crashed', ms: 0, name: error.name, code: error.code, message: `${error.message} (worker died in phase ${current.phase})`, stack: error.stack } });
      }
      this.start();
    });
  }

  private async sign(worker: Worker, id: number, digest: Uint8Array): Promise<void> {
    try {
      worker.postMessage({ type: 'signed', id, signature: await signer.signDigest(digest) });
    } catch (error) {
      const e = error as SealdError;
      worker.postMessage({ type: 'signed', id, error: { category: e.category ?? 'internal', code: e.code ?? 'SIGN_FAILED', message: e.message } });
    }
  }

  async run(file: string, index: number): Promise<FileResult> {
    await this.ready;
    const started = performance.now();
    return new Promise<FileResult>((resolve) => {
      const timer = setTimeout(() => {
        const current = this.current;
        if (!current) return;
        this.current = undefined;
        const worker = this.worker;
        this.start();
        void worker.terminate();
        resolve({ file, bytes: statSync(file).size, seal: { class: 'hung', ms: performance.now() - started, phase: current.phase } });
      }, timeoutMs);
      this.current = {
        file,
        phase: 'read',
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.worker.postMessage({ type: 'job', job: { file, index, outDir } });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

function tool(cmd: string, args: string[]): Promise<{ exit: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: TOOL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const exit = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : -1;
      const killed = error !== null && (error as { killed?: boolean }).killed === true;
      resolve({ exit, stdout: String(stdout), stderr: killed ? `timed out after ${TOOL_TIMEOUT_MS / 1000} s` : String(stderr) });
    });
  });
}

function isPrefix(original: string, output: string): boolean {
  const size = statSync(original).size;
  if (statSync(output).size <= size) return false;
  const a = readFileSync(original);
  const fd = openSync(output, 'r');
  try {
    const b = Buffer.allocUnsafe(size);
    readSync(fd, b, 0, size, 0);
    return a.equals(b);
  } finally {
    closeSync(fd);
  }
}

/**
 * pdfsig's block for the new field: "Signature #N:" blocks, each with "- Signature Field Name: NAME" (poppler ≥ 21)
 * and "- Signature Validation: Signature is Valid.".
 */
function pdfsigVerdict(stdout: string, fieldName: string): { valid: boolean; detail?: string } {
  const blocks = stdout.split(/^Signature #\d+:/m).slice(1);
  const ours = blocks.find((b) => b.includes(`Signature Field Name: ${fieldName}\n`)) ?? blocks.at(-1);
  if (ours === undefined) return { valid: false, detail: stdout.trim().slice(0, 200) || 'no signature listed' };
  const validation = /Signature Validation: (.*)/.exec(ours)?.[1] ?? 'no validation line';
  const covers = /Total document signed/.test(ours);
  return { valid: validation === 'Signature is Valid.' && covers, ...(validation === 'Signature is Valid.' && covers ? {} : { detail: `${validation}${covers ? '' : '; not the total document'}` }) };
}

async function checkSealed(result: FileResult, sealed: Sealed): Promise<void> {
  const qpdf = await tool('qpdf', ['--check', sealed.output]);
  sealed.qpdfCheck = { exit: qpdf.exit };
  if (qpdf.exit !== 0 && qpdf.exit !== 3) {
    sealed.qpdfCheck.message = (qpdf.stderr || qpdf.stdout).trim().split('\n').slice(0, 3).join(' | ');
    sealed.qpdfCheck.originalExit = (await tool('qpdf', ['--check', result.file])).exit;
  }
  sealed.prefixExact = isPrefix(result.file, sealed.output);
  // seald seals an encrypted file only when it opens with the empty user password, which pdfsig tries too; a file
  // pdfsig still asks a password of is counted as skipped, not as a failure.
  const sig = await tool('pdfsig', ['-nocert', sealed.output]);
  if (sig.exit !== 0 && /password/i.test(sig.stderr)) sealed.pdfsig = { valid: false, skipped: 'pdfsig asks for a user password' };
  else sealed.pdfsig = sig.exit !== 0 && !sig.stdout.includes('Signature #') ? { valid: false, detail: `pdfsig exit ${sig.exit}: ${sig.stderr.trim().slice(0, 200)}` } : pdfsigVerdict(sig.stdout, sealed.fieldName);
}

const qpdfClean = (exit: number | undefined): boolean => exit === 0 || exit === 3;

/** qpdf --check passes on the output, or fails on it as it already failed on the original (not seald's doing). */
function qpdfAsGood(s: Sealed): boolean {
  return qpdfClean(s.qpdfCheck?.exit) || (s.qpdfCheck?.originalExit !== undefined && !qpdfClean(s.qpdfCheck.originalExit));
}

function sealedOk(s: Sealed): boolean {
  return qpdfAsGood(s) && s.prefixExact === true && (s.pdfsig?.valid === true || s.pdfsig?.skipped !== undefined) && s.ownVerdict === 'VALID';
}

const results: FileResult[] = [];
const worker = new ScoreWorker();
const runStarted = performance.now();
for (const [index, file] of files.entries()) {
  const size = statSync(file).size;
  let result: FileResult;
  if (size > MAX_BYTES) result = { file, bytes: size, skipped: `over ${MAX_BYTES / 1024 / 1024} MB` };
  else {
    result = await worker.run(file, index);
    const seal = result.seal;
    if (seal?.class === 'sealed') {
      await checkSealed(result, seal);
      if (sealedOk(seal)) rmSync(seal.output, { force: true });
      else {
        const kept = path.join(keptDir, `${path.basename(path.dirname(file))}--${path.basename(file)}`);
        writeFileSync(kept, readFileSync(seal.output));
        rmSync(seal.output, { force: true });
        seal.output = kept;
      }
    }
  }
  results.push(result);
  if (!values.quiet) console.log(lineFor(result, index));
}
await worker.close();
await pool.close();
rmSync(outDir, { recursive: true, force: true });

function lineFor(r: FileResult, index: number): string {
  const s = r.seal;
  let what: string;
  if (r.skipped) what = `skipped (${r.skipped})`;
  else if (!s) what = '?';
  else if (s.class === 'sealed') what = sealedOk(s) ? 'sealed ok' : `sealed BUT qpdf=${s.qpdfCheck?.exit}${s.qpdfCheck?.originalExit === undefined ? '' : ` (original ${s.qpdfCheck.originalExit})`} prefix=${s.prefixExact} pdfsig=${s.pdfsig?.valid ? 'valid' : s.pdfsig?.detail} own=${s.ownVerdict}`;
  else if (s.class === 'refused') what = `refused ${s.code}: ${s.message.slice(0, 120)}`;
  else if (s.class === 'crashed') what = `CRASHED ${s.name}: ${s.message.slice(0, 200)}`;
  else what = `HUNG in ${s.phase}`;
  const v = r.verify ? ` | verify ${r.verify.class === 'verified' || r.verify.class === 'masked-crash' ? `${r.verify.class === 'masked-crash' ? 'MASKED-CRASH ' : ''}${r.verify.verdict} (${r.verify.signatures.map((x) => x.verdict[0]).join('')})` : r.verify.class.toUpperCase()}` : '';
  return `[${index + 1}/${files.length}] ${path.relative(process.cwd(), r.file)}: ${what}${r.repaired ? ' [repaired]' : ''}${v}`;
}

// ---- the summary -------------------------------------------------------------------------------------------------
type Tally = Map<string, { count: number; example: string }>;
function add(t: Tally, key: string, file: string): void {
  const e = t.get(key);
  if (e) e.count++;
  else t.set(key, { count: 1, example: file });
}
function table(title: string, t: Tally): void {
  console.log(`\n${title}`);
  for (const [key, { count, example }] of [...t].sort((a, b) => b[1].count - a[1].count)) {
    console.log(`  ${String(count).padStart(5)}  ${key.padEnd(40)}  e.g. ${path.relative(process.cwd(), example)}`);
  }
}

const byCorpus = new Map<string, Tally>();
const classes: Tally = new Map();
const refusals: Tally = new Map();
const verdicts: Tally = new Map();
const crashes: FileResult[] = [];
for (const r of results) {
  const corpus = positionals.map((d) => path.resolve(d)).find((d) => r.file.startsWith(d + path.sep)) ?? '?';
  let klass: string;
  const s = r.seal;
  if (r.skipped || !s) klass = 'skipped';
  else if (s.class === 'sealed') {
    klass = !sealedOk(s) ? 'sealed, a check FAILS' : qpdfClean(s.qpdfCheck?.exit) ? 'sealed, checks pass' : 'sealed, checks pass (original fails qpdf too)';
  }
  else if (s.class === 'refused') {
    klass = s.category === 'internal' ? 'refused (internal)' : 'refused';
    add(refusals, `${s.code}`, r.file);
  } else klass = s.class;
  if (s?.class === 'crashed') crashes.push(r);
  add(classes, klass, r.file);
  if (r.repaired) add(classes, '(of which opened repaired)', r.file);
  if (!byCorpus.has(corpus)) byCorpus.set(corpus, new Map());
  add(byCorpus.get(corpus)!, klass, r.file);
  if (r.verify) {
    const v = r.verify;
    if (v.class === 'verified' || v.class === 'masked-crash') add(verdicts, v.class === 'masked-crash' ? `${v.verdict} (masked crash)` : v.verdict, r.file);
    else add(verdicts, v.class, r.file);
    if (v.class === 'crashed' || v.class === 'masked-crash') crashes.push(r);
  }
}

console.log(`\n${results.length} files in ${((performance.now() - runStarted) / 1000).toFixed(0)} s`);
table('By class', classes);
for (const [corpus, t] of byCorpus) {
  console.log(`\n${path.relative(process.cwd(), corpus) || corpus}: ${[...t].map(([k, v]) => `${k} ${v.count}`).join(', ')}`);
}
table('Refusals by code', refusals);
table('verifyDocument on signed files, by document verdict', verdicts);
if (crashes.length > 0) {
  console.log('\nCrashes (bugs):');
  for (const r of crashes) {
    const s = r.seal?.class === 'crashed' ? r.seal : undefined;
    const v = r.verify;
    console.log(`--- ${r.file}`);
    if (s) console.log(s.stack ?? `${s.name}: ${s.message}`);
    if (v && v.class === 'crashed') console.log(`verify: ${v.stack ?? v.message}`);
    if (v && v.class === 'masked-crash') console.log(`verify (masked): ${v.reasons[0]}`);
  }
}
const internal = results.filter((r) => r.seal?.class === 'refused' && r.seal.category === 'internal');
if (internal.length > 0) {
  console.log('\nInternal refusals (a failed check or an unexpected state):');
  for (const r of internal) console.log(`--- ${r.file}\n${(r.seal as Extract<Outcome, { class: 'refused' }>).stack}`);
}
if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 1)}\n`);
