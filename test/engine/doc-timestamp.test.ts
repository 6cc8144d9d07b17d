/**
 * Document time-stamps through the engine: OpenSSL's TSA over HTTP, the /DocTimeStamp revision checked by
 * `openssl ts -verify -data` over the signed byte ranges, qpdf, and pdfsig (earlier signatures stay valid).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/provision/load-config.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import { pemToDer } from '../../src/crypto/certificate.ts';
import { TsaClient } from '../../src/crypto/tsa-client.ts';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { sealDocument, type SealMaterial } from '../../src/engine/seal.ts';
import { timestampDocument } from '../../src/engine/doc-timestamp.ts';
import { fixture } from '../fixtures/index.ts';
import { extractSignatures, isPrefix, pdfsig, qpdfCheck } from '../support/tools.ts';
import { run } from '../support/run.ts';
import { startTestTsa, type TestTsa } from '../support/test-tsa.ts';
import { sealFiles } from '../provision/demo-seal-files.ts';

let dataDir: string;
let pool: TokenPool;
let org: SealMaterial;
let tsa: TestTsa;
let devCaPem: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-dts-'));
  const logger = pino({ level: 'silent' });
  const config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  pool = await TokenPool.open(config.pkcs11, logger);
  const seal = config.seals.find((s) => s.id === 'org')!;
  org = {
    id: 'org',
    signer: pool.signer('org', pemToDer(fs.readFileSync(sealFiles(config, seal).certificates, 'utf8'))),
    image: prepareSealImage(fs.readFileSync(sealFiles(config, seal).image)),
    defaultWidth: 119,
    defaultHeight: 119,
  };
  devCaPem = path.join(dataDir, 'ca', 'dev-ca.pem');
  tsa = await startTestTsa({ dir: path.join(dataDir, 'tsa'), ca: { certPem: devCaPem, keyPem: path.join(dataDir, 'ca', 'dev-ca.key.pem') } });
});

afterAll(async () => {
  await tsa?.close();
  await pool?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function opensslTsVerifyData(token: Uint8Array, data: Uint8Array): Promise<string> {
  const tokenFile = path.join(dataDir, `token-${Math.random().toString(36).slice(2)}.der`);
  const dataFile = `${tokenFile}.data`;
  fs.writeFileSync(tokenFile, token);
  fs.writeFileSync(dataFile, data);
  const result = await run('openssl', [
    'ts', '-verify', '-data', dataFile, '-token_in', '-in', tokenFile, '-CAfile', devCaPem, '-untrusted', tsa.certPem,
  ]); // prettier-ignore
  return result.stdout.toString() + result.stderr;
}

describe('timestampDocument', () => {
  it('appends a /DocTimeStamp whose token openssl verifies over the byte ranges, after a seal that stays valid', async () => {
    const input = fs.readFileSync(await fixture('cjk-contract'));
    const sealed = await sealDocument(bufferSource(input), org, { page: 1, x: 300, y: 300 });
    const signed = Buffer.concat([input, sealed.appended]);
    const timestamper = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 5000 });
    const outcome = await timestampDocument(bufferSource(signed), timestamper);
    expect(outcome.fieldName).toBe('Timestamp1');
    expect(outcome.revision).toBe(sealed.revision + 1);
    const output = Buffer.concat([signed, outcome.appended]);
    expect(await isPrefix(signed, output)).toBe(true);

    const file = path.join(dataDir, 'dts.pdf');
    fs.writeFileSync(file, output);
    expect((await qpdfCheck(file)).ok).toBe(true);
    const signatures = await extractSignatures(output);
    expect(signatures).toHaveLength(2);
    const dts = signatures[1]!;
    expect(dts.subFilter).toBe('ETSI.RFC3161');
    expect(dts.coversWholeFile).toBe(true);
    expect(fs.readFileSync(file, 'latin1')).toMatch(/\/Type\s*\/DocTimeStamp/);
    expect(await opensslTsVerifyData(dts.cms, dts.signedBytes)).toContain('Verification: OK');
    // One changed byte in the covered range and openssl refuses it: the check can fail.
    const tampered = Buffer.from(dts.signedBytes);
    tampered[100] = tampered[100]! ^ 1;
    expect(await opensslTsVerifyData(dts.cms, tampered)).not.toContain('Verification: OK');

    const report = await pdfsig(file, { trustCaPems: [devCaPem] });
    expect(report.signatures.length).toBe(2);
    expect(report.signatures[0]!.signatureValid).toBe(true);
  });

  it('time-stamps an unsigned document', async () => {
    const input = fs.readFileSync(await fixture('xref-stream'));
    const timestamper = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 5000 });
    const outcome = await timestampDocument(bufferSource(input), timestamper);
    const output = Buffer.concat([input, outcome.appended]);
    const file = path.join(dataDir, 'dts-unsigned.pdf');
    fs.writeFileSync(file, output);
    expect((await qpdfCheck(file)).ok).toBe(true);
    const [dts] = await extractSignatures(output);
    expect(await opensslTsVerifyData(dts!.cms, dts!.signedBytes)).toContain('Verification: OK');
  });

  it('a token larger than measured (a failover TSA): the size is noted and the update prepared once more', async () => {
    const input = fs.readFileSync(await fixture('simple'));
    const real = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 5000 });
    // The real client, with its first size estimate made 300 bytes too small.
    let understate = 300;
    let tokens = 0;
    const timestamper = {
      tokenSizeBound: async (signal?: AbortSignal) => (await real.tokenSizeBound(signal)) - understate,
      timestamp: async (imprint: Uint8Array, signal?: AbortSignal) => {
        tokens++;
        return real.timestamp(imprint, signal);
      },
      noteTokenSize: (bytes: number) => {
        understate = 0;
        real.noteTokenSize(bytes);
      },
    };
    const outcome = await timestampDocument(bufferSource(input), timestamper);
    expect(tokens).toBe(2);
    const [dts] = await extractSignatures(Buffer.concat([input, outcome.appended]));
    expect(await opensslTsVerifyData(dts!.cms, dts!.signedBytes)).toContain('Verification: OK');
  });
});

