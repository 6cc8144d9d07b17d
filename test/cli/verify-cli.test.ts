/**
 * `seald verify` as a user runs it (a separate process): exit codes, the --json shape, trust anchors from --trust or
 * from the data directory's configuration; and the Verify RPC of a running server (header then chunks, one report).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Verdict, VerifyRequestSchema, VerifyService, type VerifyResponse } from '../../src/gen/seald/v1/verify_pb.ts';
import { startSealdServer } from '../../src/server/bootstrap.ts';
import { grpcClientConstructor } from '../../src/rpc/grpc-service.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { ENCRYPTED_USER_PASSWORD, fixture } from '../fixtures/index.ts';
import { run } from '../support/run.ts';
import { openSealer, type Sealer } from '../engine/verify/sealer.ts';
import { addAnnotation, appendUpdate, stream } from '../engine/verify/attack-kit.ts';
import { PdfString, dict, name } from '../../src/pdf/objects.ts';

const BIN = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));

let sealer: Sealer;
let dir: string;
let good: string;
let bad: string;

beforeAll(async () => {
  sealer = await openSealer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-verify-cli-'));
  const sealed = await sealer.seal(fs.readFileSync(await fixture('simple')), 'org', { page: 1, x: 200, y: 200 }, '甲方');
  good = path.join(dir, 'good.pdf');
  fs.writeFileSync(good, sealed);
  const flipped = Buffer.from(sealed);
  const at = flipped.indexOf('/Creator <') + 14;
  flipped[at] = flipped[at]! ^ 0x01;
  bad = path.join(dir, 'bad.pdf');
  fs.writeFileSync(bad, flipped);
});
afterAll(async () => {
  await sealer?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A later revision adds an opaque white /Square over the fixture's title (a shadow "hide"; visual.test.ts). */
function opaqueOverTitle(bytes: Buffer): Buffer {
  return appendUpdate(bytes, (doc, w) => {
    const ap = w.add(stream('1 1 1 rg 0 0 234 32 re f', { Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 234, 32] }));
    addAnnotation(doc, w, 1, w.add(dict({ Type: name('Annot'), Subtype: name('Square'), Rect: [66, 752, 300, 784], F: 4, AP: dict({ N: ap }) })));
  });
}

function seald(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = { ...process.env, SEALD_TRUST_ANCHORS: '', SEALD_CONFIG: '', SEALD_DATA_DIR: '', ...env };
  return run(process.execPath, [BIN, ...args], { env: clean, cwd: dir });
}

