/**
 * End to end, for real: embedded defaults provisioned in a temp data dir (SoftHSM token, dev CA, two seals), the
 * real engine and token pool, a gRPC server on 127.0.0.1:0, and independent checkers (pdfsig, qpdf, pdftoppm).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, listSeals, sealdErrorCode, sealRemote, UPLOAD_CHUNK_BYTES, type SealClient } from '../../src/cli/client.ts';
import { SealHeaderSchema, SealKind, SealRequestSchema, type SealHeader } from '../../src/gen/seald/v1/seald_pb.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdConfig } from '../../src/config/config.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { fixture } from '../fixtures/index.ts';
import { run } from '../support/run.ts';
import { isPrefix, pdfsig, qpdfCheck, redPixels, renderPage } from '../support/tools.ts';
import { healthCheck, reflect, spoolFiles } from './harness.ts';

const MiB = 1024 * 1024;
const BIN = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));

let dataDir: string;
let outDir: string;
let config: SealdConfig;
let server: SealdServer;
let client: SealClient;
const logs: string[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-e2e-data-'));
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-e2e-out-'));
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  config = await loadServerConfig(
    { dataDir, listen: '127.0.0.1:0', metrics: '127.0.0.1:0' },
    logger,
    { SEALD_MAX_DOCUMENT_BYTES: '60MiB' }, // the 50 MB fixture fits, a 61 MiB upload does not
  );
  server = await startSealdServer(config, logger, { healthIntervalMs: 200 });
  client = connect(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.shutdown('tests over');
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function header(sealId: string, page: number, x: number, y: number, extra: { fieldName?: string } = {}): SealHeader {
  return create(SealHeaderSchema, {
    sealId,
    placement: { kind: { case: 'position', value: { page, x, y } } },
    options: { reason: 'e2e test', location: 'Shanghai', fieldName: extra.fieldName ?? '' },
  });
}

/** Seal a file through the API, streaming from and to disk. */
async function sealFile(input: string, output: string, head: SealHeader) {
  const out = fs.createWriteStream(output);
  const responseChunks: number[] = [];
  try {
    const summary = await sealRemote(
      client,
      create(SealHeaderSchema, { ...head, documentSize: BigInt(fs.statSync(input).size) }),
      fs.createReadStream(input, { highWaterMark: UPLOAD_CHUNK_BYTES }),
      async (chunk) => {
        responseChunks.push(chunk.byteLength);
        if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      },
    );
    return { summary, responseChunks };
  } finally {
    await new Promise<void>((resolve) => out.end(() => resolve()));
  }
}

function trustAnchors(): string[] {
  return config.trust.anchors;
}

