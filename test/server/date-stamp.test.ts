/**
 * The date stamp (时间章) through a real server: embedded defaults with `time_zone: Asia/Shanghai`, the SoftHSM token,
 * Seal over gRPC. The output is judged by pdfsig and qpdf, and poppler's render of the page is compared pixel for
 * pixel with the same seal made in-process by the engine at the instant the server's /M names: the digits under the
 * seal are the date of /M, in the configured zone.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { status as Status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, sealdErrorCode, sealRemote, type SealClient } from '../../src/cli/client.ts';
import { loadConfig } from '../../src/config/config.ts';
import { sealDocument } from '../../src/engine/seal.ts';
import { parsePdfDate } from '../../src/engine/verify/integrity.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { ensureEmbeddedDefaults } from '../../src/provision/embedded.ts';
import { startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { pemToDer } from '../../src/crypto/certificate.ts';
import type { SealMaterial } from '../../src/engine/seal.ts';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { TokenPool } from '../../src/pool/pool.ts';
import { fixture } from '../fixtures/index.ts';
import { pdfsig, qpdfCheck, redPixels, renderPage } from '../support/tools.ts';
import { sealFiles } from '../provision/demo-seal-files.ts';

let root: string;
let server: SealdServer;
let client: SealClient;
let caPem: string;
let pool: TokenPool;
let orgSeal: SealMaterial;
let input: Buffer;

// Explicit mark size, so the server's seal (size_mm 42) and the engine's reference draw the same box.
const MARK = { page: 1, x: 300, y: 300, width: 120, height: 150 };
const BAND = 150 * 0.2; // appearance.ts DATE_STAMP_BAND: the date's band at the bottom of the mark

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-date-stamp-'));
  const dataDir = path.join(root, 'data');
  const logger = pino({ level: 'warn' });
  const { configPath } = await ensureEmbeddedDefaults(dataDir, logger);
  const text = fs.readFileSync(configPath, 'utf8');
  expect(text).not.toMatch(/^time_zone:/m);
  const zoned = path.join(dataDir, 'zoned.yaml');
  fs.writeFileSync(zoned, `${text}\ntime_zone: Asia/Shanghai\n`);
  const config = await loadConfig({ flags: { config: zoned, listen: '127.0.0.1:0', metrics: 'off' }, env: {} });
  server = await startSealdServer(config, logger, {});
  client = connect(server.address);
  caPem = config.trust.anchors[0]!;
  // The reference seals sign on the server's own token (one SoftHSM configuration per process) with its org key.
  pool = await TokenPool.open(config.pkcs11, logger);
  const sealConfig = config.seals.find((s) => s.id === 'org')!;
  const files = sealFiles(config, sealConfig);
  const chain = pemToDer(fs.readFileSync(files.certificates, 'utf8'));
  orgSeal = { id: 'org', signer: pool.signer('org', chain), image: prepareSealImage(fs.readFileSync(files.image)), defaultWidth: 119, defaultHeight: 119 };
  input = fs.readFileSync(await fixture('cjk-contract'));
}, 120_000);

afterAll(async () => {
  client?.close();
  await server?.shutdown('tests over');
  await pool?.close();
  if (!process.env.KEEP) fs.rmSync(root, { recursive: true, force: true });
});

async function sealOverGrpc(name: string, options: { timeZone?: string; format?: string } = {}): Promise<{ file: string; bytes: Buffer }> {
  const chunks: Uint8Array[] = [];
  await sealRemote(
    client,
    create(SealHeaderSchema, {
      sealId: 'org',
      documentSize: BigInt(input.byteLength),
      placement: { kind: { case: 'position', value: MARK } },
      options: { dateStamp: { enabled: true, format: options.format ?? '' }, timeZone: options.timeZone ?? '' },
    }),
    (async function* () {
      yield input;
    })(),
    async (chunk) => void chunks.push(chunk),
  );
  const bytes = Buffer.concat(chunks);
  const file = path.join(root, `${name}.pdf`);
  fs.writeFileSync(file, bytes);
  return { file, bytes };
}

/** The signature dictionary's /M of the last revision. */
function signingTimeOf(bytes: Buffer): string {
  const m = /\/M \((D:\d{14}[+-]\d{2}'\d{2}')\)/.exec(bytes.subarray(input.length).toString('latin1'));
  if (m === null) throw new Error('no /M in the new revision');
  return m[1]!;
}

