/**
 * Best-effort signature time-stamps through the whole service (SoftHSM, the repository's OpenSSL test TSA, real
 * servers): with the TSA up a best-effort seal is B-T as usual; with it stopped, a best-effort seal is B-B (pdfsig
 * valid, no signature-time-stamp-token attribute in `openssl cms -cmsout -print`), keeps the room reserved for the
 * token, says why in the summary and counts seald_timestamp_skipped_total; a strict seal is UNAVAILABLE and writes
 * nothing; `seald batch --timestamp-best-effort` reports each missing time-stamp, and a re-sent batch is replayed
 * byte for byte from the idempotency store (still reported missing, not counted again). A server that never reached
 * its TSA (nothing measured) seals B-B without the room.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { fixture } from '../fixtures/index.ts';
import { createTestPki, type TestPki } from '../support/pki.ts';
import { run } from '../support/run.ts';
import { startTestTsa, type TestTsa } from '../support/test-tsa.ts';
import { extractSignatures, pdfsig } from '../support/tools.ts';

let dir: string;
let pki: TestPki;
let tsa: TestTsa;
let tsaStopped = false;
/** Its TSA is the test TSA, stopped half-way through. */
let server: SealdServer;
/** Its only TSA is a closed port: it never measured a token. */
let neverReached: SealdServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-ts-best-effort-'));
  pki = await createTestPki(path.join(dir, 'pki'), { caName: 'TSA CA', signerName: 'unused' });
  tsa = await startTestTsa({ dir: path.join(dir, 'tsa'), ca: { certPem: pki.caCertPem, keyPem: pki.caKeyPem } });
  const logger = pino({ level: 'silent' });
  const dataDir = path.join(dir, 'data');
  server = await startSealdServer(
    await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: '127.0.0.1:0' }, logger, {
      SEALD_TSA_URLS: tsa.url,
      SEALD_TSA_TIMEOUT_MS: '3000',
    }),
    logger,
  );
  neverReached = await startSealdServer(
    await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: '127.0.0.1:0' }, logger, {
      SEALD_TSA_URLS: 'http://127.0.0.1:9/tsr',
      SEALD_TSA_TIMEOUT_MS: '3000',
    }),
    logger,
  );
});

afterAll(async () => {
  await server?.shutdown();
  await neverReached?.shutdown();
  if (!tsaStopped) await tsa?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {} };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

interface SealJson {
  timestampTime: string | null;
  timestampMissing: string | null;
}

async function seal(input: string, output: string, address: string, mode: '--timestamp' | '--timestamp-best-effort') {
  return cli(['seal', input, '-o', output, '--seal', 'org', '--page', '1', '--x', '300', '--y', '300', mode, '--json', '--server', address]);
}

/** `openssl cms -cmsout -print` of the document's only signature. */
async function cmsPrint(file: string): Promise<string> {
  const [signature] = await extractSignatures(file);
  const cmsFile = `${file}.p7s`;
  fs.writeFileSync(cmsFile, signature!.cms);
  const printed = await run('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', cmsFile]);
  expect(printed.code).toBe(0);
  return printed.stdout.toString();
}

/** Bytes of the /Contents string: the room reserved for the CMS (and its token). */
async function contentsBytes(file: string): Promise<number> {
  const [signature] = await extractSignatures(file);
  return signature!.contents.end - signature!.contents.start;
}

async function metrics(of: SealdServer): Promise<string> {
  return (await fetch(`http://127.0.0.1:${of.metricsPort}/metrics`)).text();
}

// OpenSSL prints RFC 3161 Appendix A's id-aa-signatureTimeStampToken (1.2.840.113549.1.9.16.2.14) by this name.
const TOKEN_ATTRIBUTE = /id-smime-aa-timeStampToken/;

