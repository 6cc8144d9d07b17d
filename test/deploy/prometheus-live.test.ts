/**
 * The Grafana dashboard against a real Prometheus scraping a live seald: `seald serve` on the embedded defaults and
 * Debian's `prometheus` with a scrape configuration in a temp dir (1 s interval). seald seals a few documents, and
 * fails a few on purpose so that every series the dashboard draws exists: an unknown seal (NOT_FOUND), a wrong
 * activation PIN (a failed signature, PERMISSION_DENIED), a time-stamped seal whose only TSA refuses connections
 * (a TSA error and UNAVAILABLE). Then every query of deploy/observability/grafana-dashboard.json ($instance → .*,
 * $__rate_interval → 1m) and its template variable query go through Prometheus's HTTP API, and each must return
 * series: a metric name or label the dashboard gets wrong makes its panel's query come back empty, and this fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures/index.ts';
import { run } from '../support/run.ts';
import { BIN, startServe, type ServeProcess } from './serve-process.ts';

const DASHBOARD = path.resolve(import.meta.dirname, '../../deploy/observability/grafana-dashboard.json');

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every PromQL expression of the dashboard, with its panel's title. */
function dashboardQueries(): { title: string; expr: string }[] {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  const out: { title: string; expr: string }[] = [];
  const walk = (panels: Panel[]): void => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) if (target.expr) out.push({ title: panel.title ?? '?', expr: target.expr });
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** Grafana's variables as a test can fill them: every instance, a one-minute rate window. */
const substitute = (expr: string): string => expr.replaceAll('$instance', '.*').replaceAll('$__rate_interval', '1m');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let root: string;
let seald: ServeProcess;
let prometheus: ChildProcess;
let prometheusExited: Promise<unknown>;
let api: string;
let prometheusLog = '';

async function query(expr: string): Promise<{ status: string; data: { result: unknown[] } }> {
  const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await response.json()) as { status: string; data: { result: unknown[] } };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms / 1000} s; prometheus said: ${prometheusLog.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-prometheus-'));
  const dataDir = path.join(root, 'data');
  const deadTsa = await freePort(); // nothing listens there: connection refused
  seald = await startServe(['--data-dir', dataDir], { SEALD_TSA_URLS: `http://127.0.0.1:${deadTsa}/tsa`, SEALD_TSA_TIMEOUT_MS: '2000' });

  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  fs.writeFileSync(
    path.join(root, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: seald\n    static_configs:\n      - targets: ['127.0.0.1:${seald.metricsPort}']\n`,
  );
  prometheus = spawn('prometheus', [
    `--config.file=${path.join(root, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(root, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus.stdout!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
  prometheus.stderr!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
  prometheusExited = new Promise((resolve) => prometheus.on('exit', resolve));
  await waitFor('prometheus ready', async () => (await fetch(`${api}/-/ready`)).ok);
  await waitFor('seald scraped', async () => ((await query('up{job="seald"} == 1')).data.result.length === 1));

  const env = { ...process.env, SEALD_DATA_DIR: dataDir, SEALD_CONFIG: '' };
  const seal = (args: string[]) => run(process.execPath, [BIN, 'seal', '--server', seald.address, '--page', '1', '--x', '200', '--y', '200', ...args], { env });
  const input = await fixture('simple');
  for (const [sealId, n] of [['org', 1], ['org', 2], ['personal', 3]] as const) {
    const ok = await seal(['--seal', sealId, input, '-o', path.join(root, `sealed-${n}.pdf`)]);
    expect(ok.code, ok.stderr).toBe(0);
  }
  expect((await seal(['--seal', 'nonexistent', input, '-o', path.join(root, 'x.pdf')])).code).not.toBe(0);
  fs.writeFileSync(path.join(root, 'wrong.pin'), 'not-the-pin\n', { mode: 0o600 });
  expect((await seal(['--seal', 'legal-rep', '--pin-file', path.join(root, 'wrong.pin'), input, '-o', path.join(root, 'y.pdf')])).code).not.toBe(0);
  const timestamped = await seal(['--seal', 'org', '--timestamp', input, '-o', path.join(root, 'z.pdf')]);
  expect(timestamped.code).not.toBe(0);
  expect(timestamped.stderr).toMatch(/UNAVAILABLE|TSA/);
  // Rates need two samples after each event inside the window.
  await waitFor('the failed TSA request scraped twice', async () => (await query('increase(seald_tsa_errors_total[1m])')).data.result.length > 0, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 3000));
}, 240_000);

afterAll(async () => {
  if (prometheus !== undefined && prometheus.exitCode === null) {
    prometheus.kill('SIGTERM');
    await prometheusExited;
  }
  await seald?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the Grafana dashboard against Prometheus scraping a live seald', () => {
  const queries = dashboardQueries();

  it('has queries to check', () => {
    expect(queries.length).toBeGreaterThan(20);
  });

  it.each(queries.map((q, i) => [i + 1, q.title, q.expr] as const))('query %i (%s) returns series: %s', async (_n, _title, expr) => {
    const answer = await query(substitute(expr));
    expect(answer.status).toBe('success');
    expect(answer.data.result.length, substitute(expr)).toBeGreaterThan(0);
  });

  it("the instance variable's query (label_values(seald_inflight_documents, instance)) finds the instance", async () => {
    const response = await fetch(`${api}/api/v1/series?match[]=${encodeURIComponent('seald_inflight_documents')}`);
    const body = (await response.json()) as { data: { instance: string }[] };
    expect(body.data.map((s) => s.instance)).toEqual([`127.0.0.1:${seald.metricsPort}`]);
  });

  it('a misspelt metric name would fail: the same query with a wrong name returns nothing', async () => {
    const first = queries.find((q) => q.expr.includes('seald_requests_total'))!;
    const answer = await query(substitute(first.expr).replaceAll('seald_requests_total', 'seald_request_total'));
    expect(answer.status).toBe('success');
    expect(answer.data.result).toEqual([]);
  });
});
