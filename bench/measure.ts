/**
 * What the bench measures and how: a runner's result, medians, percentiles, peak RSS of processes.
 *
 * A runner processes the whole corpus once and reports a RunResult. Its `seconds` run from the first document read to
 * the last document written: process, JVM and server start-up are outside (a sealing service is long-running), except
 * for the peers that need a process per document, where start-up is part of every document's cost.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface RunResult {
  docs: number;
  bytes: number;
  seconds: number;
  failures: number;
  /** Peak resident set, bytes, of the runner's process (or the client, for seald). */
  peakRss?: number;
  /** seald: the server's VmHWM. */
  serverPeakRss?: number;
  /** Per-document latencies, milliseconds, of the small contracts (seald). */
  smallLatenciesMs?: number[];
  /** When the runner's documents started and ended: monotonic clock, microseconds (to cut a profile to it). */
  window?: [number, number];
  /** Problems worth printing (first failure message). */
  notes?: string[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** VmHWM (peak resident set) of a live process, bytes; undefined once it has gone. */
export function vmHwm(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** VmRSS (current resident set) of a live process, bytes. */
export function vmRss(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface ProcessOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Maximum resident set of the process, bytes, as GNU time reports it (getrusage ru_maxrss). */
  maxRss: number;
  wallSeconds: number;
}

/** Run a command under /usr/bin/time, collecting its output and peak RSS. */
export async function runMeasured(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<ProcessOutcome> {
  const dir = await mkdtemp(path.join(tmpdir(), 'seald-bench-'));
  const rssFile = path.join(dir, 'rss');
  const started = process.hrtime.bigint();
  try {
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rssFile, command, ...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-20_000)));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rssText = await readFile(rssFile, 'utf8').catch(() => '0');
    const kb = Number(rssText.trim().split('\n').pop());
    return { code, stdout, stderr, maxRss: (Number.isFinite(kb) ? kb : 0) * 1024, wallSeconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The last line of a runner's stdout that parses as a JSON RunResult. */
export function parseRunResult(outcome: ProcessOutcome, what: string): RunResult {
  const line = outcome.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (outcome.code !== 0 || line === undefined) {
    throw new Error(`${what} failed (exit ${outcome.code}): ${outcome.stderr.trim().split('\n').slice(-8).join('\n')}`);
  }
  return JSON.parse(line) as RunResult;
}

/** Run `fn` over `items` with at most `concurrency` at once, in order of start. */
export async function forEachConcurrent<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export const MB = 1e6;
