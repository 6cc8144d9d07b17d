/**
 * Every fixture sealed three times through the gRPC API (organisation, then personal, then organisation again, as a
 * supplier and a purchaser would), on the real SoftHSM token of the embedded defaults. After each seal, independent
 * tools judge the result: pdfsig (every signature valid, the last one covering the whole file), qpdf --check, and
 * openssl cms -verify of each seald CMS over its byte ranges against the dev CA. The input is always an exact prefix.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { status as Status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, sealdErrorCode, sealRemote, UPLOAD_CHUNK_BYTES, type SealClient } from '../../src/cli/client.ts';
import { SealHeaderSchema, type SealHeader } from '../../src/gen/seald/v1/seald_pb.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdConfig } from '../../src/config/config.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { noStartxref } from '../pdf/damaged-fixtures.ts';
import { ENCRYPTED_USER_PASSWORD, fixture, FIXTURE_FACTS, type FixtureName } from '../fixtures/index.ts';
import { extractSignatures, isPrefix, opensslCmsVerify, pdfsig, qpdfCheck, redPixels, renderPage } from '../support/tools.ts';

let dataDir: string;
let outDir: string;
let config: SealdConfig;
let server: SealdServer;
let client: SealClient;
let caPem: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-matrix-data-'));
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-matrix-out-'));
  const logger = pino({ level: 'warn' });
  config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  server = await startSealdServer(config, logger, {});
  client = connect(server.address);
  caPem = config.trust.anchors[0]!;
});

afterAll(async () => {
  client?.close();
  await server?.shutdown('tests over');
  if (!process.env.KEEP) fs.rmSync(outDir, { recursive: true, force: true });
  if (!process.env.KEEP) fs.rmSync(dataDir, { recursive: true, force: true });
});

function header(sealId: string, page: number, x: number, y: number): SealHeader {
  return create(SealHeaderSchema, {
    sealId,
    placement: { kind: { case: 'position', value: { page, x, y } } },
    options: { reason: '同意签署', location: '上海' },
  });
}

async function seal(input: Uint8Array, head: SealHeader) {
  const parts: Uint8Array[] = [];
  const summary = await sealRemote(
    client,
    head,
    (async function* () {
      for (let o = 0; o < input.length; o += UPLOAD_CHUNK_BYTES) yield input.subarray(o, o + UPLOAD_CHUNK_BYTES);
    })(),
    async (chunk) => void parts.push(chunk),
  );
  return { summary, output: Buffer.concat(parts) };
}

async function sealError(input: Uint8Array, head: SealHeader): Promise<{ code: number; message: string; seald?: string }> {
  try {
    await seal(input, head);
  } catch (e) {
    const err = e as { code: number; details: string };
    return { code: err.code, message: err.details, seald: sealdErrorCode(e) };
  }
  throw new Error('the call succeeded');
}

const MATRIX: FixtureName[] = [
  'simple', 'cjk-contract', 'xref-stream', 'linearized', 'hybrid', 'acroform', 'signed-by-other', 'pages-300', 'rotated',
];

describe('three seals on every fixture, judged by pdfsig, qpdf and openssl', () => {
  for (const name of MATRIX) {
    it(name, async () => {
      const original = fs.readFileSync(await fixture(name));
      const before = FIXTURE_FACTS[name].signatures ?? 0;
      const pages = FIXTURE_FACTS[name].pages ?? 1;
      const steps: [string, number][] = [['org', 1], ['personal', pages], ['org', Math.min(2, pages)]];
      let current: Buffer = original;
      for (const [i, [sealId, page]] of steps.entries()) {
        const { summary, output } = await seal(current, header(sealId, page, 150 + 100 * i, 200));
        expect(await isPrefix(current, output)).toBe(true);
        expect(Number(summary.documentSize)).toBe(output.length);
        expect(summary.pages).toEqual([page]);
        const file = path.join(outDir, `${name}-${i + 1}.pdf`);
        fs.writeFileSync(file, output);

        const check = await qpdfCheck(file);
        expect(check.status, check.output).toBe('ok');

        const report = await pdfsig(file, { trustCaPems: [caPem] });
        expect(report.signatures).toHaveLength(before + i + 1);
        for (const s of report.signatures) expect(s.signatureValid, s.raw).toBe(true);
        const last = report.signatures.at(-1)!;
        expect(last.coversWholeDocument).toBe(true);
        expect(last.subFilter).toBe('ETSI.CAdES.detached');
        // pdfsig (poppler 22.12 / NSS) answers "Unknown issue with Certificate" for a certificate it already
        // validated earlier in the same run, so its trust verdict is read for each signer's first signature only;
        // openssl below checks every signature's chain to the dev CA.
        const firstOfSigner = new Map<string, (typeof report.signatures)[number]>();
        for (const s of report.signatures) if (s.signerDn && !firstOfSigner.has(s.signerDn)) firstOfSigner.set(s.signerDn, s);
        for (const s of firstOfSigner.values()) {
          if (s.subFilter === 'ETSI.CAdES.detached') expect(s.certificateTrusted, s.raw).toBe(true);
        }
        expect(last.fieldName).toBe(summary.fieldName);

        const extracted = await extractSignatures(output);
        const ours = extracted.filter((s) => s.subFilter === 'ETSI.CAdES.detached');
        expect(ours).toHaveLength(i + 1);
        for (const s of ours) {
          const v = await opensslCmsVerify(s.cms, s.signedBytes, caPem);
          expect(v.ok, v.output).toBe(true);
        }
        expect(ours.at(-1)!.byteRange.map(Number)).toEqual(summary.byteRange.map(Number));
        current = output;
      }
    });
  }
});

describe('the seal is visible where asked, and nowhere else', () => {
  for (const [name, page] of [['simple', 1], ['rotated', 1], ['rotated', 2]] as const) {
    it(`${name} page ${page}`, async () => {
      const original = fs.readFileSync(await fixture(name));
      // Centre of the mark, in points from the lower-left corner of the page as displayed.
      const { output } = await seal(original, header('org', page, 200, 300));
      const file = path.join(outDir, `visible-${name}-${page}.pdf`);
      fs.writeFileSync(file, output);
      const dpi = 50;
      const img = await renderPage(file, page, dpi);
      const size = (42 * 72) / 25.4; // the org seal's configured 42 mm
      const red = redPixels(img, { x: 200 - size / 2 - 2, y: 300 - size / 2 - 2, w: size + 4, h: size + 4 }, dpi);
      expect(red.inside).toBeGreaterThan(200);
      expect(red.outside).toBe(0);
      // And the unsealed page shows no seal red at all (the check can tell).
      const before = await renderPage(await fixture(name), page, dpi);
      expect(redPixels(before).total).toBe(0);
    });
  }
});

describe('documents that cannot be sealed get the right status and a message to act on', () => {
  const cases: [FixtureName, number, string, RegExp][] = [
    ['encrypted', Status.FAILED_PRECONDITION, 'PDF_PASSWORD_REQUIRED', /password/],
    ['certified-p1', Status.FAILED_PRECONDITION, 'DOCUMENT_CERTIFIED_NO_CHANGES', /DocMDP P=1/],
    ['truncated', Status.INVALID_ARGUMENT, 'PDF_TRUNCATED', /truncated/],
  ];
  for (const [name, code, sealdCode, message] of cases) {
    it(name, async () => {
      const err = await sealError(fs.readFileSync(await fixture(name)), header('org', 1, 100, 100));
      expect(err.code).toBe(code);
      expect(err.seald).toBe(sealdCode);
      expect(err.message).toMatch(message);
    });
  }

  it('an encrypted document with a wrong password: PDF_PASSWORD_REQUIRED, and the password is nowhere in the answer', async () => {
    const wrong = 'not-the-password-3141';
    const err = await sealError(fs.readFileSync(await fixture('encrypted')), create(SealHeaderSchema, { ...header('org', 1, 100, 100), documentPassword: wrong }));
    expect([err.code, err.seald]).toEqual([Status.FAILED_PRECONDITION, 'PDF_PASSWORD_REQUIRED']);
    expect(err.message).not.toContain(wrong);
  });

  it('page out of range names the page count', async () => {
    const err = await sealError(fs.readFileSync(await fixture('cjk-contract')), header('org', 9, 100, 100));
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(err.seald).toBe('PAGE_OUT_OF_RANGE');
    expect(err.message).toMatch(/page 9 is out of range: the document has 3 pages/);
  });

  it('a position off the page is refused rather than placed where nobody sees it', async () => {
    const err = await sealError(fs.readFileSync(await fixture('simple')), header('org', 1, 5000, 100));
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(err.message).toMatch(/outside page 1/);
  });

  it('the server still seals after all of the above', async () => {
    const { output } = await seal(fs.readFileSync(await fixture('simple')), header('org', 1, 100, 100));
    const file = path.join(outDir, 'after-errors.pdf');
    fs.writeFileSync(file, output);
    expect((await pdfsig(file)).signatures[0]!.signatureValid).toBe(true);
  });
});

describe('encrypted documents (ISO 32000-1 §7.6.3): sealed with the document key, earlier bytes untouched', () => {
  it('one that opens with the empty user password is sealed without a password; pdfsig verifies it', async () => {
    const original = fs.readFileSync(await fixture('encrypted-empty-user'));
    const { output } = await seal(original, header('org', 1, 150, 150));
    expect(Buffer.from(output.subarray(0, original.length)).equals(original)).toBe(true);
    const file = path.join(outDir, 'encrypted-empty-user.pdf');
    fs.writeFileSync(file, output);
    const sig = (await pdfsig(file)).signatures[0]!;
    expect(sig.signatureValid).toBe(true);
  });

  it('one with a user password is sealed when the request carries it; pdfsig -upw verifies it', async () => {
    const original = fs.readFileSync(await fixture('encrypted'));
    const { output } = await seal(original, create(SealHeaderSchema, { ...header('org', 1, 150, 150), documentPassword: ENCRYPTED_USER_PASSWORD }));
    expect(Buffer.from(output.subarray(0, original.length)).equals(original)).toBe(true);
    const file = path.join(outDir, 'encrypted-user.pdf');
    fs.writeFileSync(file, output);
    const sig = (await pdfsig(file, { userPassword: ENCRYPTED_USER_PASSWORD })).signatures[0]!;
    expect(sig.signatureValid).toBe(true);
  });
});

describe('damaged documents: repaired on a separate path, sealed, and the answer says so', () => {
  it('a file whose startxref is gone: summary.repaired names the damage, the output is valid for qpdf and pdfsig', async () => {
    const original = noStartxref(fs.readFileSync(await fixture('simple')));
    const { summary, output } = await seal(original, header('org', 1, 150, 150));
    expect(summary.repaired).toMatch(/startxref|cross-reference|damaged/i);
    expect(Buffer.from(output.subarray(0, original.length)).equals(original)).toBe(true);
    const file = path.join(outDir, 'repaired-no-startxref.pdf');
    fs.writeFileSync(file, output);
    const check = await qpdfCheck(file);
    expect(check.status, check.output).toBe('ok');
    expect((await pdfsig(file)).signatures.at(-1)!.signatureValid).toBe(true);
  });

  it('a sound file says nothing of repairs', async () => {
    const { summary } = await seal(fs.readFileSync(await fixture('simple')), header('org', 1, 150, 150));
    expect(summary.repaired).toBe('');
  });
});