describe('seald verify', () => {
  it('--json: the documented shape, exit 0 for VALID', async () => {
    const result = await seald(['verify', good, '--json', '--trust', sealer.caPem]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout.toString());
    expect(Object.keys(report).sort()).toEqual(['indication', 'lastRevisionCovered', 'reasons', 'reportVersion', 'revisions', 'signatures', 'strict', 'subIndication', 'verdict']);
    expect(report).toMatchObject({ indication: 'TOTAL-PASSED', subIndication: null, strict: false });
    expect(report).toMatchObject({ verdict: 'VALID', revisions: 2, lastRevisionCovered: true });
    expect(Object.keys(report.signatures[0]).sort()).toEqual([
      'algorithmFamily', 'byteRange', 'changes', 'changesAfter', 'claimedSigningTime', 'coversWholeDocument', 'digestAlgorithm', 'field',
      'indication', 'integrity', 'level', 'placement', 'reasons', 'revision', 'sealKind', 'signatureAlgorithm', 'signatureTimestamp', 'signer', 'subFilter',
      'subIndication', 'timestampTime', 'trust', 'verdict', 'visualCheck', 'weakAlgorithm',
    ]);
    expect(report.signatures[0]).toMatchObject({
      field: '甲方', revision: 2, integrity: 'INTACT', trust: 'TRUSTED', changesAfter: 'NONE', coversWholeDocument: true,
      subFilter: 'ETSI.CAdES.detached', digestAlgorithm: 'SHA-256', timestampTime: null, signatureTimestamp: 'NONE', level: 'B-B',
      signer: { organisation: '示例商贸有限公司', issuer: 'CN=seald Development CA,O=seald demo,C=CN' },
    });
  });

  it('--password-file opens an encrypted document; without it the report says a password is needed', async () => {
    const encrypted = await fixture('encrypted');
    const without = JSON.parse((await seald(['verify', encrypted, '--json'])).stdout.toString());
    expect(without.verdict).toBe('INDETERMINATE');
    expect(without.reasons.join(' ')).toMatch(/password/);
    const passwordFile = path.join(dir, 'password.txt');
    fs.writeFileSync(passwordFile, `${ENCRYPTED_USER_PASSWORD}\n`, { mode: 0o600 });
    const result = await seald(['verify', encrypted, '--json', '--password-file', passwordFile]);
    const withPassword = JSON.parse(result.stdout.toString());
    expect(withPassword.revisions).toBe(1);
    expect(withPassword.reasons.join(' ')).not.toMatch(/password/);
    expect(result.stdout.toString() + result.stderr.toString()).not.toContain(ENCRYPTED_USER_PASSWORD);
  });

  it('exit 1 for INVALID, with a readable table naming the signature', async () => {
    const result = await seald(['verify', bad, '--trust', sealer.caPem]);
    expect(result.code).toBe(1);
    const text = result.stdout.toString();
    expect(text).toContain(`${bad}: INVALID`);
    expect(text).toMatch(/signature\s+甲方/);
    expect(text).toMatch(/integrity\s+DIGEST_MISMATCH/);
    expect(text).toContain('(ETSI EN 319 102-1: TOTAL-FAILED / HASH_FAILURE)');
  });

  it('--strict: a comment after the seal is not allowed (exit 1); without it, allowed (exit 0)', async () => {
    const commented = path.join(dir, 'commented.pdf');
    fs.writeFileSync(commented, appendUpdate(fs.readFileSync(good), (doc, w) =>
      addAnnotation(doc, w, 1, w.add(dict({ Type: name('Annot'), Subtype: name('Text'), Rect: [450, 700, 470, 720], Contents: PdfString.text('ok') })))));
    const lenient = await seald(['verify', commented, '--json', '--trust', sealer.caPem]);
    expect(lenient.code).toBe(0);
    const strict = await seald(['verify', commented, '--json', '--strict', '--trust', sealer.caPem]);
    expect(strict.code).toBe(1);
    const report = JSON.parse(strict.stdout.toString());
    expect(report).toMatchObject({ strict: true, verdict: 'INVALID', indication: 'TOTAL-FAILED', subIndication: 'FORMAT_FAILURE' });
    expect(report.signatures[0].changes[0].description).toMatch(/strict mode: no annotation change after a signature/);
    const fromEnv = await seald(['verify', commented, '--json', '--trust', sealer.caPem], { SEALD_VERIFY_STRICT: 'true' });
    expect(fromEnv.code).toBe(1);
  });

  it('the visual check: an opaque box over the signed title is INVALID (exit 1); --no-visual-check skips it (exit 0)', async () => {
    const covered = path.join(dir, 'covered.pdf');
    fs.writeFileSync(covered, opaqueOverTitle(fs.readFileSync(good)));
    const checked = await seald(['verify', covered, '--json', '--trust', sealer.caPem]);
    expect(checked.code).toBe(1);
    expect(JSON.parse(checked.stdout.toString()).signatures[0].visualCheck).toMatchObject({ result: 'DIFFERENT', pages: [1] });
    const table = await seald(['verify', covered, '--trust', sealer.caPem]);
    expect(table.stdout.toString()).toMatch(/visual check.*DIFFERENT: page 1: signed content in \[/);
    const skipped = await seald(['verify', covered, '--json', '--no-visual-check', '--trust', sealer.caPem]);
    expect(skipped.code).toBe(0);
    expect(JSON.parse(skipped.stdout.toString()).signatures[0].visualCheck).toMatchObject({ result: 'SKIPPED', reason: 'the visual check is switched off' });
    const fromEnv = await seald(['verify', covered, '--json', '--trust', sealer.caPem], { SEALD_VERIFY_VISUAL_CHECK: 'false' });
    expect(fromEnv.code).toBe(0);
  });

  it('takes the trust anchors from the data directory’s configuration; without any, the signer is UNTRUSTED (exit 1)', async () => {
    const withConfig = await seald(['verify', good, '--json', '--data-dir', sealer.dataDir]);
    expect(withConfig.code).toBe(0);
    const none = await seald(['verify', good, '--json', '--data-dir', path.join(dir, 'nowhere')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no trust anchors/);
    expect(JSON.parse(none.stdout.toString()).signatures[0].trust).toBe('UNTRUSTED');
  });

  it('exit 2 for a command line that cannot run', async () => {
    const result = await seald(['verify', path.join(dir, 'missing.pdf')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no such file/);
  });
});

describe('the Verify RPC', () => {
  let server: SealdServer;
  beforeAll(async () => {
    server = await startSealdServer(sealer.config, pino({ level: 'silent' }), {});
  });
  afterAll(async () => {
    await server?.shutdown('tests over');
  });

  function verifyRemote(chunks: Uint8Array[], header: boolean | { visualCheck?: boolean } = true): Promise<VerifyResponse> {
    const Client = grpcClientConstructor(VerifyService);
    const client = new Client(server.address, grpc.credentials.createInsecure());
    return new Promise<VerifyResponse>((resolve, reject) => {
      const call = client.verify(new grpc.Metadata(), {}, (error, value) => {
        client.close();
        if (error !== null || value === undefined) reject(error);
        else resolve(value);
      });
      if (header !== false) call.write(create(VerifyRequestSchema, { payload: { case: 'header', value: header === true ? {} : header } }));
      for (const chunk of chunks) call.write(create(VerifyRequestSchema, { payload: { case: 'chunk', value: chunk } }));
      call.end();
    });
  }

  it('answers with the report, in chunks, with the server’s trust anchors', async () => {
    const bytes = fs.readFileSync(good);
    const third = Math.ceil(bytes.length / 3);
    const response = await verifyRemote([bytes.subarray(0, third), bytes.subarray(third, 2 * third), bytes.subarray(2 * third)]);
    expect(response.verdict).toBe(Verdict.VALID);
    expect(response.signatures.map((s) => [s.field, s.integrity, s.trust, s.changesAfter])).toEqual([['甲方', 'INTACT', 'TRUSTED', 'NONE']]);
    expect(JSON.parse(response.reportJson).verdict).toBe('VALID');
    expect([response.indication, response.subIndication, response.strict]).toEqual(['TOTAL-PASSED', '', false]);
    expect(response.signatures[0]!.indication).toBe('TOTAL-PASSED');
    expect(response.signatures[0]!.algorithmFamily).toBe('INTERNATIONAL'); // RSA with SHA-256: not 国密
    const forged = await verifyRemote([fs.readFileSync(bad)]);
    expect(forged.verdict).toBe(Verdict.INVALID);
    expect([forged.signatures[0]!.indication, forged.signatures[0]!.subIndication]).toEqual(['TOTAL-FAILED', 'HASH_FAILURE']);
  });

  it('the visual check: on by default (visual_check DIFFERENT, INVALID); VerifyHeader.visual_check false skips it', async () => {
    const covered = opaqueOverTitle(fs.readFileSync(good));
    const checked = await verifyRemote([covered]);
    expect(checked.verdict).toBe(Verdict.INVALID);
    expect(checked.signatures[0]!.visualCheck).toBe('DIFFERENT');
    expect(checked.signatures[0]!.visualCheckReason).toMatch(/^page 1: signed content in \[/);
    const skipped = await verifyRemote([covered], { visualCheck: false });
    expect(skipped.verdict).toBe(Verdict.VALID);
    expect([skipped.signatures[0]!.visualCheck, skipped.signatures[0]!.visualCheckReason]).toEqual(['SKIPPED', 'the visual check is switched off']);
    const clean = await verifyRemote([fs.readFileSync(good)]);
    expect(clean.signatures[0]!.visualCheck).toBe('NOT_NEEDED');
  });

  it('refuses a call without a header, and the CLI can ask the server', async () => {
    const error = await verifyRemote([fs.readFileSync(good)], false).catch((e: unknown) => e as grpc.ServiceError);
    expect((error as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    const result = await seald(['verify', bad, '--json', '--server', server.address]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout.toString()).signatures[0].integrity).toBe('DIGEST_MISMATCH');
    const strict = await seald(['verify', good, '--json', '--strict', '--server', server.address]);
    expect(strict.code).toBe(0);
    expect(JSON.parse(strict.stdout.toString()).strict).toBe(true);
  });
});
