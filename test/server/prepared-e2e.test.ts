/**
 * Local preparation for real (issue 21 item 3): embedded defaults (SoftHSM token, dev CA, three seals), the real
 * engine and pool behind PreparedService, `seald batch --prepare-locally` run as a user runs it (a separate process),
 * outputs checked by pdfsig and qpdf, signatures counted on the server's own metric (one observation per PKCS#11
 * sign), audit records read from the server's audit files.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { status as Status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, defaultPolicy } from '../../src/auth/policy.ts';
import { ANONYMOUS } from '../../src/auth/principal.ts';
import type { BatchResult } from '../../src/cli/batch-client.ts';
import { connectPrepared, sealPrepared, type PreparationFacts, type PreparedClient } from '../../src/cli/prepare-client.ts';
import type { SealdConfig } from '../../src/config/config.ts';
import { SignPreparedRequestSchema, type SignPreparedResponse } from '../../src/gen/seald/v1/prepared_pb.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { fixture, type FixtureName } from '../fixtures/index.ts';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { id_aa_signatureTimeStampToken } from '../../src/crypto/oids.ts';
import { createTestPki } from '../support/pki.ts';
import { run } from '../support/run.ts';
import { startTestTsa } from '../support/test-tsa.ts';
import { extractSignatures, isPrefix, pdfsig, qpdfCheck } from '../support/tools.ts';

const BIN = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));
const DOCUMENTS: FixtureName[] = ['simple', 'cjk-contract', 'xref-stream', 'linearized', 'hybrid'];
const placement = { kind: { case: 'position' as const, value: { page: 1, x: 200, y: 300 } } };

let dir: string;
let dataDir: string;
let inDir: string;
let policyFile: string;
let config: SealdConfig;
let server: SealdServer;
let client: PreparedClient;

const ORDINARY_GRANT = `principals:
  - name: pipeline
    match: { anonymous: true }
    grants:
      - seals: ["*"]
        operations: ["*"]
`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-prepared-e2e-'));
  dataDir = path.join(dir, 'data');
  inDir = path.join(dir, 'in');
  fs.mkdirSync(inDir);
  for (const name of DOCUMENTS) fs.copyFileSync(await fixture(name), path.join(inDir, `${name}.pdf`));
  // Everything `*` grants — which is not sign-digest: that is granted by name or not at all.
  policyFile = path.join(dir, 'policy.yaml');
  fs.writeFileSync(policyFile, ORDINARY_GRANT);
  const logger = pino({ level: 'warn' });
  config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: '127.0.0.1:0' }, logger, { SEALD_POLICY: policyFile });
  server = await startSealdServer(config, logger, { healthIntervalMs: 200 });
  client = connectPrepared(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.shutdown('tests over');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** PKCS#11 signatures the server has made so far, from the token sign histogram's _count. */
async function signCount(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^seald_token_sign_duration_seconds_count\{[^}]*\} (\d+)$/gm)) total += Number(match[1]);
  return total;
}

