/**
 * `seald batch IN_DIR -o OUT_DIR --seal ID --page N --x X --y Y …`: seal every PDF of a directory over one SealBatch
 * stream, with progress, a JSON report, and resumption.
 *
 * Resumption: each sealed document is written to a temp file in OUT_DIR and renamed to its final name only once
 * the server's summary confirmed it and the size matched (AtomicOutputFile), so a file in OUT_DIR with an input's
 * name is a complete sealed document and a re-run skips that input. A document whose seal completed on the server
 * but whose output was never renamed (a crash in between) is sent again and answered from the server's idempotency
 * store (same id = file name, same bytes, same options) without a second signature.
 *
 * Retries: documents the server could not take for now (UNAVAILABLE: a server shutting down, a token down or not
 * ready, a lost connection) are sent again, up to --retries rounds with a doubling pause (1 s, 2 s, 4 s…) while the
 * pauses fit in --retry-budget seconds; every other failure is final. The report gives each document's attempts and
 * the rounds run, and each retry round is announced on stderr.
 *
 * --prepare-locally: each revision is written and hashed here, only its digest goes to the server (grant sign-digest),
 * the CMS is embedded and checked here; the rest is the same (cli/prepare-client.ts, docs/batch.md).
 *
 * Inputs: the *.pdf entries of IN_DIR that are regular files or symbolic links to regular files; any other entry
 * with a .pdf name (a directory, a broken link) is listed in the report under `ignored` with the reason.
 *
 * Exit status: 0 every document sealed (or already in OUT_DIR); 3 some documents failed (the report says which and
 * why; the others are sealed); 1 the batch could not run to its end (server unreachable, call failed) or IN_DIR
 * holds nothing to seal; 2 usage.
 */
import { formatMb, Progress } from '../progress.ts';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { status as grpcStatus } from '@grpc/grpc-js';
import { connectBatch, DEFAULT_BATCH_CONCURRENCY, sealBatch, ROUND_ROBIN } from '../batch-client.ts';
import type { BatchClient, BatchDefaults, BatchInput, BatchResult } from '../batch-client.ts';
import { channelTarget, isServiceError } from '../client.ts';
import { connectPrepared, sealPrepared, type PreparedClient, type SealPreparedOptions } from '../prepare-client.ts';
import { directoryJournal } from '../prepare-journal.ts';
import { describeFailure, EXIT_FAILURE, processIo, UsageError, type CliIo } from '../io.ts';
import { AtomicOutputFile } from '../output-file.ts';
import { dateStampArgs, parseNumber, placementFromOptions, PLACEMENT_OPTIONS, signatureOptionsFrom, SIGNATURE_OPTIONS } from './placement-options.ts';
import { clientTls, serverAddresses, SERVER_OPTION } from './server-option.ts';
import { documentPassword, PASSWORD_OPTION } from '../password-option.ts';
import { activationPin, PIN_OPTIONS } from '../pin-option.ts';

const DEFAULT_RETRIES = 3;
/** Seconds of retry pauses at most, all rounds together (1 + 2 + 4 + … stops before it is exceeded). */
const DEFAULT_RETRY_BUDGET_SECONDS = 60;
/** Pause before the first retry round; doubled for each next one. */
const RETRY_DELAY_MS = 1000;

/** Some documents failed; the rest were sealed. */
export const EXIT_DOCUMENTS_FAILED = 3;
export const REPORT_NAME = 'seald-batch-report.json';

type DocumentStatus = 'sealed' | 'replayed' | 'skipped' | 'failed' | 'not-run';

interface DocumentReport {
  input: string;
  output: string;
  status: DocumentStatus;
  bytes: number;
  outputBytes?: number;
  /** Times the document was sent (more than 1 when it was retried). */
  attempts: number;
  fieldName?: string;
  revision?: number;
  signingTime?: string | null;
  documentDigest?: string;
  timestampMissing?: string; // sealed B-B without its best-effort time-stamp: the TSA error the server gave
  error?: { status: string; code: string; message: string };
}

interface PlannedDocument {
  name: string;
  input: string;
  output: string;
  size: number;
}

/** An entry of IN_DIR with a PDF's name that is not sealed, and why. */
interface IgnoredEntry {
  name: string;
  reason: string;
}