/** The same seal made by the engine in this process (the same token, key and image) at the instant `m` names. */
async function reference(name: string, m: string, timeZone: string, format?: string): Promise<{ file: string; m: string }> {
  const out = await sealDocument(bufferSource(input), orgSeal, { kind: 'position', ...MARK }, {
    signingTime: parsePdfDate(m)!,
    timeZone,
    dateStamp: { enabled: true, ...(format === undefined ? {} : { format }) },
  });
  const file = path.join(root, `${name}.pdf`);
  fs.writeFileSync(file, Buffer.concat([input, out.appended]));
  return { file, m: signingTimeOf(Buffer.concat([input, out.appended])) };
}

const band = { x: MARK.x - MARK.width / 2, y: MARK.y - MARK.height / 2, w: MARK.width, h: BAND };

describe('Seal over gRPC with a date stamp', () => {
  it('writes /M in the configured zone (+08:00) and draws that date under the seal; pdfsig valid, qpdf clean', async () => {
    const sealed = await sealOverGrpc('server-zone');
    expect(sealed.bytes.subarray(0, input.length).equals(input)).toBe(true);
    const m = signingTimeOf(sealed.bytes);
    expect(m).toMatch(/\+08'00'$/);
    expect(Math.abs(parsePdfDate(m)!.getTime() - Date.now())).toBeLessThan(120_000);
    expect((await qpdfCheck(sealed.file)).status).toBe('ok');
    const report = await pdfsig(sealed.file, { trustCaPems: [caPem] });
    expect(report.signatures.map((s) => s.signatureValid)).toEqual([true]);

    const page = await renderPage(sealed.file, 1, 150);
    expect(redPixels(page, band).inside).toBeGreaterThan(200); // the digits, in seal red, in the band
    // Below the mark: nothing.
    expect(redPixels(page, { ...band, y: band.y - 25, h: 24 }).inside).toBe(0);
    // The engine drawing the date of that /M in Asia/Shanghai gives the very same page.
    const shanghai = await reference('reference-shanghai', m, 'Asia/Shanghai');
    expect(shanghai.m).toBe(m);
    expect(page.rgb.equals((await renderPage(shanghai.file, 1, 150)).rgb)).toBe(true);
  }, 60_000);

  it("takes the request's time_zone over the configured one, with its format", async () => {
    const format = 'YYYY-MM-DD HH:mm';
    const sealed = await sealOverGrpc('request-zone', { timeZone: '-11:00', format });
    const m = signingTimeOf(sealed.bytes);
    expect(m).toMatch(/-11'00'$/);
    const report = await pdfsig(sealed.file, { trustCaPems: [caPem] });
    expect(report.signatures.map((s) => s.signatureValid)).toEqual([true]);
    const page = await renderPage(sealed.file, 1, 150);
    const same = await reference('reference-minus-11', m, '-11:00', format);
    expect(same.m).toBe(m);
    expect(page.rgb.equals((await renderPage(same.file, 1, 150)).rgb)).toBe(true);
    // 19 hours apart from Beijing: the same instant drawn in Asia/Shanghai (the server's zone) shows other digits.
    const beijing = await reference('reference-plus-8', m, 'Asia/Shanghai', format);
    expect(beijing.m).toMatch(/\+08'00'$/);
    expect(page.rgb.equals((await renderPage(beijing.file, 1, 150)).rgb)).toBe(false);
  }, 60_000);

  it('refuses an unknown zone as INVALID_ARGUMENT BAD_TIME_ZONE, before the upload', async () => {
    const refused = await sealOverGrpc('never', { timeZone: 'Asia/Atlantis' }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: Status.INVALID_ARGUMENT });
    expect(sealdErrorCode(refused)).toBe('BAD_TIME_ZONE');
  });
});
