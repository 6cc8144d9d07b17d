/**
 * SealBatch for real: embedded defaults in a temp data dir (SoftHSM token, dev CA, two seals), the real engine and
 * token pool, checked by pdfsig and qpdf. Signatures are counted on the server's own metric
 * (seald_token_sign_duration_seconds_count: one observation per PKCS#11 sign), so "not signed twice" is measured,
 * not assumed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { status as Status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBatch, sealBatch, type BatchClient, type BatchInput, type BatchResult } from '../../src/cli/batch-client.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdConfig } from '../../src/config/config.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { fixture, type FixtureName } from '../fixtures/index.ts';
import { run } from '../support/run.ts';
import { isPrefix, pdfsig, qpdfCheck } from '../support/tools.ts';
import { rawBatch, sealedBytes } from './batch-harness.ts';
import { spoolFiles } from './harness.ts';

let dataDir: string;
let outDir: string;
let config: SealdConfig;
let server: SealdServer;
let client: BatchClient;
const logLines: string[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-batch-e2e-data-'));
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-batch-e2e-out-'));
  config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: '127.0.0.1:0' }, logger, {});
  server = await startSealdServer(config, logger, { healthIntervalMs: 200 });
  client = connectBatch(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.shutdown('tests over');
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const placement = { kind: { case: 'position' as const, value: { page: 1, x: 200, y: 300 } } };

/** PKCS#11 signatures the server has made so far (all seals or slots, all outcomes), from one histogram's _count. */
async function signCount(target: SealdServer = server, series = 'seald_token_sign_duration_seconds_count'): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${target.metricsPort}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(new RegExp(`^${series}\\{[^}]*\\} (\\d+)$`, 'gm'))) total += Number(match[1]);
  return total;
}

async function fileInput(id: string, name: FixtureName): Promise<BatchInput & { file: string }> {
  const file = await fixture(name);
  return {
    id,
    file,
    size: fs.statSync(file).size,
  };
}

/** Seal through the batch client, writing each document to outDir/<prefix>-<id>.pdf. */
async function sealToFiles(batchClient: BatchClient, inputs: BatchInput[], prefix: string) {
  const results = new Map<string, BatchResult>();
  const chunks = new Map<string, Buffer[]>();
  const totals = await sealBatch(batchClient, { sealId: 'org', placement, options: { reason: 'batch e2e' } }, inputs, {
    concurrency: 4,
    onChunk: (id, chunk) => void chunks.set(id, [...(chunks.get(id) ?? []), Buffer.from(chunk)]),
    onResult(result) {
      results.set(result.id, result);
      if (result.ok) fs.writeFileSync(path.join(outDir, `${prefix}-${result.id}.pdf`), Buffer.concat(chunks.get(result.id)!));
      chunks.delete(result.id);
    },
  });
  return { totals, results, output: (id: string) => path.join(outDir, `${prefix}-${id}.pdf`) };
}

async function expectValidSeal(input: string, output: string): Promise<void> {
  expect(await isPrefix(input, output)).toBe(true);
  const report = await pdfsig(output, { trustCaPems: config.trust.anchors });
  const last = report.signatures.at(-1)!;
  expect(last.validationText).toBe('Signature is Valid.');
  expect(last.coversWholeDocument).toBe(true);
  expect((await qpdfCheck(output)).status).not.toBe('errors');
}

