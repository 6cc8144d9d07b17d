/**
 * PAdES B-T through the engine on the real SoftHSM token: the signature time-stamp comes from OpenSSL's TSA over real
 * HTTP, and every part is checked by independent tools — `openssl cms -verify` for the CMS, `openssl ts -verify` for
 * the token over the SHA-256 of the signature value, pdfsig for the PDF.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/provision/load-config.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import { pemToDer } from '../../src/crypto/certificate.ts';
import { id_aa_signatureTimeStampToken } from '../../src/crypto/oids.ts';
import type { Signer } from '../../src/crypto/signer.ts';
import { TsaClient } from '../../src/crypto/tsa-client.ts';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { sealDocument, type SealMaterial } from '../../src/engine/seal.ts';
import { SealdError } from '../../src/errors.ts';
import { fixture } from '../fixtures/index.ts';
import { extractSignatures, opensslCmsVerify, pdfsig, qpdfCheck } from '../support/tools.ts';
import { run } from '../support/run.ts';
import { startTestTsa, type TestTsa } from '../support/test-tsa.ts';
import { sealFiles } from '../provision/demo-seal-files.ts';

let dataDir: string;
let pool: TokenPool;
let org: SealMaterial;
let tsa: TestTsa;
let devCaPem: string;
let signs = 0;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-bt-'));
  const logger = pino({ level: 'silent' });
  const config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  pool = await TokenPool.open(config.pkcs11, logger);
  const seal = config.seals.find((s) => s.id === 'org')!;
  const signer = pool.signer('org', pemToDer(fs.readFileSync(sealFiles(config, seal).certificates, 'utf8')));
  const counting: Signer = {
    certificates: signer.certificates,
    algorithm: signer.algorithm,
    signDigest(digest, signal) {
      signs++;
      return signer.signDigest(digest, signal);
    },
  };
  org = { id: 'org', signer: counting, image: prepareSealImage(fs.readFileSync(sealFiles(config, seal).image)), defaultWidth: 119, defaultHeight: 119 };
  devCaPem = path.join(dataDir, 'ca', 'dev-ca.pem');
  tsa = await startTestTsa({ dir: path.join(dataDir, 'tsa'), ca: { certPem: devCaPem, keyPem: path.join(dataDir, 'ca', 'dev-ca.key.pem') } });
});

afterAll(async () => {
  await tsa?.close();
  await pool?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The SignerInfo's signature value and its signature-time-stamp-token attribute value, from the CMS DER. */
function timestampOf(cms: Uint8Array): { signatureValue: Uint8Array; token: Uint8Array } {
  const contentInfo = pkijs.ContentInfo.fromBER(new Uint8Array(cms));
  const signerInfo = new pkijs.SignedData({ schema: contentInfo.content }).signerInfos[0]!;
  const attribute = signerInfo.unsignedAttrs?.attributes.find((a) => a.type === id_aa_signatureTimeStampToken);
  expect(attribute, 'signature-time-stamp-token attribute').toBeDefined();
  const value = attribute!.values[0] as asn1js.BaseBlock;
  return {
    signatureValue: new Uint8Array(signerInfo.signature.valueBlock.valueHexView),
    token: new Uint8Array(value.toBER()),
  };
}

