/**
 * Client-side load balancing over real replicas: `seald serve` processes on different ports (each its own data dir
 * and spool) signing with the same SoftHSM token, one client channel over two of them (round_robin). Shows that both
 * replicas receive work; that a replica stopped mid-series with SIGTERM (a rolling update) finishes the calls it holds
 * within its drain time while new ones go to the other; that a replica whose drain time runs out (here: none) cuts
 * its calls off and the client retries each on the other replica; and that every document comes out sealed exactly
 * once, valid per pdfsig and qpdf.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectServers,
  sealRemote,
  UPLOAD_CHUNK_BYTES,
  withSealRetries,
  type SealClient,
} from '../../src/cli/client.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { loadConfig } from '../../src/config/config.ts';
import { fixture } from '../fixtures/index.ts';
import { run } from '../support/run.ts';
import { isPrefix, pdfsig, qpdfCheck } from '../support/tools.ts';
import { BIN, scrapeGauge, startServe, type ServeProcess } from './serve-process.ts';

let root: string;
let a: ServeProcess;
let b: ServeProcess;
let c: ServeProcess;
/** round_robin over A and B; over A and C. */
let clientAB: SealClient;
let clientAC: SealClient;
let anchors: string[];
const inputs: string[] = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-replicas-'));
  // Replica A provisions the embedded defaults (token, keys, certificates, seald.yaml) in its data dir; B and C run
  // the same seald.yaml (the same token), each with a data dir and spool of its own; C has no drain time.
  a = await startServe(['--data-dir', path.join(root, 'a')]);
  const config = path.join(root, 'a', 'seald.yaml');
  [b, c] = await Promise.all([
    startServe(['--config', config, '--data-dir', path.join(root, 'b')]),
    startServe(['--config', config, '--data-dir', path.join(root, 'c')], { SEALD_DRAIN_SECONDS: '0' }),
  ]);
  anchors = (await loadConfig({ flags: { config }, env: {} })).trust.anchors;
  inputs.push(await fixture('simple'), await fixture('cjk-contract'), await fixture('xref-stream'));
  clientAB = await connectServers([a.address, b.address]);
  clientAC = await connectServers([a.address, c.address]);
}, 120_000);

afterAll(async () => {
  clientAB?.close();
  clientAC?.close();
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  if (root !== undefined) fs.rmSync(root, { recursive: true, force: true });
});

interface Job {
  index: number;
  input: string;
  output: string;
  /** Resolves when the upload may start (the header goes out at once). */
  gate?: Promise<void>;
}

/** Seal one job with retries; each attempt carries x-request-id `doc<index>.try<n>` and writes a fresh buffer. */
async function sealJob(client: SealClient, job: Job, retried: { requestId: string; code: number }[]): Promise<void> {
  await withSealRetries(
    async (n) => {
      const parts: Uint8Array[] = [];
      const gate = n === 1 ? job.gate : undefined;
      const body = (async function* () {
        await gate;
        yield* fs.createReadStream(job.input, { highWaterMark: UPLOAD_CHUNK_BYTES }) as AsyncIterable<Buffer>;
      })();
      const summary = await sealRemote(
        client,
        create(SealHeaderSchema, {
          sealId: job.index % 2 === 0 ? 'org' : 'personal',
          placement: { kind: { case: 'position', value: { page: 1, x: 200, y: 200 } } },
          options: { reason: `replica test ${job.index}` },
        }),
        body,
        (chunk) => void parts.push(chunk),
        { requestId: `doc${job.index}.try${n}`, deadline: new Date(Date.now() + 60_000) },
      );
      const sealed = Buffer.concat(parts);
      expect(BigInt(sealed.length)).toBe(summary.documentSize);
      fs.writeFileSync(job.output, sealed); // only a completed call is written: a failed attempt leaves nothing
    },
    { onRetry: (error: grpc.ServiceError, n) => retried.push({ requestId: `doc${job.index}.try${n}`, code: error.code }) },
  );
}

function job(index: number): Job {
  return { index, input: inputs[index % inputs.length]!, output: path.join(root, `sealed-${index}.pdf`) };
}

