/**
 * Signature time-stamps through the whole service: `seald seal --timestamp` against a server whose TSA list comes
 * from SEALD_TSA_URLS (a dead TSA first, OpenSSL's TSA second), the token checked by `openssl ts -verify`, TSA metrics
 * scraped from /metrics, and the status a caller gets with no TSA configured.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { id_aa_signatureTimeStampToken } from '../../src/crypto/oids.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { fixture } from '../fixtures/index.ts';
import { createTestPki, type TestPki } from '../support/pki.ts';
import { run } from '../support/run.ts';
import { startTestTsa, type TestTsa } from '../support/test-tsa.ts';
import { extractSignatures, pdfsig, qpdfCheck } from '../support/tools.ts';

let dir: string;
let pki: TestPki;
let tsa: TestTsa;
let withTsa: SealdServer;
let withoutTsa: SealdServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-ts-seal-'));
  pki = await createTestPki(path.join(dir, 'pki'), { caName: 'TSA CA', signerName: 'unused' });
  tsa = await startTestTsa({ dir: path.join(dir, 'tsa'), ca: { certPem: pki.caCertPem, keyPem: pki.caKeyPem } });
  const logger = pino({ level: 'silent' });
  const dataDir = path.join(dir, 'data');
  const env = { SEALD_TSA_URLS: `http://127.0.0.1:9/tsr, ${tsa.url}`, SEALD_TSA_TIMEOUT_MS: '3000' };
  withTsa = await startSealdServer(
    await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: '127.0.0.1:0' }, logger, env),
    logger,
  );
  withoutTsa = await startSealdServer(
    await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {}),
    logger,
  );
});

afterAll(async () => {
  await withTsa?.shutdown();
  await withoutTsa?.shutdown();
  await tsa?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {} };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe('seald seal --timestamp', () => {
  it('seals with a signature time-stamp from the second TSA when the first is down', async () => {
    const input = await fixture('cjk-contract');
    const output = path.join(dir, 'bt.pdf');
    const before = Date.now();
    const result = await cli([
      'seal', input, '-o', output, '--seal', 'org', '--page', '1', '--x', '300', '--y', '300',
      '--timestamp', '--json', '--server', withTsa.address,
    ]); // prettier-ignore
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { timestampTime: string | null };
    expect(summary.timestampTime).not.toBeNull();
    expect(Math.abs(Date.parse(summary.timestampTime!) - before)).toBeLessThan(60_000);

    const [signature] = await extractSignatures(output);
    const signerInfo = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(signature!.cms)).content })
      .signerInfos[0]!;
    const token = signerInfo.unsignedAttrs!.attributes.find((a) => a.type === id_aa_signatureTimeStampToken)!;
    const tokenFile = path.join(dir, 'token.der');
    fs.writeFileSync(tokenFile, new Uint8Array((token.values[0] as asn1js.BaseBlock).toBER()));
    const imprint = createHash('sha256').update(signerInfo.signature.valueBlock.valueHexView).digest('hex');
    const verify = await run('openssl', [
      'ts', '-verify', '-digest', imprint, '-token_in', '-in', tokenFile, '-CAfile', pki.caCertPem, '-untrusted', tsa.certPem,
    ]); // prettier-ignore
    expect(verify.stdout.toString() + verify.stderr).toContain('Verification: OK');
    expect((await pdfsig(output)).signatures[0]!.signatureValid).toBe(true);

    const metrics = await (await fetch(`http://127.0.0.1:${withTsa.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/seald_tsa_errors_total\{tsa="http:\/\/127\.0\.0\.1:9\/tsr",reason="TSA_UNREACHABLE"\} [1-9]/);
    expect(metrics).toMatch(new RegExp(`seald_tsa_request_duration_seconds_count\\{tsa="${tsa.url.replace(/[./]/g, '\\$&')}",outcome="ok"\\} [1-9]`));
  });

  it('without --timestamp the server default (off) applies: no token', async () => {
    const output = path.join(dir, 'bb.pdf');
    const result = await cli([
      'seal', await fixture('simple'), '-o', output, '--seal', 'org', '--page', '1', '--x', '200', '--y', '200',
      '--json', '--server', withTsa.address,
    ]); // prettier-ignore
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { timestampTime: unknown }).timestampTime).toBeNull();
  });

  it('is FAILED_PRECONDITION on a server with no TSA, and nothing is written', async () => {
    const output = path.join(dir, 'refused.pdf');
    const result = await cli([
      'seal', await fixture('simple'), '-o', output, '--seal', 'org', '--page', '1', '--x', '200', '--y', '200',
      '--timestamp', '--server', withoutTsa.address,
    ]); // prettier-ignore
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FAILED_PRECONDITION.*no TSA configured/);
    expect(fs.existsSync(output)).toBe(false);
  });
});

describe('seald timestamp', () => {
  it('appends a /DocTimeStamp that openssl ts -verify accepts over the byte ranges; the earlier seal stays valid', async () => {
    const sealed = path.join(dir, 'to-stamp.pdf');
    const sealing = await cli([
      'seal', await fixture('cjk-contract'), '-o', sealed, '--seal', 'org', '--page', '1', '--x', '300', '--y', '300',
      '--server', withTsa.address,
    ]); // prettier-ignore
    expect(sealing.code).toBe(0);
    const output = path.join(dir, 'stamped.pdf');
    const result = await cli(['timestamp', sealed, '-o', output, '--json', '--server', withTsa.address]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { fieldName: string; revision: number; timestampTime: string | null };
    expect(summary).toMatchObject({ fieldName: 'Timestamp1', revision: 3 });
    expect(summary.timestampTime).not.toBeNull();

    const signatures = await extractSignatures(output);
    expect(signatures).toHaveLength(2);
    const dts = signatures[1]!;
    expect(dts.subFilter).toBe('ETSI.RFC3161');
    expect(dts.coversWholeFile).toBe(true);
    const tokenFile = path.join(dir, 'dts-token.der');
    const dataFile = path.join(dir, 'dts-data.bin');
    fs.writeFileSync(tokenFile, dts.cms);
    fs.writeFileSync(dataFile, dts.signedBytes);
    const verify = await run('openssl', [
      'ts', '-verify', '-data', dataFile, '-token_in', '-in', tokenFile, '-CAfile', pki.caCertPem, '-untrusted', tsa.certPem,
    ]); // prettier-ignore
    expect(verify.stdout.toString() + verify.stderr).toContain('Verification: OK');
    expect((await pdfsig(output)).signatures[0]!.signatureValid).toBe(true);
  });

  it('is FAILED_PRECONDITION with no TSA and UNAVAILABLE when no TSA answers usefully; no output either way', async () => {
    const input = await fixture('simple');
    const none = path.join(dir, 'none.pdf');
    const noTsa = await cli(['timestamp', input, '-o', none, '--server', withoutTsa.address]);
    expect(noTsa.code).toBe(1);
    expect(noTsa.stderr).toMatch(/FAILED_PRECONDITION.*no time-stamping authority configured/);
    expect(fs.existsSync(none)).toBe(false);

    tsa.behaviour = { kind: 'garbage' };
    try {
      const down = await cli(['timestamp', input, '-o', none, '--server', withTsa.address]);
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(/UNAVAILABLE.*no time-stamping authority gave a usable answer/);
      expect(fs.existsSync(none)).toBe(false);
    } finally {
      tsa.behaviour = { kind: 'ok' };
    }
  });
});

describe('seald ltv', () => {
  it('adds a DSS (and with --timestamp a document time-stamp) through the server; the seal stays valid', async () => {
    const sealed = path.join(dir, 'to-extend.pdf');
    expect(
      (
        await cli([
          'seal', await fixture('simple'), '-o', sealed, '--seal', 'org', '--page', '1', '--x', '200', '--y', '200',
          '--server', withTsa.address,
        ])
      ).code,
    ).toBe(0); // prettier-ignore
    const output = path.join(dir, 'extended.pdf');
    const result = await cli(['ltv', sealed, '-o', output, '--timestamp', '--json', '--server', withTsa.address]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      revision: number;
      signatures: number;
      added: { certificates: number };
      withoutRevocationSource: string[];
      timestampTime: string | null;
    };
    expect(summary.revision).toBe(4); // seal 2, DSS 3, document time-stamp 4
    expect(summary.signatures).toBe(1);
    expect(summary.added.certificates).toBeGreaterThanOrEqual(2); // the seal certificate and the dev CA
    // The demo seal's certificate names no OCSP responder or CRL: reported, not invented.
    expect(summary.withoutRevocationSource).toHaveLength(1);
    expect(summary.timestampTime).not.toBeNull();
    expect((await qpdfCheck(output)).ok).toBe(true);
    const signatures = await extractSignatures(output);
    expect(signatures.map((s) => s.subFilter)).toEqual(['ETSI.CAdES.detached', 'ETSI.RFC3161']);
    // The time-stamp's imprint is the digest the server carried over from the upload through the DSS revision.
    const dts = signatures[1]!;
    fs.writeFileSync(path.join(dir, 'lta.tsr'), dts.cms);
    fs.writeFileSync(path.join(dir, 'lta.data'), dts.signedBytes);
    const tsVerify = await run('openssl', [
      'ts', '-verify', '-data', path.join(dir, 'lta.data'), '-token_in', '-in', path.join(dir, 'lta.tsr'), '-CAfile', pki.caCertPem, '-untrusted', tsa.certPem,
    ]); // prettier-ignore
    expect(tsVerify.stdout.toString() + tsVerify.stderr).toContain('Verification: OK');
    expect((await pdfsig(output)).signatures[0]!.signatureValid).toBe(true);
  });
});