describe('sealDocument with a signature time-stamp (PAdES B-T)', () => {
  it('embeds a token over the signature value that openssl ts -verify accepts, and the PDF stays valid', async () => {
    const input = fs.readFileSync(await fixture('cjk-contract'));
    const timestamper = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 5000 });
    const before = new Date();
    const outcome = await sealDocument(bufferSource(input), org, { page: 1, x: 300, y: 300 }, { timestamper });
    expect(outcome.timestampTime).toBeInstanceOf(Date);
    expect(outcome.timestampTime!.getTime()).toBeGreaterThanOrEqual(before.getTime() - 2000);

    const output = Buffer.concat([input, outcome.appended]);
    const file = path.join(dataDir, 'bt.pdf');
    fs.writeFileSync(file, output);
    const [signature] = await extractSignatures(output);
    expect(signature).toBeDefined();
    expect((await opensslCmsVerify(signature!.cms, signature!.signedBytes, devCaPem)).ok).toBe(true);

    const { signatureValue, token } = timestampOf(signature!.cms);
    const tokenFile = path.join(dataDir, 'bt-token.der');
    fs.writeFileSync(tokenFile, token);
    const imprint = createHash('sha256').update(signatureValue).digest('hex');
    const verify = await run('openssl', [
      'ts', '-verify', '-digest', imprint, '-token_in', '-in', tokenFile, '-CAfile', devCaPem, '-untrusted', tsa.certPem,
    ]); // prettier-ignore
    expect(verify.stdout.toString() + verify.stderr).toContain('Verification: OK');

    expect((await qpdfCheck(file)).ok).toBe(true);
    const report = await pdfsig(file, { trustCaPems: [devCaPem] });
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]!.signatureValid).toBe(true);
  });

  it('fails with UNAVAILABLE and signs nothing when no TSA answers', async () => {
    const down = new TsaClient({ endpoints: [{ url: 'http://127.0.0.1:9/tsr' }], timeoutMs: 2000 });
    const before = signs;
    const error = await sealDocument(bufferSource(fs.readFileSync(await fixture('simple'))), org, { page: 1, x: 200, y: 200 }, { timestamper: down }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SealdError);
    expect((error as SealdError).category).toBe('unavailable');
    expect(signs).toBe(before);
  });

  it('gives DEADLINE_EXCEEDED when the TSA turns slow after the size was measured, with no output', async () => {
    const client = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 400 });
    await client.tokenSizeBound();
    tsa.behaviour = { kind: 'slow', delayMs: 1500 };
    try {
      const error = await sealDocument(bufferSource(fs.readFileSync(await fixture('simple'))), org, { page: 1, x: 200, y: 200 }, { timestamper: client }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as SealdError).category).toBe('deadline');
    } finally {
      tsa.behaviour = { kind: 'ok' };
    }
  });

  it('best-effort: a TSA too slow or answering for another imprint leaves the seal B-B in the reserved room, and says why', async () => {
    const client = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 10_000 });
    const input = fs.readFileSync(await fixture('simple'));
    const withToken = await sealDocument(bufferSource(input), org, { page: 1, x: 200, y: 200 }, { timestamper: client, timestampMode: 'best-effort' });
    expect(withToken.timestampTime).toBeInstanceOf(Date);
    expect(withToken.timestampMissing).toBeUndefined();
    const room = withToken.byteRange[2] - withToken.byteRange[1];
    // Per case: the TSA's behaviour, the client's timeout (the TSA runs `openssl ts` per request: slow on a loaded
    // machine, so only the slow case has a short one), and the error code the seal must report.
    const cases: [NonNullable<typeof tsa.behaviour>, number, string][] = [
      [{ kind: 'slow', delayMs: 1500 }, 400, 'TSA_TIMEOUT'],
      [{ kind: 'wrong-imprint' }, 10_000, 'TSA_UNAVAILABLE'],
    ];
    try {
      for (const [behaviour, timeoutMs, code] of cases) {
        const measured = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs });
        measured.noteTokenSize((await client.tokenSizeBound()) - 64); // the same room as the seal above
        tsa.behaviour = behaviour;
        const outcome = await sealDocument(bufferSource(input), org, { page: 1, x: 200, y: 200 }, { timestamper: measured, timestampMode: 'best-effort' });
        expect(outcome.timestampTime).toBeUndefined();
        expect(outcome.timestampMissing?.code).toBe(code);
        expect(Math.abs(outcome.byteRange[2] - outcome.byteRange[1] - room)).toBeLessThanOrEqual(4); // the token's room, as zero padding
        const file = path.join(dataDir, `best-effort-${behaviour.kind}.pdf`);
        fs.writeFileSync(file, Buffer.concat([input, outcome.appended]));
        const [signature] = await extractSignatures(file);
        const signerInfo = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(signature!.cms)).content }).signerInfos[0]!;
        expect(signerInfo.unsignedAttrs).toBeUndefined();
        expect((await pdfsig(file)).signatures[0]!.signatureValid).toBe(true);
      }
    } finally {
      tsa.behaviour = { kind: 'ok' };
    }
  });

  it('best-effort still fails a seal its caller cancelled while the TSA was being asked', async () => {
    const client = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 5000 });
    await client.tokenSizeBound();
    tsa.behaviour = { kind: 'slow', delayMs: 1500 };
    try {
      const error = await sealDocument(bufferSource(fs.readFileSync(await fixture('simple'))), org, { page: 1, x: 200, y: 200 }, {
        timestamper: client,
        timestampMode: 'best-effort',
        signal: AbortSignal.timeout(500),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SealdError);
      expect((error as SealdError).category).toBe('cancelled');
    } finally {
      tsa.behaviour = { kind: 'ok' };
    }
  });
});