/** The request ids each replica logged as sealed (its one request line per call, status OK). */
function sealedBy(server: ServeProcess): string[] {
  return server.logs
    .filter((entry) => entry.msg === 'request' && entry.operation === 'seal' && entry.status === 'OK')
    .map((entry) => entry.requestId!);
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('two replicas behind one round_robin channel', () => {
  const retried: { requestId: string; code: number }[] = [];
  const jobs: Job[] = [];

  it('spreads a series of documents over both replicas', async () => {
    // Two at a time, eight documents.
    const series = Array.from({ length: 8 }, (_, i) => job(i));
    jobs.push(...series);
    for (let i = 0; i < series.length; i += 2) {
      await Promise.all(series.slice(i, i + 2).map((j) => sealJob(clientAB, j, retried)));
    }
    expect(retried).toEqual([]);
    // A replica logs its request line just after the status went out: give the log lines a moment to arrive.
    await waitFor(async () => sealedBy(a).length + sealedBy(b).length === 8, 'eight "sealed" log lines');
    const onA = sealedBy(a);
    const onB = sealedBy(b);
    expect(onA.length).toBeGreaterThan(0);
    expect(onB.length).toBeGreaterThan(0);
    expect(onA.length + onB.length).toBe(8);
  }, 120_000);

  /**
   * Open calls that each hold their upload until `gate` opens: at least four, and until the other replica holds at
   * least one (a channel's subchannel to it may still be connecting; round_robin uses it as soon as it is ready).
   */
  async function holdCalls(client: SealClient, other: ServeProcess, gate: Promise<void>) {
    const inflight = (server: ServeProcess) => scrapeGauge(server.metricsPort, 'seald_inflight_documents');
    const held: Job[] = [];
    const calls: Promise<void>[] = [];
    while (held.length < 4 || (await inflight(other)) === 0) {
      if (held.length === 12) throw new Error('round_robin never picked the other replica');
      const next = { ...job(jobs.length), gate };
      held.push(next);
      jobs.push(next);
      calls.push(sealJob(client, next, retried));
      await waitFor(async () => (await inflight(a)) + (await inflight(other)) === held.length, `${held.length} calls in flight`);
    }
    const sealing = Promise.all(calls);
    sealing.catch(() => undefined); // awaited by the caller, after the replica is stopped
    return { sealing, held, heldByOther: await inflight(other) };
  }

  it('rolling update: a replica stopped mid-series finishes its calls within the drain time', async () => {
    let open!: () => void;
    const { sealing, held, heldByOther } = await holdCalls(clientAB, b, new Promise<void>((resolve) => (open = resolve)));
    const stopped = b.stop();
    await waitFor(async () => b.logs.some((entry) => entry.msg === 'shutting down'), 'B to start draining');
    open();
    await sealing;
    expect(await stopped).toBe(0);
    // The calls B held were sealed by B; none had to be retried.
    expect(retried).toEqual([]);
    const heldIds = new Set(held.map((j) => `doc${j.index}.try1`));
    await waitFor(async () => sealedBy(b).filter((id) => heldIds.has(id)).length === heldByOther, 'B to log its seals');
    // And the series goes on, on A.
    const after = [job(jobs.length), job(jobs.length + 1)];
    jobs.push(...after);
    await Promise.all(after.map((j) => sealJob(clientAB, j, retried)));
    expect(retried).toEqual([]);
  }, 120_000);

  it('drain time over: the calls a stopped replica cuts off are retried on the other one', async () => {
    let open!: () => void;
    const { sealing, heldByOther } = await holdCalls(clientAC, c, new Promise<void>((resolve) => (open = resolve)));
    expect(await c.stop()).toBe(0);
    open();
    await sealing;
    // Exactly the calls C held were cut off and sent again. With no drain time C reset them (grpc-js reports that
    // as CANCELLED; a replica that crashes instead gives UNAVAILABLE).
    expect(retried).toHaveLength(heldByOther);
    expect(retried.every((r) => r.code === grpc.status.CANCELLED && r.requestId.endsWith('.try1'))).toBe(true);
    for (const r of retried) expect(c.logs.some((entry) => entry.requestId === r.requestId)).toBe(true);
  }, 120_000);

  it('sealed every document exactly once, and each result is valid', async () => {
    expect(jobs.length).toBeGreaterThanOrEqual(18);
    expect(jobs.map((j) => j.index)).toEqual(jobs.map((_, i) => i));
    const sealedEverywhere = () => [...sealedBy(a), ...sealedBy(b), ...sealedBy(c)];
    await waitFor(async () => sealedEverywhere().length >= jobs.length, 'a "sealed" log line per document');
    const sealed = sealedEverywhere();
    for (const j of jobs) {
      // One "sealed" record per document across both replicas: no attempt was sealed twice.
      expect(sealed.filter((id) => id.startsWith(`doc${j.index}.`))).toHaveLength(1);
      expect(await isPrefix(j.input, j.output)).toBe(true);
      const report = await pdfsig(j.output, { trustCaPems: anchors });
      expect(report.signatures).toHaveLength(1);
      expect(report.signatures[0]!.validationText).toBe('Signature is Valid.');
      expect(report.signatures[0]!.coversWholeDocument).toBe(true);
      expect((await qpdfCheck(j.output)).status).not.toBe('errors');
    }
    expect(b.stderr()).toBe('');
    expect(c.stderr()).toBe('');
  }, 120_000);
});

describe('seald seal --server with several addresses', () => {
  it('seals through a comma list whose first replica is down', async () => {
    // B is stopped by now: the list's first address refuses connections, round_robin uses A.
    const output = path.join(root, 'cli.pdf');
    const result = await run(
      process.execPath,
      [BIN, 'seal', inputs[0]!, '-o', output, '--seal', 'org', '--page', '1', '--x', '100', '--y', '100', '--json', '--server', `${b.address},${a.address}`],
      { env: { ...process.env, SEALD_SERVER: '' } },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.toString()).documentSize).toBe(fs.statSync(output).size);
    expect((await pdfsig(output, { trustCaPems: anchors })).signatures[0]!.validationText).toBe('Signature is Valid.');
  }, 60_000);

  it('lists seals through a dns:/// target', async () => {
    const port = a.address.split(':').pop();
    const result = await run(process.execPath, [BIN, 'seals', '--json', '--server', `dns:///localhost:${port}`], {
      env: { ...process.env, SEALD_SERVER: '' },
    });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout.toString()).seals.map((s: { id: string }) => s.id)).toEqual(['org', 'personal', 'legal-rep']);
  }, 60_000);
});