describe('best-effort signature time-stamps', () => {
  let roomWithToken = 0;

  it('with the TSA up: B-T as usual, nothing reported missing', async () => {
    const output = path.join(dir, 'up.pdf');
    const result = await seal(await fixture('simple'), output, server.address, '--timestamp-best-effort');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as SealJson;
    expect(summary.timestampTime).not.toBeNull();
    expect(summary.timestampMissing).toBeNull();
    expect(await cmsPrint(output)).toMatch(TOKEN_ATTRIBUTE);
    expect((await pdfsig(output)).signatures[0]!.signatureValid).toBe(true);
    roomWithToken = await contentsBytes(output);
  });

  it('with the TSA stopped: sealed B-B in the same room, the reason in the summary, counted', async () => {
    await tsa.close();
    tsaStopped = true;
    const output = path.join(dir, 'down.pdf');
    const result = await seal(await fixture('simple'), output, server.address, '--timestamp-best-effort');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as SealJson;
    expect(summary.timestampTime).toBeNull();
    expect(summary.timestampMissing).toMatch(/^TSA_UNAVAILABLE: no time-stamping authority gave a usable answer .*ECONNREFUSED/);
    expect((await pdfsig(output)).signatures[0]!.signatureValid).toBe(true);
    const printed = await cmsPrint(output);
    expect(printed).toMatch(/signerInfos:/);
    expect(printed).not.toMatch(TOKEN_ATTRIBUTE);
    // The room was reserved before the TSA failed: the token's bytes are zero padding now (±2 for a serial's length).
    expect(Math.abs((await contentsBytes(output)) - roomWithToken)).toBeLessThanOrEqual(4);
    expect(await metrics(server)).toMatch(/seald_timestamp_skipped_total\{reason="TSA_UNAVAILABLE"\} 1\b/);
  });

  it('strict (the default) with the TSA stopped: UNAVAILABLE and no output', async () => {
    const output = path.join(dir, 'strict.pdf');
    const result = await seal(await fixture('simple'), output, server.address, '--timestamp');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/UNAVAILABLE.*no time-stamping authority gave a usable answer/);
    expect(fs.existsSync(output)).toBe(false);
    expect(await metrics(server)).toMatch(/seald_timestamp_skipped_total\{reason="TSA_UNAVAILABLE"\} 1\b/);
  });

  it('seald batch --timestamp-best-effort: every document sealed, each missing time-stamp reported', async () => {
    const inDir = path.join(dir, 'batch-in');
    const outDir = path.join(dir, 'batch-out');
    fs.mkdirSync(inDir);
    fs.copyFileSync(await fixture('simple'), path.join(inDir, 'a.pdf'));
    fs.copyFileSync(await fixture('cjk-contract'), path.join(inDir, 'b.pdf'));
    const result = await cli([
      'batch', inDir, '-o', outDir, '--seal', 'org', '--page', '1', '--x', '300', '--y', '300',
      '--timestamp-best-effort', '--progress', 'lines', '--server', server.address,
    ]); // prettier-ignore
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^2 sealed, 0 skipped, 0 failed, 2 without time-stamp of 2 documents/);
    for (const name of ['a.pdf', 'b.pdf']) {
      expect(result.stderr).toMatch(new RegExp(`sealed ${name} \\([^)]*\\), without time-stamp: TSA_UNAVAILABLE: `));
      const output = path.join(outDir, name);
      expect((await pdfsig(output)).signatures[0]!.signatureValid).toBe(true);
      expect(await cmsPrint(output)).not.toMatch(TOKEN_ATTRIBUTE);
    }
    const report = JSON.parse(fs.readFileSync(path.join(outDir, 'seald-batch-report.json'), 'utf8')) as {
      totals: { timestampMissing: number };
      documents: { status: string; timestampMissing?: string }[];
    };
    expect(report.totals.timestampMissing).toBe(2);
    expect(report.documents.map((d) => [d.status, d.timestampMissing?.split(':')[0]])).toEqual([
      ['sealed', 'TSA_UNAVAILABLE'],
      ['sealed', 'TSA_UNAVAILABLE'],
    ]);
    expect(await metrics(server)).toMatch(/seald_timestamp_skipped_total\{reason="TSA_UNAVAILABLE"\} 3\b/);

    // Sent again (outputs deleted): answered from the idempotency store, the same B-B bytes, still reported missing.
    const first = ['a.pdf', 'b.pdf'].map((name) => fs.readFileSync(path.join(outDir, name)));
    for (const name of ['a.pdf', 'b.pdf', 'seald-batch-report.json']) fs.rmSync(path.join(outDir, name));
    const again = await cli([
      'batch', inDir, '-o', outDir, '--seal', 'org', '--page', '1', '--x', '300', '--y', '300',
      '--timestamp-best-effort', '--progress', 'none', '--json', '--server', server.address,
    ]); // prettier-ignore
    expect(again.code).toBe(0);
    const replayed = JSON.parse(again.stdout) as typeof report;
    expect(replayed.documents.map((d) => [d.status, d.timestampMissing?.split(':')[0]])).toEqual([
      ['replayed', 'TSA_UNAVAILABLE'],
      ['replayed', 'TSA_UNAVAILABLE'],
    ]);
    ['a.pdf', 'b.pdf'].forEach((name, i) => expect(fs.readFileSync(path.join(outDir, name)).equals(first[i]!)).toBe(true));
    expect(await metrics(server)).toMatch(/seald_timestamp_skipped_total\{reason="TSA_UNAVAILABLE"\} 3\b/); // not sealed again
  });

  it('seald batch --prepare-locally --timestamp-best-effort is refused (SignPrepared time-stamps strictly), nothing written', async () => {
    const inDir = path.join(dir, 'batch-in');
    const outDir = path.join(dir, 'prepared-out');
    const result = await cli([
      'batch', inDir, '-o', outDir, '--seal', 'org', '--page', '1', '--x', '300', '--y', '300',
      '--timestamp-best-effort', '--prepare-locally', '--retries', '0', '--server', server.address,
    ]); // prettier-ignore
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--timestamp-best-effort is not offered with --prepare-locally/);
    expect(fs.readdirSync(outDir).filter((name) => name.endsWith('.pdf'))).toEqual([]);
  });

  it('a server that never reached its TSA seals B-B without the room (no token size is known)', async () => {
    const output = path.join(dir, 'never.pdf');
    const result = await seal(await fixture('simple'), output, neverReached.address, '--timestamp-best-effort');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as SealJson).timestampMissing).toMatch(/^TSA_UNAVAILABLE: .*127\.0\.0\.1:9/);
    expect((await pdfsig(output)).signatures[0]!.signatureValid).toBe(true);
    expect(await cmsPrint(output)).not.toMatch(TOKEN_ATTRIBUTE);
    expect(await contentsBytes(output)).toBeLessThan(roomWithToken - 1000);
    expect(await metrics(neverReached)).toMatch(/seald_timestamp_skipped_total\{reason="TSA_UNAVAILABLE"\} 1\b/);
  });
});