describe('SealBatch end to end (SoftHSM, real engine)', () => {
  it('seals good PDFs and answers broken ones per document, with the codes of Seal; one sign per sealed document', async () => {
    const signsBefore = await signCount();
    const slotSignsBefore = await signCount(server, 'seald_slot_sign_duration_seconds_count');
    const good: [string, FixtureName][] = [
      ['simple', 'simple'],
      ['cjk', 'cjk-contract'],
      ['xref-stream', 'xref-stream'],
      ['linearized', 'linearized'],
      ['hybrid', 'hybrid'],
    ];
    const bad: [string, FixtureName, number, string][] = [
      ['not-a-pdf', 'not-a-pdf', Status.INVALID_ARGUMENT, ''],
      ['truncated', 'truncated', Status.INVALID_ARGUMENT, 'PDF_TRUNCATED'],
      ['encrypted', 'encrypted', Status.FAILED_PRECONDITION, 'PDF_PASSWORD_REQUIRED'],
    ];
    // The broken ones in the middle of the batch: they must not disturb the documents around them.
    const inputs = await Promise.all([
      ...good.slice(0, 2).map(([id, name]) => fileInput(id, name)),
      ...bad.map(([id, name]) => fileInput(id, name)),
      ...good.slice(2).map(([id, name]) => fileInput(id, name)),
    ]);
    const { totals, results, output } = await sealToFiles(client, inputs, 'mixed');
    expect(totals).toMatchObject({ documents: 8, sealed: 5, failed: 3, replayed: 0 });
    for (const [id, , code, errorCode] of bad) {
      const result = results.get(id)!;
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect([id, result.code]).toEqual([id, code]);
        if (errorCode !== '') expect(result.errorCode).toBe(errorCode);
        expect(result.message).not.toBe('');
      }
    }
    for (const [id] of good) {
      const input = inputs.find((i) => i.id === id)!;
      const result = results.get(id)!;
      expect(result.ok && result.summary.documentSize).toBe(BigInt(fs.statSync(output(id)).size));
      await expectValidSeal(input.file, output(id));
    }
    expect((await signCount()) - signsBefore).toBe(good.length);
    // The pool timed each of them on its slot too (seald_slot_sign_duration_seconds{slot,outcome}).
    expect((await signCount(server, 'seald_slot_sign_duration_seconds_count')) - slotSignsBefore).toBe(good.length);
    expect(spoolFiles(config.limits.tmpDir)).toEqual([]);
  }, 120_000);

  it('interleaved chunks of two real PDFs come back as two valid sealed documents', async () => {
    const a = fs.readFileSync(await fixture('cjk-contract'));
    const b = fs.readFileSync(await fixture('xref-stream'));
    const raw = rawBatch(client);
    await raw.send({ case: 'header', value: { sealId: 'personal', placement } });
    await raw.send({ case: 'start', value: { documentId: 'a', documentSize: BigInt(a.length) } });
    await raw.send({ case: 'start', value: { documentId: 'b' } });
    const step = 4096;
    for (let offset = 0; offset < Math.max(a.length, b.length); offset += step) {
      if (offset < a.length) await raw.send({ case: 'chunk', value: { documentId: 'a', data: a.subarray(offset, offset + step) } });
      if (offset < b.length) await raw.send({ case: 'chunk', value: { documentId: 'b', data: b.subarray(offset, offset + step) } });
    }
    await raw.send({ case: 'end', value: { documentId: 'a' } });
    await raw.send({ case: 'end', value: { documentId: 'b' } });
    raw.call.end();
    expect((await raw.status).code).toBe(Status.OK);
    for (const [id, name] of [['a', 'cjk-contract'], ['b', 'xref-stream']] as const) {
      const file = path.join(outDir, `interleaved-${id}.pdf`);
      fs.writeFileSync(file, sealedBytes(raw.responses, id));
      await expectValidSeal(await fixture(name), file);
    }
  }, 60_000);

  it('seald batch on a directory of real PDFs: every output valid per pdfsig and qpdf, the report complete', async () => {
    const inDir = path.join(outDir, 'cli-in');
    const cliOut = path.join(outDir, 'cli-out');
    fs.mkdirSync(inDir);
    const names: FixtureName[] = ['simple', 'cjk-contract', 'xref-stream', 'rotated'];
    for (const name of names) fs.copyFileSync(await fixture(name), path.join(inDir, `${name}.pdf`));
    const bin = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));
    const result = await run(process.execPath, [
      bin, 'batch', inDir, '-o', cliOut, '--seal', 'org', '--page', '1', '--x', '150', '--y', '150',
      '--reason', 'archived', '--server', server.address,
    ]);
    expect([result.code, result.stderr]).toEqual([0, expect.stringContaining('[4/4]')]);
    for (const name of names) await expectValidSeal(path.join(inDir, `${name}.pdf`), path.join(cliOut, `${name}.pdf`));
    const report = JSON.parse(fs.readFileSync(path.join(cliOut, 'seald-batch-report.json'), 'utf8'));
    expect(report.totals).toMatchObject({ documents: 4, sealed: 4, failed: 0 });
  }, 60_000);

  it('re-sent after a reconnect and after a server restart: the same sealed bytes, zero new signatures', async () => {
    const inputs = await Promise.all([fileInput('contract-1', 'simple'), fileInput('contract-2', 'cjk-contract')]);
    const storeBytes = () =>
      fs.readdirSync(config.batch.idempotencyDir!).reduce((n, name) => n + fs.statSync(path.join(config.batch.idempotencyDir!, name)).size, 0);
    const storedBefore = storeBytes();
    const first = await sealToFiles(client, inputs, 'first');
    expect(first.totals).toMatchObject({ sealed: 2, replayed: 0 });
    // The store keeps what regenerates each revision (~0.6 KB), not the revision (~35 KB with the demo seal image).
    const perDocument = (storeBytes() - storedBefore) / 2;
    expect(perDocument).toBeGreaterThan(300);
    expect(perDocument).toBeLessThan(6 * 1024);

    // A new connection (the pipeline crashed and came back), the same documents.
    const signsBefore = await signCount();
    const reconnected = connectBatch(server.address);
    const again = await sealToFiles(reconnected, inputs, 'again');
    reconnected.close();
    expect(again.totals).toMatchObject({ sealed: 0, replayed: 2 });
    expect(await signCount()).toBe(signsBefore);
    for (const { id } of inputs) {
      expect(fs.readFileSync(again.output(id)).equals(fs.readFileSync(first.output(id)))).toBe(true);
    }

    // The server restarts on the same data directory: the records on disk still answer.
    client.close();
    await server.shutdown('restart');
    server = await startSealdServer(config, logger, { healthIntervalMs: 200 });
    client = connectBatch(server.address);
    const afterRestart = await sealToFiles(client, inputs, 'restart');
    expect(afterRestart.totals).toMatchObject({ sealed: 0, replayed: 2 });
    expect(await signCount()).toBe(0);
    for (const input of inputs) {
      expect(fs.readFileSync(afterRestart.output(input.id)).equals(fs.readFileSync(first.output(input.id)))).toBe(true);
      await expectValidSeal(input.file, afterRestart.output(input.id));
    }
    const metrics = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^seald_idempotent_replays_total 2$/m);
  }, 120_000);
});