export async function batchCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: dateStampArgs(args),
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      seal: { type: 'string' },
      ...PLACEMENT_OPTIONS,
      ...SIGNATURE_OPTIONS,
      concurrency: { type: 'string' },
      retries: { type: 'string' },
      'retry-budget': { type: 'string' },
      report: { type: 'string' },
      progress: { type: 'string', default: 'auto' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      'prepare-locally': { type: 'boolean', default: false },
      ...SERVER_OPTION,
      ...PASSWORD_OPTION,
      ...PIN_OPTIONS,
    },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one input directory', 'batch');
  // One password for every document of the directory (a batch of one counterparty's contracts).
  const password = await documentPassword(values, 'batch');
  // One holder's PIN, sent with every document (each document's signature is activated on its own).
  const pin = await activationPin(values, io, 'batch');
  const inDir = path.resolve(positionals[0]!);
  const outDir = path.resolve(required(values.output, '-o/--output'));
  const sealId = required(values.seal, '--seal');
  const placement = placementFromOptions(values, 'batch');
  const concurrency =
    values.concurrency === undefined
      ? DEFAULT_BATCH_CONCURRENCY
      : parseNumber(values.concurrency, '--concurrency', 'batch', { integer: true, min: 1 });
  const retryLimit = values.retries === undefined ? DEFAULT_RETRIES : parseNumber(values.retries, '--retries', 'batch', { integer: true, min: 0 });
  const retryBudgetMs =
    1000 *
    (values['retry-budget'] === undefined
      ? DEFAULT_RETRY_BUDGET_SECONDS
      : parseNumber(values['retry-budget'], '--retry-budget', 'batch', { min: 0 }));
  const timeout = values.timeout === undefined ? undefined : parseNumber(values.timeout, '--timeout', 'batch', { positive: true });
  const progressMode = values.progress;
  if (!['auto', 'bar', 'lines', 'none'].includes(progressMode)) {
    throw new UsageError(`--progress: expected auto, bar, lines or none, got "${progressMode}"`, 'batch');
  }
  if (inDir === outDir) throw new UsageError('the output directory must not be the input directory', 'batch');
  const reportPath = path.resolve(values.report ?? path.join(outDir, REPORT_NAME));
  const servers = serverAddresses(values.server, io.env);
  const tls = clientTls(values, io.env);

  const { documents, ignored } = await planDocuments(inDir, outDir);
  for (const entry of ignored) io.stderr(`seald: ${entry.name}: ignored: ${entry.reason}\n`);
  if (documents.length === 0) {
    io.stderr(`seald: nothing to seal: no PDF file (*.pdf, a regular file or a link to one) in ${inDir}\n`);
    return EXIT_FAILURE;
  }
  await fs.promises.mkdir(outDir, { recursive: true });
  const reports = new Map<string, DocumentReport>();
  for (const doc of documents) {
    reports.set(doc.name, { input: doc.input, output: doc.output, status: 'not-run', bytes: doc.size, attempts: 0 });
  }
  const toSeal: PlannedDocument[] = [];
  for (const doc of documents) {
    if (fs.existsSync(doc.output)) reports.get(doc.name)!.status = 'skipped';
    else toSeal.push(doc);
  }

  // auto: a bar when this process writes to a terminal, a line per document otherwise (logs, CI, pipes).
  const mode = progressMode === 'auto' ? (io === processIo && process.stderr.isTTY === true ? 'bar' : 'lines') : progressMode;
  const progress = new Progress(
    mode as 'bar' | 'lines' | 'none',
    io,
    toSeal.length,
    toSeal.reduce((n, d) => n + d.size, 0),
    documents.length - toSeal.length,
  );
  const started = new Date();
  const byName = new Map(toSeal.map((doc) => [doc.name, doc]));
  const outputs = new Map<string, AtomicOutputFile>();
  const [target, channelOptions, prepareLocally] = [await channelTarget(servers), { 'grpc.service_config': JSON.stringify(ROUND_ROBIN) }, values['prepare-locally']];
  const client = prepareLocally ? connectPrepared(target, channelOptions, tls) : connectBatch(target, channelOptions, tls);
  const deadline = timeout === undefined ? undefined : new Date(Date.now() + timeout * 1000);
  let batchError: unknown;
  const retries = { rounds: 0, pausedSeconds: 0, maxRounds: retryLimit, budgetSeconds: retryBudgetMs / 1000 };
  // Retry rounds: what the server could not take now (UNAVAILABLE: shutting down, token not ready, connection
  // lost) is sent again after a pause; idempotency makes a re-send of an already sealed document harmless.
  for (let round = 0; ; round++) {
    const pending = toSeal.filter((doc) => reports.get(doc.name)!.status === 'not-run');
    if (pending.length === 0) break; // nothing (left) to seal: no need for a server
    batchError = undefined;
    try {
      await sealRound(pending);
    } catch (error) {
      batchError = error;
    } finally {
      for (const output of outputs.values()) await output.abandon();
      outputs.clear();
    }
    const again = toSeal.filter((doc) => retryable(reports.get(doc.name)!, batchError));
    const pause = RETRY_DELAY_MS * 2 ** round;
    if (again.length === 0) break;
    const stop =
      round >= retryLimit
        ? `after ${retryLimit} retry round(s) (--retries)`
        : retries.pausedSeconds * 1000 + pause > retryBudgetMs
          ? `the next pause (${pause / 1000} s) would exceed the retry budget of ${retryBudgetMs / 1000} s (--retry-budget)`
          : deadline !== undefined && Date.now() + pause >= deadline.getTime()
            ? 'the --timeout would pass during the next pause'
            : undefined;
    if (stop !== undefined) {
      progress.note(`${again.length} document(s) still not taken; not retried: ${stop}`);
      break;
    }
    for (const doc of again) {
      progress.retrying(reports.get(doc.name)!);
      Object.assign(reports.get(doc.name)!, { status: 'not-run', error: undefined });
    }
    progress.note(
      `${again.length} document(s) not taken (${batchError === undefined ? 'UNAVAILABLE' : describeFailure(batchError)}); ` +
        `retrying in ${pause / 1000} s (${round + 1}/${retryLimit})`,
    );
    await new Promise((resolve) => setTimeout(resolve, pause));
    retries.rounds++;
    retries.pausedSeconds += pause / 1000;
  }
  client.close();
  progress.finish();

  async function outputFor(id: string): Promise<AtomicOutputFile> {
    const output = outputs.get(id) ?? (await AtomicOutputFile.create(byName.get(id)!.output));
    return outputs.set(id, output).get(id)!;
  }

  async function sealRound(pending: PlannedDocument[]): Promise<void> {
    for (const doc of pending) reports.get(doc.name)!.attempts++;
    const inputs: BatchInput[] = pending.map((doc) => ({
      id: doc.name,
      size: doc.size,
      file: doc.input,
      ...(password === '' ? {} : { password }),
      ...(pin === undefined ? {} : { activationPin: pin }),
    }));
    const run = prepareLocally
      ? (defaults: BatchDefaults, callbacks: SealPreparedOptions) =>
          sealPrepared(client as PreparedClient, defaults, inputs, { ...callbacks, journal: directoryJournal(outDir) })
      : (defaults: BatchDefaults, callbacks: SealPreparedOptions) => sealBatch(client as BatchClient, defaults, inputs, callbacks);
    await run(
      { sealId, placement, options: signatureOptionsFrom(values, 'batch') },
      {
        concurrency,
        ...(deadline === undefined ? {} : { deadline }),
        onChunk: async (id, chunk) => (await outputFor(id)).write(chunk),
        // --prepare-locally: a large original goes into its output in the kernel, not through this process.
        onCopy: async (id, file) => (await outputFor(id)).copyFrom(file),
        async onResult(result) {
          const report = reports.get(result.id)!;
          const output = outputs.get(result.id);
          outputs.delete(result.id);
          await settleDocument(result, report, output);
          progress.documentDone(result.id, report);
        },
      },
    );
  }

  const report = buildReport(reports, { started, inDir, outDir, address: servers.join(','), sealId, batchError, retries, ignored });
  await writeJsonAtomically(reportPath, report);
  if (values.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else io.stdout(describeTotals(report.totals, report.retries.documents, reportPath));
  if (batchError !== undefined) {
    io.stderr(`seald: the batch stopped: ${describeFailure(batchError)}\n`);
    return EXIT_FAILURE;
  }
  return report.totals.failed > 0 ? EXIT_DOCUMENTS_FAILED : 0;
}