describe('seald end to end (SoftHSM, real engine)', () => {
  it('reports SERVING and lists both seals with their certificates', async () => {
    expect(await healthCheck(server.address)).toBe('SERVING');
    expect(await healthCheck(server.address, 'seald.v1.SealService')).toBe('SERVING');
    const { seals } = await listSeals(client);
    expect(seals.map((s) => [s.id, s.kind, s.available])).toEqual([
      ['org', SealKind.ORGANIZATION, true],
      ['personal', SealKind.PERSONAL, true],
      ['legal-rep', SealKind.LEGAL_REPRESENTATIVE, true],
    ]);
    expect(seals.map((s) => s.activationRequired)).toEqual([false, false, true]);
    expect(seals[0]!.name).toBe('示例商贸有限公司');
    expect(seals[0]!.certificate!.subject).toContain('示例商贸有限公司');
    expect(seals[0]!.certificate!.keyAlgorithm).toMatch(/^(RSA-\d+|EC \S+)$/);
    // The embedded seals are SVG (vector paths): listed as image_svg, not as a PNG.
    expect(Buffer.from(seals[0]!.imageSvg).toString('utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(seals[0]!.imagePng).toHaveLength(0);
    const cert = seals[0]!.certificate!;
    expect(timestampDate(cert.notBefore!).getTime()).toBeLessThan(Date.now());
    expect(timestampDate(cert.notAfter!).getTime()).toBeGreaterThan(Date.now());
  });

  it('lists seald.v1.SealService through reflection', async () => {
    const { services } = await reflect(server.address, { listServices: '' });
    expect(services).toEqual(expect.arrayContaining(['seald.v1.SealService', 'grpc.health.v1.Health']));
  });

  it('seals a simple PDF: original bytes as prefix, pdfsig valid, qpdf clean, mark where asked', async () => {
    const input = await fixture('simple');
    const output = path.join(outDir, 'simple-sealed.pdf');
    const { summary } = await sealFile(input, output, header('org', 1, 300, 200, { fieldName: 'CompanySeal' }));
    expect(await isPrefix(input, output)).toBe(true);
    expect(summary.documentSize).toBe(BigInt(fs.statSync(output).size));
    expect(summary.fieldName).toBe('CompanySeal');
    expect(summary.revision).toBe(2);
    expect(summary.pages).toEqual([1]);
    expect(summary.digestAlgorithm).toBe('SHA-256');
    expect(summary.documentDigest).toHaveLength(32);
    expect(summary.signerSubject).toContain('示例商贸有限公司');
    expect(Math.abs(timestampDate(summary.signingTime!).getTime() - Date.now())).toBeLessThan(60_000);
    const [a, b, c, d] = summary.byteRange.map(Number);
    expect(a).toBe(0);
    expect(c! + d!).toBe(fs.statSync(output).size);
    expect(b).toBeLessThan(c!);

    const report = await pdfsig(output, { trustCaPems: trustAnchors() });
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]!.validationText).toBe('Signature is Valid.');
    expect(report.signatures[0]!.coversWholeDocument).toBe(true);
    expect(report.signatures[0]!.fieldName).toBe('CompanySeal');
    expect((await qpdfCheck(output)).status).not.toBe('errors');

    const size = (42 * 72) / 25.4; // size_mm of the org seal
    const page = await renderPage(output, 1, 50);
    const red = redPixels(page, { x: 300 - size / 2, y: 200 - size / 2, w: size, h: size });
    expect(red.inside).toBeGreaterThan(50);
    expect(red.outside).toBeLessThan(red.inside * 0.05);
  });

  it('seals a CJK contract with the personal seal on page 3', async () => {
    const input = await fixture('cjk-contract');
    const output = path.join(outDir, 'cjk-sealed.pdf');
    const { summary } = await sealFile(input, output, header('personal', 3, 200, 300));
    expect(summary.pages).toEqual([3]);
    expect(await isPrefix(input, output)).toBe(true);
    const report = await pdfsig(output, { trustCaPems: trustAnchors() });
    expect(report.signatures.map((s) => s.validationText)).toEqual(['Signature is Valid.']);
  });

  it('seals a 50 MB document, chunked both ways', async () => {
    const input = await fixture('large-50mb');
    const inputSize = fs.statSync(input).size;
    expect(inputSize).toBeGreaterThan(48 * MiB);
    const output = path.join(outDir, 'large-sealed.pdf');
    const { summary, responseChunks } = await sealFile(input, output, header('org', 4, 300, 300));
    expect(responseChunks.length).toBeGreaterThan(48);
    expect(Math.max(...responseChunks)).toBeLessThanOrEqual(MiB);
    expect(summary.documentSize).toBe(BigInt(fs.statSync(output).size));
    expect(await isPrefix(input, output)).toBe(true);
    const report = await pdfsig(output, { trustCaPems: trustAnchors() });
    expect(report.signatures.at(-1)!.validationText).toBe('Signature is Valid.');
    expect(spoolFiles(config.limits.tmpDir)).toEqual([]);
  }, 300_000);

  it('first message not a header: INVALID_ARGUMENT', async () => {
    const call = client.seal();
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.write(create(SealRequestSchema, { payload: { case: 'chunk', value: new Uint8Array(10) } }));
    call.end();
    expect((await status).code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('unknown seal: NOT_FOUND', async () => {
    const error = await sealFile(await fixture('simple'), path.join(outDir, 'x.pdf'), header('ghost', 1, 100, 100)).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: grpc.status.NOT_FOUND, details: 'unknown seal "ghost"' });
    expect(sealdErrorCode(error)).toBe('SEAL_NOT_FOUND');
  });

  it('over the maximum size: RESOURCE_EXHAUSTED, no spool file left', async () => {
    async function* body() {
      const chunk = new Uint8Array(MiB).fill(0x20);
      for (let i = 0; i < 61; i++) yield chunk;
    }
    const error = await sealRemote(client, header('org', 1, 100, 100), body(), () => undefined).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    expect(spoolFiles(config.limits.tmpDir)).toEqual([]);
  });

  it('not a PDF: INVALID_ARGUMENT', async () => {
    const error = await sealFile(await fixture('not-a-pdf'), path.join(outDir, 'y.pdf'), header('org', 1, 100, 100)).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it('a client cancelling mid-upload: spool dir empty, the next call is served', async () => {
    const call = client.seal();
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.write(create(SealRequestSchema, { payload: { case: 'header', value: header('org', 1, 100, 100) } }));
    const chunk = new Uint8Array(MiB).fill(0x25);
    for (let i = 0; i < 10; i++) call.write(create(SealRequestSchema, { payload: { case: 'chunk', value: chunk } }));
    await waitFor(() => spoolFiles(config.limits.tmpDir).length > 0); // past the 8 MiB memory threshold
    call.cancel();
    expect((await ended).code).toBe(grpc.status.CANCELLED);
    await waitFor(() => spoolFiles(config.limits.tmpDir).length === 0);

    const input = await fixture('simple');
    const output = path.join(outDir, 'after-cancel.pdf');
    await sealFile(input, output, header('org', 1, 150, 150));
    expect((await pdfsig(output)).signatures[0]!.validationText).toBe('Signature is Valid.');
    const errors = logs.map((l) => JSON.parse(l)).filter((entry) => entry.level >= 50);
    expect(errors).toEqual([]);
  });

  it('the CLI seals through the server, and reports an unknown seal', async () => {
    const input = await fixture('simple');
    const output = path.join(outDir, 'cli-sealed.pdf');
    const env = { ...process.env, SEALD_SERVER: server.address };
    const ok = await run(process.execPath, [BIN, 'seal', input, '-o', output, '--seal', 'personal', '--page', '1', '--x', '400', '--y', '100'], { env });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect((await pdfsig(output)).signatures[0]!.validationText).toBe('Signature is Valid.');

    const bad = await run(process.execPath, [BIN, 'seal', input, '-o', path.join(outDir, 'z.pdf'), '--seal', 'x', '--page', '1', '--x', '1', '--y', '1'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('seald: NOT_FOUND: unknown seal "x"\n');
    expect(fs.existsSync(path.join(outDir, 'z.pdf'))).toBe(false);

    const listed = await run(process.execPath, [BIN, 'seals'], { env });
    expect(listed.code).toBe(0);
    expect(listed.stdout.toString()).toMatch(/^org\s+official\s+示例商贸有限公司/m);
  });

  it('exports token sign timings', async () => {
    const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    expect(text).toMatch(/seald_token_sign_duration_seconds_count\{seal="org",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/seald_seal_requests_total\{seal="org",code="OK"\} [1-9]/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
