/**
 * seald's client side: seal every document of the list through a running `seald serve`, streaming each file from disk
 * and each sealed document back to disk, `--concurrency` documents at a time.
 *
 *   --mode unary       one Seal RPC per document (src/cli/client.ts)
 *   --mode batch       one SealBatch stream for the whole list (src/cli/batch-client.ts)
 *   --mode prepared    `seald batch --prepare-locally`: each revision written and hashed here, one SignPrepared stream
 *                      carrying only digests (src/cli/prepare-client.ts); the server needs the grant sign-digest
 *   --placement image  the seal image at a fixed position on page 1 (every corpus file has an A4 page 1)
 *   --placement cross-page   a cross-page seal over every page (crossPagePlacement())
 *
 * Prints one JSON RunResult line; latencies of the small contracts are included for p50/p99 under load.
 */
import { createReadStream } from 'node:fs';
import { copyFile, open, type FileHandle } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { PlacementSchema, SealHeaderSchema, type Placement } from '../../src/gen/seald/v1/seald_pb.ts';
import { connect, sealRemote, UPLOAD_CHUNK_BYTES } from '../../src/cli/client.ts';
import { forEachConcurrent, type RunResult } from '../measure.ts';
import { runnerArgs, type WorkItem } from './list.ts';

/** The normal seal: the image at (400, 90) on page 1, the seal's configured size. */
function imagePlacement(): Placement {
  return create(PlacementSchema, { kind: { case: 'position', value: { page: 1, x: 400, y: 90 } } });
}

/** The cross-page seal (骑缝章): the seal cut into strips over every page, at the right edge as displayed. */
export function crossPagePlacement(): Placement {
  return create(PlacementSchema, { kind: { case: 'crossPage', value: { pages: 'all' } } });
}

/** One SealBatch stream for the whole list; the batch client keeps `concurrency` documents in flight. */
async function sealBatchStream(items: WorkItem[], concurrency: number, server: string, placement: Placement): Promise<RunResult> {
  // Loaded only in batch mode, so the unary runner never depends on the batch module.
  const { connectBatch, sealBatch } = await import('../../src/cli/batch-client.ts');
  const client = connectBatch(server);
  const outputs = new Map<string, Promise<FileHandle>>();
  const startedAt = new Map<string, bigint>();
  // SealBatch answers a document id it has seen with the same bytes from its idempotency store (kept on disk across
  // restarts) instead of sealing it again: ids unique to this process, so every document of every round is sealed.
  const nonce = `${process.pid}-${Date.now()}`;
  const idOf = (item: WorkItem): string => `${nonce}:${item.output}`;
  const byId = new Map(items.map((item) => [idOf(item), item]));
  const smallLatenciesMs: number[] = [];
  const notes: string[] = [];
  let bytes = 0;
  const started = process.hrtime.bigint();
  const totals = await sealBatch(
    client,
    { sealId: 'org', placement },
    items.map((item) => ({
      id: idOf(item),
      size: item.bytes,
      file: item.input,
    })),
    {
      concurrency,
      onStart: (id) => {
        startedAt.set(id, process.hrtime.bigint());
        outputs.set(id, open(byId.get(id)!.output, 'w'));
      },
      onChunk: async (id, chunk) => {
        await (await outputs.get(id)!).write(chunk);
      },
      onResult: async (result) => {
        const item = byId.get(result.id)!;
        await (await outputs.get(result.id)!).close();
        outputs.delete(result.id);
        if (result.ok) {
          bytes += item.bytes;
          if (item.kind === 'small') smallLatenciesMs.push(Number(process.hrtime.bigint() - startedAt.get(result.id)!) / 1e6);
        } else if (notes.length < 3) {
          notes.push(`${path.basename(item.input)}: ${result.status} ${result.errorCode} ${result.message}`);
        }
      },
    },
  );
  const ended = process.hrtime.bigint();
  client.close();
  const window: [number, number] = [Number(started / 1000n), Number(ended / 1000n)];
  const failures = items.length - totals.sealed - totals.replayed;
  if (totals.replayed > 0) notes.push(`${totals.replayed} answered from the idempotency store, not sealed`);
  return { docs: items.length, bytes, seconds: Number(ended - started) / 1e9, failures, smallLatenciesMs, notes, window, peakRss: process.resourceUsage().maxRSS * 1024 };
}