/**
 * The PDFs of IN_DIR (by name, *.pdf in any case: regular files, and symbolic links followed to regular files),
 * sorted, with where each goes; and the entries with a PDF's name that are not, with the reason.
 */
async function planDocuments(inDir: string, outDir: string): Promise<{ documents: PlannedDocument[]; ignored: IgnoredEntry[] }> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(inDir, { withFileTypes: true });
  } catch (cause) {
    throw new Error(`cannot read the input directory ${inDir}: ${(cause as Error).message}`);
  }
  const documents: PlannedDocument[] = [];
  const ignored: IgnoredEntry[] = [];
  for (const entry of entries.filter((e) => /\.pdf$/i.test(e.name)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const input = path.join(inDir, entry.name);
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(input); // follows a link to what it names
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      ignored.push({ name: entry.name, reason: code === 'ENOENT' ? 'a link to nothing (broken symbolic link)' : (cause as Error).message });
      continue;
    }
    if (!stat.isFile()) {
      ignored.push({ name: entry.name, reason: stat.isDirectory() ? 'a directory' : 'not a regular file' });
      continue;
    }
    documents.push({ name: entry.name, input, output: path.join(outDir, entry.name), size: stat.size });
  }
  return { documents, ignored };
}

/** Worth sending again: not reached, or refused for now (UNAVAILABLE), while the call failed in a retryable way. */
function retryable(report: DocumentReport, batchError: unknown): boolean {
  if (report.status === 'failed') return report.error?.status === 'UNAVAILABLE';
  if (report.status !== 'not-run') return false;
  return batchError === undefined || isUnavailable(batchError);
}

