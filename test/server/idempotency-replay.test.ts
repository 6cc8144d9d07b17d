/**
 * The idempotency store's replay facts (src/server/idempotency-replay.ts) on the real engine, the real SoftHSM token
 * and a real TSA (OpenSSL's, over HTTP): a time-stamped seal, recorded, then written again from its facts alone —
 * with the TSA stopped and no signature — comes out byte for byte the same, and pdfsig accepts it; facts that no
 * longer match (another seal image) are caught by the revision digest.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/provision/load-config.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import { pemToDer } from '../../src/crypto/certificate.ts';
import type { Signer } from '../../src/crypto/signer.ts';
import { TsaClient } from '../../src/crypto/tsa-client.ts';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { sealDocument, type SealMaterial } from '../../src/engine/seal.ts';
import {
  decodeReplayFacts,
  encodeReplayFacts,
  isRecordedRevision,
  missingTimestamper,
  replayMaterial,
  replayTimestamper,
  SealRecorder,
} from '../../src/server/idempotency-replay.ts';
import { fixture } from '../fixtures/index.ts';
import { pdfsig } from '../support/tools.ts';
import { startTestTsa, type TestTsa } from '../support/test-tsa.ts';
import { sealFiles } from '../provision/demo-seal-files.ts';

let dataDir: string;
let pool: TokenPool;
let org: SealMaterial;
let tsa: TestTsa;
let devCaPem: string;
let signs = 0;
let sealImage: Buffer;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-replay-'));
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
  sealImage = fs.readFileSync(sealFiles(config, seal).image);
  org = { id: 'org', signer: counting, image: prepareSealImage(sealImage), defaultWidth: 119, defaultHeight: 119 };
  devCaPem = path.join(dataDir, 'ca', 'dev-ca.pem');
  tsa = await startTestTsa({ dir: path.join(dataDir, 'tsa'), ca: { certPem: devCaPem, keyPem: path.join(dataDir, 'ca', 'dev-ca.key.pem') } });
});

afterAll(async () => {
  await tsa?.close();
  await pool?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('replay facts', () => {
  it('regenerate a time-stamped seal byte for byte, with no signature and no TSA, in far less than the revision', async () => {
    const input = fs.readFileSync(await fixture('simple'));
    const placement = { page: 1, x: 300, y: 300 };
    const recorder = new SealRecorder();
    const timestamper = recorder.timestamper(new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 5000 }));
    const original = await sealDocument(bufferSource(input), recorder.material(org), placement, {
      timestamper,
      idEntropy: recorder.idEntropy,
      reason: 'replay test',
    });
    const facts = recorder.facts(original.appended, original.signingTime)!;
    expect(facts.timestamp).toBeDefined();
    const stored = encodeReplayFacts(facts);
    expect(stored.byteLength).toBeLessThan(6 * 1024);
    expect(stored.byteLength).toBeLessThan(original.appended.byteLength / 5);

    await tsa.close(); // a replay must not need the TSA…
    const signsBefore = signs; // …nor the key
    const back = decodeReplayFacts(stored)!;
    const replayed = await sealDocument(bufferSource(input), replayMaterial(org, back), placement, {
      timestamper: replayTimestamper(back.timestamp!),
      signingTime: back.signingTime,
      idEntropy: back.idEntropy,
      reason: 'replay test',
    });
    expect(signs).toBe(signsBefore);
    expect(Buffer.from(replayed.appended).equals(Buffer.from(original.appended))).toBe(true);
    expect(isRecordedRevision(replayed.appended, back)).toBe(true);
    const output = path.join(dataDir, 'replayed.pdf');
    fs.writeFileSync(output, Buffer.concat([input, replayed.appended]));
    const report = await pdfsig(output, { trustCaPems: [devCaPem] });
    expect(report.signatures.at(-1)!.validationText).toBe('Signature is Valid.');

    // Another seal image since: the same facts no longer make the recorded revision, and the digest says so.
    const otherImage = { ...org, image: prepareSealImage(sealImage), defaultWidth: 90, defaultHeight: 90 };
    const other = await sealDocument(bufferSource(input), replayMaterial(otherImage, back), { page: 1, x: 300, y: 300, width: 90, height: 90 }, {
      timestamper: replayTimestamper(back.timestamp!),
      signingTime: back.signingTime,
      idEntropy: back.idEntropy,
      reason: 'replay test',
    });
    expect(isRecordedRevision(other.appended, back)).toBe(false);
  });

  it('regenerate a best-effort seal made without its token (TSA down after its room was reserved) byte for byte', async () => {
    const input = fs.readFileSync(await fixture('simple'));
    const placement = { page: 1, x: 300, y: 300 };
    const recorder = new SealRecorder();
    const client = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 5000 }); // stopped by the test above
    client.noteTokenSize(4000); // as if a token had been measured before the TSA went down: its room is reserved
    const original = await sealDocument(bufferSource(input), recorder.material(org), placement, {
      timestamper: recorder.timestamper(client),
      timestampMode: 'best-effort',
      idEntropy: recorder.idEntropy,
    });
    expect(original.timestampMissing?.code).toBe('TSA_UNAVAILABLE');
    expect(recorder.facts(original.appended, original.signingTime)).toBeUndefined(); // without knowing it was B-B
    const back = decodeReplayFacts(encodeReplayFacts(recorder.facts(original.appended, original.signingTime, true)!))!;
    expect(back.missingTimestamp).toEqual({ sizeBound: 4000 + 64 });
    expect(back.timestamp).toBeUndefined();

    const signsBefore = signs;
    const replayed = await sealDocument(bufferSource(input), replayMaterial(org, back), placement, {
      timestamper: missingTimestamper(back.missingTimestamp!),
      timestampMode: 'best-effort',
      signingTime: back.signingTime,
      idEntropy: back.idEntropy,
    });
    expect(signs).toBe(signsBefore);
    expect(isRecordedRevision(replayed.appended, back)).toBe(true);
    const output = path.join(dataDir, 'replayed-bb.pdf');
    fs.writeFileSync(output, Buffer.concat([input, replayed.appended]));
    expect((await pdfsig(output, { trustCaPems: [devCaPem] })).signatures.at(-1)!.validationText).toBe('Signature is Valid.');
  });

  it('refuse a truncated or unknown record', () => {
    const facts = encodeReplayFacts({
      revisionLength: 10,
      revisionSha256: new Uint8Array(32).fill(1),
      signingTime: new Date(1_700_000_000_000),
      idEntropy: new Uint8Array(24).fill(2),
      signature: new Uint8Array(256).fill(3),
    });
    expect(decodeReplayFacts(facts)).toMatchObject({ revisionLength: 10, signingTime: new Date(1_700_000_000_000) });
    expect(decodeReplayFacts(facts.subarray(0, facts.byteLength - 1))).toBeUndefined();
    expect(decodeReplayFacts(Buffer.concat([Buffer.from([9]), facts.subarray(1)]))).toBeUndefined();
  });
});
