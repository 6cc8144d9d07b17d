/**
 * The floor over gRPC: the floor's work (read every byte, SHA-256 it once, one RSA-2048 sign on the SoftHSM token,
 * write the bytes and the signature) with the hop that seald's batch API puts between the file and the key. Nothing
 * else: no PDF work, no protobuf, no audit log, no idempotency store, no metrics.
 *
 * This process is the client. It starts a server (this script with `--serve`), a process of its own with its own
 * TokenPool, like `seald serve`. One grpc-js bidirectional stream carries every document, `--concurrency` at a time,
 * each in chunks of at most 1 MiB read from its file straight into the frame (as seald's batch client does). A frame
 * is raw bytes: document index (u32), a last-chunk flag (u8), then the data. The server hashes each chunk as it
 * arrives; after the last one it signs the digest and answers index + signature. The client writes each chunk to the
 * output as it sends it, and the signature once it comes back (as seald's appended answers are written).
 *
 * Its distance to `floor` is what the transport costs by itself: grpc-js, HTTP/2 and a second process sharing the
 * machine's cores. seald batch pays it too; this row says how much of seald's distance to the floor is that.
 */
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UPLOAD_CHUNK_BYTES } from '../../src/cli/client.ts';
import { CLIENT_CHANNEL_OPTIONS } from '../../src/rpc/channel-options.ts';
import { listenPlaintext } from '../../src/server/listener.ts';
import { forEachConcurrent, vmHwm, type RunResult } from '../measure.ts';
import { openFloorSigner } from './floor-signer.ts';
import { runnerArgs } from './list.ts';

const HEAD = 5;
const same = (bytes: Buffer): Buffer => bytes;
const SERVICE: grpc.ServiceDefinition = {
  stream: {
    path: '/bench.FloorGrpc/Stream',
    requestStream: true,
    responseStream: true,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  },
};
const CHANNEL_OPTIONS = { 'grpc.max_receive_message_length': UPLOAD_CHUNK_BYTES + HEAD, 'grpc.max_send_message_length': UPLOAD_CHUNK_BYTES + HEAD };
/** The client's receive window, as seald's clients set it (src/rpc/channel-options.ts); `--default-windows` leaves grpc-js's. */
const DEFAULT_WINDOWS = process.argv.includes('--default-windows');
process.argv = process.argv.filter((arg) => arg !== '--default-windows');
const CLIENT_OPTIONS = DEFAULT_WINDOWS ? CHANNEL_OPTIONS : { ...CHANNEL_OPTIONS, ...CLIENT_CHANNEL_OPTIONS };

async function serve(configPath: string, sealId: string): Promise<void> {
  const { pool, signer } = await openFloorSigner(configPath, sealId);
  const server = new grpc.Server(CHANNEL_OPTIONS);
  server.addService(SERVICE, {
    stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      const hashes = new Map<number, Hash>();
      // The stream ends once the client has ended it and every sign it asked for has been answered.
      let signing = 0;
      let clientEnded = false;
      const endWhenDone = (): void => {
        if (clientEnded && signing === 0) call.end();
      };
      call.on('data', (frame: Buffer) => {
        const index = frame.readUInt32BE(0);
        let hash = hashes.get(index);
        if (hash === undefined) hashes.set(index, (hash = createHash('sha256')));
        hash.update(frame.subarray(HEAD));
        if (frame[4] !== 1) return;
        hashes.delete(index);
        signing++;
        signer.signDigest(hash.digest()).then(
          (signature) => {
            const answer = Buffer.allocUnsafe(HEAD + signature.length);
            answer.writeUInt32BE(index, 0);
            answer[4] = 0;
            answer.set(signature, HEAD);
            call.write(answer);
            signing--;
            endWhenDone();
          },
          (error: unknown) => call.destroy(error as Error),
        );
      });
      call.on('end', () => {
        clientEnded = true;
        endWhenDone();
      });
    },
  });
  // The server's windows as seald sets them, on a listener of its own (src/server/listener.ts).
  const port = DEFAULT_WINDOWS
    ? await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))))
    : (await listenPlaintext(server, '127.0.0.1:0')).port;
  console.log(JSON.stringify({ port }));
  process.once('SIGTERM', () => {
    server.forceShutdown();
    void pool.close().then(() => process.exit(0));
  });
}

async function client(): Promise<void> {
  const { items, concurrency, values } = await runnerArgs(['config', 'seal']);
  const windows = DEFAULT_WINDOWS ? ['--default-windows'] : [];
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve', '--config', String(values.config), '--seal', String(values.seal), ...windows], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`floor-grpc server exited (${code}) before listening`)));
  });
  const Client = grpc.makeGenericClientConstructor(SERVICE, 'FloorGrpc');
  const connection = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
  const call = (connection as unknown as { stream(): grpc.ClientDuplexStream<Buffer, Buffer> }).stream();
  const answers = new Map<number, { resolve: (signature: Buffer) => void; reject: (error: Error) => void }>();
  let streamError: Error | undefined;
  call.on('data', (frame: Buffer) => answers.get(frame.readUInt32BE(0))?.resolve(frame.subarray(HEAD)));
  call.on('error', (error: Error) => {
    streamError = error;
    for (const answer of answers.values()) answer.reject(error);
  });
  // One 'drain' wait shared by every document in flight.
  let drained: Promise<void> | undefined;
  const send = async (frame: Buffer): Promise<void> => {
    while (drained !== undefined) await drained;
    if (!call.write(frame)) drained ??= new Promise<void>((resolve) => call.once('drain', () => ((drained = undefined), resolve())));
  };

  let bytes = 0;
  let failures = 0;
  const notes: string[] = [];
  const started = process.hrtime.bigint();
  await forEachConcurrent(items, concurrency, async (item, index) => {
    const input = await open(item.input, 'r');
    const output = await open(item.output, 'w');
    try {
      if (streamError !== undefined) throw streamError;
      const signature = new Promise<Buffer>((resolve, reject) => answers.set(index, { resolve, reject }));
      for (let offset = 0; ; ) {
        const length = Math.min(UPLOAD_CHUNK_BYTES, item.bytes - offset);
        const frame = Buffer.allocUnsafe(HEAD + length);
        frame.writeUInt32BE(index, 0);
        frame[4] = offset + length >= item.bytes ? 1 : 0;
        const { bytesRead } = await input.read(frame, HEAD, length, offset);
        if (bytesRead !== length) throw new Error(`${item.input}: short read`);
        await send(frame);
        await output.write(frame, HEAD, length);
        offset += length;
        if (frame[4] === 1) break;
      }
      await output.write(await signature);
      bytes += item.bytes;
    } catch (error) {
      failures++;
      if (notes.length < 3) notes.push(`${item.input}: ${(error as Error).message}`);
    } finally {
      answers.delete(index);
      await Promise.all([input.close(), output.close()]);
    }
  });
  const ended = process.hrtime.bigint();
  call.end();
  connection.close();
  const serverPeakRss = vmHwm(child.pid!);
  child.kill('SIGTERM');
  await exited;
  const result: RunResult = {
    docs: items.length,
    bytes,
    seconds: Number(ended - started) / 1e9,
    failures,
    notes,
    peakRss: process.resourceUsage().maxRSS * 1024,
    ...(serverPeakRss === undefined ? {} : { serverPeakRss }),
  };
  console.log(JSON.stringify(result));
}

if (process.argv.includes('--serve')) {
  const { values } = parseArgs({ options: { serve: { type: 'boolean' }, config: { type: 'string' }, seal: { type: 'string' } } });
  await serve(String(values.config), String(values.seal));
} else {
  await client();
}