function isUnavailable(error: unknown): boolean {
  return isServiceError(error) && error.code === grpcStatus.UNAVAILABLE;
}

async function settleDocument(result: BatchResult, report: DocumentReport, output: AtomicOutputFile | undefined): Promise<void> {
  if (!result.ok) {
    await output?.abandon();
    report.status = 'failed';
    report.error = { status: result.status, code: result.errorCode, message: result.message };
    return;
  }
  const { summary } = result;
  if (output === undefined || BigInt(output.bytesWritten) !== summary.documentSize) {
    await output?.abandon();
    report.status = 'failed';
    report.error = {
      status: 'DATA_LOSS',
      code: 'SIZE_MISMATCH',
      message: `received ${output?.bytesWritten ?? 0} bytes but the server reports ${summary.documentSize}: not written`,
    };
    return;
  }
  await output.commit();
  report.status = result.replayed ? 'replayed' : 'sealed';
  report.outputBytes = Number(summary.documentSize);
  report.fieldName = summary.fieldName;
  report.revision = summary.revision;
  report.signingTime = summary.signingTime === undefined ? null : timestampDate(summary.signingTime).toISOString();
  report.documentDigest = Buffer.from(summary.documentDigest).toString('hex');
  if (summary.timestampMissing !== '') report.timestampMissing = summary.timestampMissing;
}

interface Totals {
  documents: number;
  sealed: number;
  replayed: number;
  skipped: number;
  failed: number;
  notRun: number;
  timestampMissing: number;
  bytesIn: number;
  seconds: number;
}

function buildReport(
  reports: Map<string, DocumentReport>,
  run: {
    started: Date;
    inDir: string;
    outDir: string;
    address: string;
    sealId: string;
    batchError: unknown;
    retries: { rounds: number; pausedSeconds: number; maxRounds: number; budgetSeconds: number };
    ignored: IgnoredEntry[];
  },
) {
  const documents = [...reports.values()];
  const count = (status: DocumentStatus) => documents.filter((d) => d.status === status).length;
  const finished = new Date();
  const totals: Totals = {
    documents: documents.length,
    sealed: count('sealed'),
    replayed: count('replayed'),
    skipped: count('skipped'),
    failed: count('failed'),
    notRun: count('not-run'),
    timestampMissing: documents.filter((d) => d.timestampMissing !== undefined).length,
    bytesIn: documents.filter((d) => d.status === 'sealed' || d.status === 'replayed').reduce((n, d) => n + d.bytes, 0),
    seconds: (finished.getTime() - run.started.getTime()) / 1000,
  };
  return {
    startedAt: run.started.toISOString(),
    finishedAt: finished.toISOString(),
    server: run.address,
    seal: run.sealId,
    inputDir: run.inDir,
    outputDir: run.outDir,
    ...(run.batchError === undefined ? {} : { batchError: describeFailure(run.batchError) }),
    retries: { ...run.retries, documents: documents.filter((d) => d.attempts > 1).length },
    ...(run.ignored.length === 0 ? {} : { ignored: run.ignored }),
    totals,
    documents,
  };
}

function describeTotals(totals: Totals, retried: number, reportPath: string): string {
  const rate = totals.seconds > 0 ? totals.bytesIn / 1e6 / totals.seconds : 0;
  const parts = [`${totals.sealed} sealed`];
  if (totals.replayed > 0) parts.push(`${totals.replayed} replayed`);
  parts.push(`${totals.skipped} skipped`, `${totals.failed} failed`);
  if (totals.notRun > 0) parts.push(`${totals.notRun} not run`);
  if (totals.timestampMissing > 0) parts.push(`${totals.timestampMissing} without time-stamp`);
  if (retried > 0) parts.push(`${retried} retried`);
  return (
    `${parts.join(', ')} of ${totals.documents} documents ` +
    `(${formatMb(totals.bytesIn)} in ${totals.seconds.toFixed(1)} s, ${rate.toFixed(1)} MB/s)\n` +
    `report: ${reportPath}\n`
  );
}

async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const output = await AtomicOutputFile.create(file);
  try {
    await output.write(Buffer.from(`${JSON.stringify(value, null, 2)}\n`));
    await output.commit();
  } finally {
    await output.abandon();
  }
}

// --- option parsing ------------------------------------------------------------------------------------------------

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`${name} is required`, 'batch');
  return value;
}