function auditRecords(): Record<string, unknown>[] {
  const auditDir = config.audit.dir;
  return fs
    .readdirSync(auditDir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .flatMap((name) => fs.readFileSync(path.join(auditDir, name), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function seald(args: string[]) {
  return run(process.execPath, [BIN, ...args], { env: { ...process.env, SEALD_SERVER: '' } });
}

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Seal files through the library client, collecting each document's bytes. */
async function sealFiles(
  sealId: string,
  files: { id: string; file: string; pin?: string }[],
  journal?: Map<string, PreparationFacts>,
): Promise<Map<string, { result: BatchResult; bytes: Buffer }>> {
  const chunks = new Map<string, Buffer[]>();
  const results = new Map<string, { result: BatchResult; bytes: Buffer }>();
  await sealPrepared(
    client,
    { sealId, placement, options: { reason: 'prepared e2e' } },
    files.map(({ id, file, pin }) => ({ id, file, ...(pin === undefined ? {} : { activationPin: Buffer.from(pin) }) })),
    {
      onChunk: (id, chunk) => void chunks.set(id, [...(chunks.get(id) ?? []), Buffer.from(chunk)]),
      onResult: (result) => void results.set(result.id, { result, bytes: Buffer.concat(chunks.get(result.id) ?? []) }),
      ...(journal === undefined
        ? {}
        : {
            // A journal that forgets nothing: as if the process died after every signature, before writing.
            journal: {
              get: async (id) => journal.get(id),
              put: async (id, facts) => void journal.set(id, facts),
              remove: async () => undefined,
            },
          }),
    },
  );
  return results;
}

async function expectValid(input: string, output: string): Promise<void> {
  expect(await isPrefix(input, output)).toBe(true);
  const report = await pdfsig(output, { trustCaPems: config.trust.anchors });
  const last = report.signatures.at(-1)!;
  expect([output, last.validationText]).toEqual([output, 'Signature is Valid.']);
  expect(last.coversWholeDocument).toBe(true);
  expect((await qpdfCheck(output)).status).not.toBe('errors');
}

/** The new revision with what differs between any two seals of one document blanked: /M, /ID, /Contents. */
function revisionShape(sealed: Buffer, inputSize: number): string {
  return sealed
    .subarray(inputSize)
    .toString('latin1')
    .replace(/\/M ?\(D:[^)]*\)/g, '/M (…)')
    .replace(/\/ID ?\[ ?<[0-9A-Fa-f]+> ?<[0-9A-Fa-f]+> ?\]/g, '/ID […]')
    .replace(/\/Contents ?<[0-9A-Fa-f]+>/g, (m) => `/Contents <${m.length}>`);
}

describe('seald batch --prepare-locally (SoftHSM, real engine, real server)', () => {
  it('is refused by default: the built-in policy and `operations: "*"` never grant sign-digest (PERMISSION_DENIED, audited)', async () => {
    expect(authorize(defaultPolicy(), ANONYMOUS, 'sign-digest', 'org')?.permission).toBe('sign-digest on seal "org"');
    const signsBefore = await signCount();
    const outDir = path.join(dir, 'refused');
    const result = await seald(['batch', inDir, '-o', outDir, '--seal', 'org', '--page', '1', '--x', '200', '--y', '300', '--server', server.address, '--prepare-locally', '--retries', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr.toString()).toMatch(/PERMISSION_DENIED[\s\S]*sign-digest on seal "org"/);
    expect(fs.readdirSync(outDir).filter((name) => name.endsWith('.pdf'))).toEqual([]);
    expect(await signCount()).toBe(signsBefore);
    const refusal = auditRecords().filter((r) => r.operation === 'sign-digest');
    expect(refusal.map((r) => [r.result, r.sealId])).toEqual([['PERMISSION_DENIED', 'org']]);

    // Granted by name: the file is reloaded on change.
    fs.writeFileSync(policyFile, `${ORDINARY_GRANT}      - seals: [org, legal-rep]\n        operations: [sign-digest]\n`);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = await sealFiles('org', []).then(() => 'ok', (error: { code?: number }) => error.code);
      if (probe === 'ok') break;
      expect(probe).toBe(Status.PERMISSION_DENIED);
      if (Date.now() > deadline) throw new Error('the policy was not reloaded');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('seals a directory of generated documents: valid per pdfsig and qpdf, one sign each, a re-run skips them all', async () => {
    const outDir = path.join(dir, 'local');
    const signsBefore = await signCount();
    const args = ['batch', inDir, '-o', outDir, '--seal', 'org', '--page', '1', '--x', '200', '--y', '300', '--server', server.address, '--prepare-locally'];
    const result = await seald(args);
    expect([result.code, result.stderr.toString()]).toEqual([0, expect.stringContaining(`[5/5] sealed`)]);
    expect(result.stderr.toString()).not.toMatch(/failed|error/i);
    expect(await signCount()).toBe(signsBefore + DOCUMENTS.length);
    for (const name of DOCUMENTS) await expectValid(path.join(inDir, `${name}.pdf`), path.join(outDir, `${name}.pdf`));
    const report = JSON.parse(fs.readFileSync(path.join(outDir, 'seald-batch-report.json'), 'utf8'));
    expect(report.totals).toMatchObject({ documents: DOCUMENTS.length, sealed: DOCUMENTS.length, failed: 0 });
    expect(fs.existsSync(path.join(outDir, '.seald-prepared'))).toBe(false); // every journal entry settled

    const again = await seald(args);
    expect(again.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(outDir, 'seald-batch-report.json'), 'utf8')).totals).toMatchObject({ skipped: DOCUMENTS.length, sealed: 0 });
    expect(await signCount()).toBe(signsBefore + DOCUMENTS.length);
  });

  it('writes the revision a server-side seal writes: same size, same /ByteRange, same objects but for /M, /ID and the CMS', async () => {
    const local = path.join(dir, 'local');
    const remote = path.join(dir, 'remote');
    const result = await seald(['batch', inDir, '-o', remote, '--seal', 'org', '--page', '1', '--x', '200', '--y', '300', '--server', server.address]);
    expect(result.code).toBe(0);
    for (const name of DOCUMENTS) {
      const inputSize = fs.statSync(path.join(inDir, `${name}.pdf`)).size;
      const [mine, theirs] = [local, remote].map((d) => fs.readFileSync(path.join(d, `${name}.pdf`)));
      expect([name, mine!.length]).toEqual([name, theirs!.length]);
      expect(revisionShape(mine!, inputSize)).toBe(revisionShape(theirs!, inputSize));
    }
  });

  it('audits each signature with the declared description and the digest, never document bytes', async () => {
    const records = auditRecords().filter((r) => r.operation === 'sign-digest' && r.result === 'ok');
    expect(records).toHaveLength(DOCUMENTS.length);
    for (const name of DOCUMENTS) {
      const input = path.join(inDir, `${name}.pdf`);
      const record = records.find((r) => (r.declared as { documentId: string }).documentId === `${name}.pdf`)!;
      expect(record).toMatchObject({
        principal: 'anonymous',
        sealId: 'org',
        inputSha256: sha256(input),
        declared: { inputSize: fs.statSync(input).size, inputSha256: sha256(input), pages: [1], fieldName: 'Seal1', revision: expect.any(Number), placement: { kind: 'position', page: 1, x: 200, y: 300 } },
      });
      expect(record.documentDigest).toMatch(/^[0-9a-f]{64}$/);
      const declared = record.declared as { byteRange: number[]; revisionSize: number; inputSize: number };
      const output = fs.readFileSync(path.join(dir, 'local', `${name}.pdf`));
      expect(declared.inputSize + declared.revisionSize).toBe(output.length);
      // The digest audited is the one the CMS signed: SHA-256 of the two byte ranges of the output.
      const [a, b, c, d] = declared.byteRange as [number, number, number, number];
      const digest = createHash('sha256').update(output.subarray(a, a + b)).update(output.subarray(c, c + d)).digest('hex');
      expect(record.documentDigest).toBe(digest);
      // No document bytes: a record is a line of digests and numbers.
      expect(JSON.stringify(record).length).toBeLessThan(1500);
      expect(JSON.stringify(record)).not.toContain(fs.readFileSync(input).subarray(0, 400).toString('latin1').slice(9, 40));
    }
  });

  it('writes /M and the date stamp in the zone asked for, as the server does', async () => {
    const one = path.join(dir, 'one');
    fs.mkdirSync(one);
    fs.copyFileSync(path.join(inDir, 'simple.pdf'), path.join(one, 'simple.pdf'));
    const zoned = ['--seal', 'org', '--page', '1', '--x', '200', '--y', '300', '--time-zone', 'Asia/Shanghai', '--date-stamp', '--server', server.address];
    for (const [out, extra] of [['zoned-local', ['--prepare-locally']], ['zoned-remote', []]] as const) {
      const result = await seald(['batch', one, '-o', path.join(dir, out), ...zoned, ...extra]);
      expect([out, result.code]).toEqual([out, 0]);
    }
    const inputSize = fs.statSync(path.join(one, 'simple.pdf')).size;
    const [mine, theirs] = ['zoned-local', 'zoned-remote'].map((d) => fs.readFileSync(path.join(dir, d, 'simple.pdf')));
    for (const sealed of [mine!, theirs!]) expect(sealed.subarray(inputSize).toString('latin1')).toMatch(/\/M ?\(D:\d{14}\+08'00'\)/);
    expect(mine!.length).toBe(theirs!.length);
    expect(revisionShape(mine!, inputSize)).toBe(revisionShape(theirs!, inputSize));
    await expectValid(path.join(one, 'simple.pdf'), path.join(dir, 'zoned-local', 'simple.pdf'));
  });

  it('resumes without a second signature: the same preparation facts are answered from the idempotency store', async () => {
    const file = path.join(inDir, 'simple.pdf');
    const journal = new Map<string, PreparationFacts>();
    const signsBefore = await signCount();
    const first = await sealFiles('org', [{ id: 'resume-1', file }], journal);
    const second = await sealFiles('org', [{ id: 'resume-1', file }], journal);
    expect(await signCount()).toBe(signsBefore + 1);
    const [one, two] = [first.get('resume-1')!, second.get('resume-1')!];
    expect([one.result.ok && one.result.replayed, two.result.ok && two.result.replayed]).toEqual([false, true]);
    expect(two.bytes.equals(one.bytes)).toBe(true);
    const out = path.join(dir, 'resumed.pdf');
    fs.writeFileSync(out, two.bytes);
    await expectValid(file, out);
  });

  it('writes exactly the bytes it hashed: held in memory, read again, or copied in the kernel; a file changed after its digest fails unless held', async () => {
    const original = fs.readFileSync(path.join(inDir, 'simple.pdf'));
    const input = path.join(dir, 'changing-original.pdf');
    fs.writeFileSync(input, original);
    // The change: a byte of the binary comment after the header (ISO 32000-1 §7.5.2) — same size, parses the same.
    expect([original.subarray(0, 10).toString('latin1'), original[10]! >= 0x80]).toEqual(['%PDF-1.7\n%', true]);
    const changed = Buffer.from(original);
    changed[10] = original[10]! ^ 0x01;
    const outcomes: Record<string, unknown> = {};
    const cases = [
      ['held, changed', undefined, false, true],
      ['read again', 0, false, false],
      ['read again, changed', 0, false, true],
      ['copied', 0, true, false],
      ['copied, changed', 0, true, true],
    ] as const;
    for (const [mode, heldBytes, copy, change] of cases) {
      const file = path.join(dir, `${mode}.pdf`);
      const output = path.join(dir, `${mode}-sealed.pdf`);
      fs.writeFileSync(file, original);
      fs.writeFileSync(output, '');
      await new Promise((resolve) => setTimeout(resolve, 50)); // the change below lands on a later filesystem clock tick
      const results: BatchResult[] = [];
      await sealPrepared(client, { sealId: 'org', placement }, [{ id: mode, file }], {
        ...(heldBytes === undefined ? {} : { heldBytes }),
        // put runs after the input's hash and before its digest is sent: the file changes in place (same size).
        journal: {
          get: async () => undefined,
          put: async () => void (change ? fs.writeFileSync(file, changed) : undefined),
          remove: async () => undefined,
        },
        onChunk: (_, chunk) => fs.appendFileSync(output, chunk),
        ...(copy ? { onCopy: async (_: string, from: string) => (fs.copyFileSync(from, output), fs.statSync(output).size) } : {}),
        onResult: (result) => void results.push(result),
      });
      outcomes[mode] = results[0]!.ok ? 'ok' : results[0]!.errorCode;
      if (results[0]!.ok) await expectValid(input, output);
    }
    expect(outcomes).toEqual({ 'held, changed': 'ok', 'read again': 'ok', 'read again, changed': 'INPUT_CHANGED', copied: 'ok', 'copied, changed': 'INPUT_CHANGED' });
  });

  it('signs for an activation seal only with the PIN of each document', async () => {
    const file = path.join(inDir, 'simple.pdf');
    const signsBefore = await signCount();
    const without = (await sealFiles('legal-rep', [{ id: 'no-pin', file }])).get('no-pin')!.result;
    expect(without).toMatchObject({ ok: false, code: Status.FAILED_PRECONDITION, errorCode: 'ACTIVATION_REQUIRED' });
    expect(await signCount()).toBe(signsBefore);
    const pin = fs.readFileSync(path.join(dataDir, 'token.pin'), 'utf8').trim();
    const wrong = (await sealFiles('legal-rep', [{ id: 'wrong-pin', file, pin: `${pin}x` }])).get('wrong-pin')!.result;
    expect(wrong).toMatchObject({ ok: false, errorCode: 'ACTIVATION_FAILED' });
    const sealed = await sealFiles('legal-rep', [{ id: 'with-pin', file, pin }]);
    const { result, bytes } = sealed.get('with-pin')!;
    expect(result.ok).toBe(true);
    const out = path.join(dir, 'legal-rep.pdf');
    fs.writeFileSync(out, bytes);
    await expectValid(file, out);
    const records = auditRecords().filter((r) => r.operation === 'sign-digest' && r.sealId === 'legal-rep');
    expect(records.map((r) => [r.result, r.errorCode ?? null])).toEqual([
      ['FAILED_PRECONDITION', 'ACTIVATION_REQUIRED'],
      ['PERMISSION_DENIED', 'ACTIVATION_FAILED'],
      ['ok', null],
    ]);
    expect(JSON.stringify(records)).not.toContain(pin);
  });

  it('answers what it cannot sign per document (digest length, missing description, skewed /M, too little room) and refuses a call without header', async () => {
    const signsBefore = await signCount();
    const call = client.signPrepared();
    const answers: SignPreparedResponse[] = [];
    call.on('data', (m: SignPreparedResponse) => void answers.push(m));
    const ended = new Promise<{ code: number }>((resolve) => call.on('status', resolve));
    call.on('error', () => undefined);
    const description = (over: object = {}) => ({
      inputSize: 10n,
      inputSha256: new Uint8Array(32),
      signingTime: timestampFromDate(new Date()),
      contentsSize: 100_000,
      ...over,
    });
    const send = (documentId: string, documentDigest: Uint8Array, desc?: object) =>
      call.write(create(SignPreparedRequestSchema, { payload: { case: 'document', value: { documentId, documentDigest, ...(desc === undefined ? {} : { description: desc }) } } }));
    call.write(create(SignPreparedRequestSchema, { payload: { case: 'header', value: { sealId: 'org' } } }));
    send('short', new Uint8Array(20), description());
    send('undescribed', new Uint8Array(32));
    send('skewed', new Uint8Array(32), description({ signingTime: timestampFromDate(new Date(Date.now() - 3_600_000)) }));
    send('cramped', new Uint8Array(32), description({ contentsSize: 100 }));
    call.end();
    expect((await ended).code).toBe(Status.OK);
    expect(answers[0]!.payload.case).toBe('kit');
    const errors = Object.fromEntries(answers.slice(1).map((a) => [a.documentId, a.payload.case === 'error' ? [a.payload.value.code, a.payload.value.errorCode] : a.payload.case]));
    expect(errors).toEqual({
      short: [Status.INVALID_ARGUMENT, 'BAD_DIGEST_LENGTH'],
      undescribed: [Status.INVALID_ARGUMENT, 'DESCRIPTION_REQUIRED'],
      skewed: [Status.FAILED_PRECONDITION, 'SIGNING_TIME_SKEW'],
      cramped: [Status.INVALID_ARGUMENT, 'CONTENTS_TOO_SMALL'],
    });
    expect(await signCount()).toBe(signsBefore);

    const headless = client.signPrepared();
    headless.on('data', () => undefined);
    headless.on('error', () => undefined);
    const status = new Promise<{ code: number }>((resolve) => headless.on('status', resolve));
    headless.write(create(SignPreparedRequestSchema, { payload: { case: 'document', value: { documentId: 'x', documentDigest: new Uint8Array(32) } } }));
    headless.end();
    expect((await status).code).toBe(Status.INVALID_ARGUMENT);
  });

  it('time-stamps when asked (PAdES B-T): the room reserved comes from the kit, the token verifies with openssl ts', async () => {
    const pki = await createTestPki(path.join(dir, 'tsa-pki'), { caName: 'TSA CA', signerName: 'unused' });
    const tsa = await startTestTsa({ dir: path.join(dir, 'tsa'), ca: { certPem: pki.caCertPem, keyPem: pki.caKeyPem } });
    const logger = pino({ level: 'silent' });
    const env = { SEALD_POLICY: policyFile, SEALD_TSA_URLS: tsa.url, SEALD_TSA_TIMEOUT_MS: '5000' };
    const withTsa = await startSealdServer(await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, env), logger);
    const tsaClient = connectPrepared(withTsa.address);
    try {
      const input = path.join(inDir, 'cjk-contract.pdf');
      const chunks: Buffer[] = [];
      const results: BatchResult[] = [];
      await sealPrepared(tsaClient, { sealId: 'org', placement, options: { timestamp: true } }, [{ id: 'bt', file: input }], {
        onChunk: (_, chunk) => void chunks.push(Buffer.from(chunk)),
        onResult: (result) => void results.push(result),
      });
      expect(results[0]).toMatchObject({ ok: true });
      const output = path.join(dir, 'prepared-bt.pdf');
      fs.writeFileSync(output, Buffer.concat(chunks));
      await expectValid(input, output);
      const [signature] = await extractSignatures(output);
      const signerInfo = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(signature!.cms)).content }).signerInfos[0]!;
      const token = signerInfo.unsignedAttrs!.attributes.find((a) => a.type === id_aa_signatureTimeStampToken)!;
      const tokenFile = path.join(dir, 'prepared-token.der');
      fs.writeFileSync(tokenFile, new Uint8Array((token.values[0] as asn1js.BaseBlock).toBER()));
      const imprint = createHash('sha256').update(signerInfo.signature.valueBlock.valueHexView).digest('hex');
      const verify = await run('openssl', ['ts', '-verify', '-digest', imprint, '-token_in', '-in', tokenFile, '-CAfile', pki.caCertPem, '-untrusted', tsa.certPem]);
      expect(verify.stdout.toString() + verify.stderr.toString()).toContain('Verification: OK');
    } finally {
      tsaClient.close();
      await withTsa.shutdown('test over');
      await tsa.close();
    }
  });
});