/** One SignPrepared stream for the whole list: the PDF work in this process, only digests and CMSs on the wire. */
async function sealPreparedStream(items: WorkItem[], concurrency: number, server: string, placement: Placement): Promise<RunResult> {
  const { connectPrepared, sealPrepared } = await import('../../src/cli/prepare-client.ts');
  const client = connectPrepared(server);
  const outputs = new Map<string, Promise<FileHandle>>();
  const startedAt = new Map<string, bigint>();
  const nonce = `${process.pid}-${Date.now()}`;
  const idOf = (item: WorkItem): string => `${nonce}:${item.output}`;
  const byId = new Map(items.map((item) => [idOf(item), item]));
  const smallLatenciesMs: number[] = [];
  const notes: string[] = [];
  let bytes = 0;
  const started = process.hrtime.bigint();
  const totals = await sealPrepared(
    client,
    { sealId: 'org', placement },
    items.map((item) => ({ id: idOf(item), size: item.bytes, file: item.input })),
    {
      concurrency,
      onStart: (id) => void startedAt.set(id, process.hrtime.bigint()),
      onChunk: async (id, chunk) => {
        let output = outputs.get(id);
        if (output === undefined) outputs.set(id, (output = open(byId.get(id)!.output, 'w')));
        await (await output).write(chunk);
      },
      // As `seald batch --prepare-locally` does: a large original copied in the kernel, the revision appended.
      onCopy: async (id, file) => {
        const target = byId.get(id)!.output;
        await copyFile(file, target);
        const output = open(target, 'a');
        outputs.set(id, output);
        return (await (await output).stat()).size;
      },
      onResult: async (result) => {
        const item = byId.get(result.id)!;
        await (await outputs.get(result.id))?.close();
        outputs.delete(result.id);
        if (result.ok) {
          bytes += item.bytes;
          if (item.kind === 'small') smallLatenciesMs.push(Number(process.hrtime.bigint() - startedAt.get(result.id)!) / 1e6);
        } else if (notes.length < 3) {
          notes.push(`${path.basename(item.input)}: ${result.status} ${result.errorCode} ${result.message}`);
        }
      },
    },
  );
  const ended = process.hrtime.bigint();
  client.close();
  const window: [number, number] = [Number(started / 1000n), Number(ended / 1000n)];
  const failures = items.length - totals.sealed - totals.replayed;
  return { docs: items.length, bytes, seconds: Number(ended - started) / 1e9, failures, smallLatenciesMs, notes, window, peakRss: process.resourceUsage().maxRSS * 1024 };
}

async function sealUnary(items: WorkItem[], concurrency: number, server: string, placement: Placement): Promise<RunResult> {
  const client = connect(server, { 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  let bytes = 0;
  let failures = 0;
  const notes: string[] = [];
  const smallLatenciesMs: number[] = [];
  const started = process.hrtime.bigint();
  await forEachConcurrent(items, concurrency, async (item) => {
    const t0 = process.hrtime.bigint();
    const out = await open(item.output, 'w');
    try {
      const header = create(SealHeaderSchema, { sealId: 'org', placement, documentSize: BigInt(item.bytes) });
      await sealRemote(client, header, createReadStream(item.input, { highWaterMark: UPLOAD_CHUNK_BYTES }), async (chunk) => {
        await out.write(chunk);
      });
      bytes += item.bytes;
      if (item.kind === 'small') smallLatenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    } catch (error) {
      failures++;
      if (notes.length < 3) notes.push(`${path.basename(item.input)}: ${(error as Error).message}`);
    } finally {
      await out.close();
    }
  });
  const ended = process.hrtime.bigint();
  const seconds = Number(ended - started) / 1e9;
  client.close();
  const window: [number, number] = [Number(started / 1000n), Number(ended / 1000n)];
  return { docs: items.length, bytes, seconds, failures, smallLatenciesMs, notes, window, peakRss: process.resourceUsage().maxRSS * 1024 };
}

async function main(): Promise<void> {
  const { items, concurrency, values } = await runnerArgs(['server', 'mode', 'placement']);
  const server = String(values.server);
  const placement = values.placement === 'cross-page' ? crossPagePlacement() : imagePlacement();
  const result =
    values.mode === 'batch'
      ? await sealBatchStream(items, concurrency, server, placement)
      : values.mode === 'prepared'
        ? await sealPreparedStream(items, concurrency, server, placement)
        : await sealUnary(items, concurrency, server, placement);
  console.log(JSON.stringify(result));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