describe('observability artefacts (deploy/observability)', () => {
  const deployDir = fileURLToPath(new URL('../../deploy/observability/', import.meta.url));

  /** Every PromQL expression of the dashboard (panel targets, template queries) and of the alert rules. */
  function expressions(): string[] {
    const dashboard = JSON.parse(fs.readFileSync(path.join(deployDir, 'grafana-dashboard.json'), 'utf8'));
    const fromPanels = (dashboard.panels as { targets?: { expr: string }[] }[]).flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const fromTemplates = (dashboard.templating.list as { query?: unknown }[])
      .map((v) => v.query)
      .filter((q): q is { query: string } => typeof q === 'object' && q !== null)
      .map((q) => q.query);
    const rules = parseYaml(fs.readFileSync(path.join(deployDir, 'prometheus-rules.yaml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const fromRules = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
    expect(fromPanels.length).toBeGreaterThan(15);
    expect(fromRules.length).toBeGreaterThan(5);
    return [...fromPanels, ...fromTemplates, ...fromRules];
  }

  it('every metric and label the dashboard and alert rules use is exported by the running server', async () => {
    const scrape = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    const types = new Map([...scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const used = new Map<string, Set<string>>();
    for (const expr of expressions()) {
      for (const match of expr.matchAll(/\b((?:seald|process|nodejs)_[a-z0-9_]+)(\{[^}]*\})?/g)) {
        const labels = used.get(match[1]!) ?? new Set<string>();
        for (const label of (match[2] ?? '').matchAll(/([a-z_]+)\s*(?:=~|!=|!~|=)/g)) labels.add(label[1]!);
        used.set(match[1]!, labels);
      }
    }
    expect(used.size).toBeGreaterThan(12);
    const missing: string[] = [];
    for (const [name, labels] of used) {
      // A histogram is used through its _bucket, _sum and _count series.
      const base = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
      const type = types.get(base);
      if (type === undefined || (base !== name && type !== 'histogram')) {
        missing.push(name);
        continue;
      }
      labels.delete('instance'); // added by Prometheus at scrape time
      const metric = server.metrics.registry.getSingleMetric(base) as { labelNames?: string[] } | undefined;
      const known = new Set([...(metric?.labelNames ?? []), ...(type === 'histogram' ? ['le'] : [])]);
      for (const label of labels) if (!known.has(label)) missing.push(`${name}{${label}}`);
    }
    expect(missing).toEqual([]);
    // The pool gauges carry this server's token.
    expect(scrape).toMatch(/^seald_pool_slot_state\{slot="[^"]+",state="ready"\} 1$/m);
    expect(scrape).toMatch(/^seald_pool_sessions\{slot="[^"]+"\} [1-9]/m);
    expect(scrape).toMatch(/^seald_pool_queue_depth 0$/m);
  });

  it('request logs: one line per request with the operator fields, and no document bytes', async () => {
    const input = await fileInput('logged-doc', 'simple');
    const requestId = 'log-test-request';
    await sealBatch(client, { sealId: 'org', placement }, [input], { requestId });
    const requests = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request' && l.requestId === requestId);
    expect(requests.map((r) => r.operation).sort()).toEqual(['batch_document', 'seal_batch']);
    const doc = requests.find((r) => r.operation === 'batch_document');
    expect(doc).toMatchObject({
      principal: 'anonymous',
      seal: 'org',
      placement: 'position',
      documentId: 'logged-doc',
      status: 'OK',
      bytesIn: fs.statSync(input.file).size,
    });
    expect(doc.durationMs).toBeGreaterThanOrEqual(0);
    const pinFile = config.pkcs11.tokens[0]!.pin.file!;
    const text = logLines.join('');
    expect(text).not.toContain('%PDF');
    expect(text).not.toContain(fs.readFileSync(pinFile, 'utf8').trim());
  });
});
