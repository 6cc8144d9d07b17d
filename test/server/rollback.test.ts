/**
 * Rollback (撤销签章) for real: embedded defaults (SoftHSM token, dev CA, seals `org` and `personal`), mutual TLS
 * with two organisations' principals, the real engine, and pdfsig as the independent checker. Each rollback must
 * give back the earlier document byte for byte (SHA-256 equal), leave every remaining signature valid, and refuse
 * what is not the caller's last seal.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, sealRemote, type ClientTls } from '../../src/cli/client.ts';
import { connectRollback, rollbackRemote } from '../../src/cli/rollback-client.ts';
import { RollbackHeaderSchema } from '../../src/gen/seald/v1/rollback_pb.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { listAuditFiles } from '../../src/audit/files.ts';
import { verifyAuditFiles } from '../../src/audit/verify.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdConfig } from '../../src/config/config.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { fixture } from '../fixtures/index.ts';
import { fileURLToPath } from 'node:url';
import { run } from '../support/run.ts';
import { pdfsig } from '../support/tools.ts';
import { appendDocTimeStamp, appendInfoEdit } from './revisions-builder.ts';
import { clientTlsOf, createTlsPki, type TlsPki } from './tls-pki.ts';

const POLICY = `
principals:
  - name: acme
    match: { subject: { O: Acme } }
    grants:
      - seals: [org]
        operations: [seal, rollback]
  - name: globex
    match: { subject: { O: Globex } }
    grants:
      - seals: [personal]
        operations: [seal, rollback]
`;

let pki: TlsPki;
let dir: string;
let config: SealdConfig;
let server: SealdServer;
let acme: ClientTls;
let globex: ClientTls;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-rollback-test-'));
  pki = await createTlsPki(path.join(dir, 'pki'));
  acme = clientTlsOf(pki, pki.erp);
  globex = clientTlsOf(pki, pki.globex);
  fs.writeFileSync(path.join(dir, 'policy.yaml'), POLICY);
  const logger = pino({ level: 'silent' });
  config = await loadServerConfig({ dataDir: path.join(dir, 'data'), listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  config.tls = { cert: pki.server.cert, key: pki.server.key, clientCa: pki.ca };
  config.policy = { file: path.join(dir, 'policy.yaml'), section: false };
  server = await startSealdServer(config, logger);
}, 120_000);
afterAll(async () => {
  await server?.shutdown('tests over');
  fs.rmSync(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

type PlacementKind = NonNullable<Parameters<typeof create<typeof SealHeaderSchema>>[1]>['placement'];

async function seal(tls: ClientTls, input: Buffer, sealId: string, y: number, placement?: PlacementKind): Promise<Buffer> {
  const client = connect(`127.0.0.1:${server.port}`, {}, tls);
  const out: Uint8Array[] = [];
  try {
    await sealRemote(
      client,
      create(SealHeaderSchema, { sealId, placement: placement ?? { kind: { case: 'position', value: { page: 1, x: 150, y } } } }),
      once(input),
      (chunk) => void out.push(chunk),
    );
    return Buffer.concat(out);
  } finally {
    client.close();
  }
}

async function rollback(tls: ClientTls, input: Buffer, fieldName = '') {
  const client = connectRollback(`127.0.0.1:${server.port}`, tls);
  const out: Uint8Array[] = [];
  try {
    const summary = await rollbackRemote(client, create(RollbackHeaderSchema, { fieldName }), once(input), (chunk) => void out.push(chunk));
    return { summary, output: Buffer.concat(out) };
  } finally {
    client.close();
  }
}

async function refusal(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  const error = (await promise.then(() => undefined, (e: unknown) => e)) as { code: number; details: string } | undefined;
  if (error === undefined) throw new Error('the call succeeded');
  return error;
}

async function validSignatures(bytes: Buffer, name: string): Promise<boolean[]> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  const report = await pdfsig(file);
  return report.signatures.map((s) => s.signatureValid && s.coversWholeDocument === (s.index === report.signatures.length));
}

describe('rollback', () => {
  for (const name of ['xref-stream', 'simple'] as const) {
    it(`seal then roll back gives the input back byte for byte (${name}, ${name === 'simple' ? 'no EOL after %%EOF' : 'EOL after %%EOF'})`, async () => {
      const input = fs.readFileSync(await fixture(name));
      const sealed = await seal(acme, input, 'org', 300);
      const { summary, output } = await rollback(acme, sealed);
      expect(sha256(output)).toBe(sha256(input));
      expect(Buffer.from(summary.documentSha256).toString('hex')).toBe(sha256(input));
      expect(summary).toMatchObject({ fieldName: 'Seal1', removedRevision: 2, sealId: 'org' });
    });
  }

  it('a cross-page seal goes as a whole: every strip is gone and the input comes back byte for byte', async () => {
    const input = fs.readFileSync(await fixture('cjk-contract'));
    const sealed = await seal(acme, input, 'org', 0, { kind: { case: 'crossPage', value: { pages: 'all' } } });
    const stamps = (sealed.toString('latin1').match(/\/Subtype\s*\/Stamp/g) ?? []).length;
    expect(stamps).toBeGreaterThan(0); // the strips beyond the widget's are stamp annotations of the same revision
    const { summary, output } = await rollback(acme, sealed);
    expect(sha256(output)).toBe(sha256(input));
    expect(summary).toMatchObject({ removedRevision: 2 });
    expect(output.toString('latin1')).not.toMatch(/\/Subtype\s*\/Stamp/);
  });

  it('two organisations: the first cannot remove the second\'s seal; rollbacks in order restore each document', async () => {
    const original = fs.readFileSync(await fixture('xref-stream'));
    const first = await seal(acme, original, 'org', 300);
    const second = await seal(globex, first, 'personal', 500);
    expect(await validSignatures(second, 'two-seals.pdf')).toEqual([true, true]);

    const denied = await refusal(rollback(acme, second));
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    expect(denied.details).toContain('lacks the permission "rollback" on the seal that made the last signature');
    expect(denied.details).not.toContain('personal');

    // Asking for the earlier seal by name: roll back the later ones first.
    const earlier = await refusal(rollback(acme, second, 'Seal1'));
    expect(earlier.code).toBe(status.FAILED_PRECONDITION);
    expect(earlier.details).toContain('roll back the later seals first');

    const undoSecond = await rollback(globex, second, 'Seal2');
    expect(sha256(undoSecond.output)).toBe(sha256(first));
    expect(await validSignatures(undoSecond.output, 'one-seal.pdf')).toEqual([true]);
    const undoFirst = await rollback(acme, undoSecond.output);
    expect(sha256(undoFirst.output)).toBe(sha256(original));
  });

  it('refuses a last revision that is a document timestamp (FAILED_PRECONDITION)', async () => {
    const sealed = await seal(acme, fs.readFileSync(await fixture('xref-stream')), 'org', 300);
    const stamped = await appendDocTimeStamp(sealed, path.join(dir, 'tsa'));
    // poppler 22.12 cannot validate an RFC 3161 signature ("Unimplemented Feature"); the builder had openssl
    // `ts -verify` check the token against the signed ranges. pdfsig still sees both and the seal stays valid.
    fs.writeFileSync(path.join(dir, 'stamped.pdf'), stamped);
    const report = await pdfsig(path.join(dir, 'stamped.pdf'));
    expect(report.signatures.map((s) => [s.fieldName, s.signatureValid, s.coversWholeDocument])).toEqual([
      ['Seal1', true, false],
      ['DocTimeStamp1', false, true],
    ]);
    const error = await refusal(rollback(acme, stamped));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toContain('document timestamp');
  });

  it('refuses a last revision that is a foreign edit, and one that runs past its signature', async () => {
    const sealed = await seal(acme, fs.readFileSync(await fixture('simple')), 'org', 300);
    const edited = await refusal(rollback(acme, appendInfoEdit(sealed)));
    expect(edited).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(edited.details).toContain('adds no signature');
    const extended = await refusal(rollback(acme, Buffer.concat([sealed, Buffer.from('% appended after the seal\n')])));
    expect(extended).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(extended.details).toContain('does not end where its signature\'s byte range ends');
    const unsigned = await refusal(rollback(acme, fs.readFileSync(await fixture('simple'))));
    expect(unsigned).toMatchObject({ code: status.FAILED_PRECONDITION });
  });

  it('seald rollback IN -o OUT: the CLI over mutual TLS', async () => {
    const input = fs.readFileSync(await fixture('xref-stream'));
    const sealedFile = path.join(dir, 'cli-sealed.pdf');
    fs.writeFileSync(sealedFile, await seal(acme, input, 'org', 300));
    const out = path.join(dir, 'cli-rolled-back.pdf');
    const result = await run(process.execPath, [
      fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url)), 'rollback', sealedFile, '-o', out,
      '--server', `localhost:${server.port}`, '--tls-ca', pki.ca, '--tls-cert', pki.erp.cert, '--tls-key', pki.erp.key,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain('removed      Seal1 (revision 2, seal org)');
    expect(sha256(fs.readFileSync(out))).toBe(sha256(input));
  });

  it('audits every seal, rollback and refusal in a chain that verifies', async () => {
    const report = verifyAuditFiles(listAuditFiles(config.audit.dir));
    expect(report.status).toBe('ok');
    const lines = listAuditFiles(config.audit.dir).flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>));
    const rollbacks = lines.filter((r) => r.operation === 'rollback');
    expect(rollbacks.some((r) => r.result === 'ok' && r.principal === 'CN=globex-admin, O=Globex' && r.sealId === 'personal')).toBe(true);
    expect(rollbacks.some((r) => r.result === 'PERMISSION_DENIED' && r.principal === 'CN=erp, O=Acme')).toBe(true);
    expect(rollbacks.some((r) => r.result === 'FAILED_PRECONDITION' && r.errorCode === 'LAST_REVISION_NOT_A_SEAL')).toBe(true);
    const sealed = lines.find((r) => r.operation === 'seal' && r.result === 'ok');
    expect(sealed).toMatchObject({ sealId: 'org', revision: 2 });
    expect(sealed!.inputSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(lines)).not.toMatch(/%PDF|BEGIN|PRIVATE|pin/i);
  });
});
