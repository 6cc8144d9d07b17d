/**
 * Bytes the SealBatch idempotency store keeps per document, measured: a server on the embedded defaults (org seal
 * with its image, a fresh data directory), N copies of a small two-page contract sealed over one batch (each its own
 * document id), then the size of the store's directory divided by N.
 *
 *   node --import tsx bench/idempotency-bytes.ts [N]     (default N = 500)
 *
 * Prints one JSON line: documents, store bytes, bytes per document, revision bytes per document (what the store kept
 * per document before it kept the facts instead), and the seconds the batch took.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { pino } from 'pino';
import { connectBatch, sealBatch, type BatchInput } from '../src/cli/batch-client.ts';
import { loadServerConfig, startSealdServer } from '../src/server/bootstrap.ts';

const count = Number(process.argv[2] ?? 500);
const logger = pino({ level: 'warn' });

async function contract(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let page = 1; page <= 2; page++) {
    const p = doc.addPage([595, 842]);
    for (let line = 0; line < 30; line++) p.drawText(`Clause ${page}.${line}: the parties agree as written.`, { x: 60, y: 780 - line * 22, size: 11, font });
  }
  return doc.save({ useObjectStreams: false });
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) total += fs.statSync(path.join(dir, name)).size;
  return total;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-idempotency-bytes-'));
try {
  const config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0' }, logger, {});
  const server = await startSealdServer(config, logger, {});
  const client = connectBatch(server.address);
  const bytes = await contract();
  const inputs: BatchInput[] = Array.from({ length: count }, (_, i) => ({
    id: `contract-${i}.pdf`,
    size: bytes.byteLength,
    async *read() {
      yield bytes;
    },
  }));
  const started = performance.now();
  const totals = await sealBatch(client, { sealId: 'org', placement: { kind: { case: 'position', value: { page: 1, x: 400, y: 120 } } } }, inputs, {
    concurrency: 8,
  });
  const seconds = (performance.now() - started) / 1000;
  client.close();
  await server.shutdown('measured');
  if (totals.sealed !== count) throw new Error(`only ${totals.sealed} of ${count} documents were sealed`);
  const storeBytes = directoryBytes(config.batch.idempotencyDir!);
  console.log(
    JSON.stringify({
      documents: count,
      inputBytes: bytes.byteLength,
      storeBytes,
      storeBytesPerDocument: Math.round(storeBytes / count),
      revisionBytesPerDocument: Math.round(totals.bytesOut / count - bytes.byteLength),
      seconds: Number(seconds.toFixed(1)),
    }),
  );
} finally {
  fs.rmSync(dataDir, { recursive: true, force: true });
}
