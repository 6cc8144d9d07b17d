/**
 * `seald verify --html/--pdf/--lang/--expect-signer` as a user runs it (a separate process), locally and through a
 * running server's VerifyService (want_html, report_language, expected_signers, document_name → report_html).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifyHeaderSchema, VerifyRequestSchema, VerifyService, type VerifyResponse } from '../../src/gen/seald/v1/verify_pb.ts';
import { grpcClientConstructor } from '../../src/rpc/grpc-service.ts';
import { startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { openSealer, type Sealer } from '../engine/verify/sealer.ts';
import { reportDocuments } from '../report/documents.ts';
import { run } from '../support/run.ts';

const BIN = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));
const ORG = 'O=示例商贸有限公司';

let sealer: Sealer;
let server: SealdServer;
let dir: string;
let two: string;
let forged: string;

beforeAll(async () => {
  sealer = await openSealer('seald-verify-report-');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-verify-report-cli-'));
  const docs = await reportDocuments(sealer);
  two = path.join(dir, 'two-seals.pdf');
  fs.writeFileSync(two, docs.twoSeals);
  forged = path.join(dir, 'forged.pdf');
  fs.writeFileSync(forged, docs.forged);
  server = await startSealdServer(sealer.config, pino({ level: 'silent' }), {});
}, 120_000);
afterAll(async () => {
  await server?.shutdown('tests over');
  await sealer?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function seald(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = { ...process.env, SEALD_TRUST_ANCHORS: '', SEALD_CONFIG: '', SEALD_DATA_DIR: '', LANG: 'C.UTF-8', LC_ALL: '', LC_MESSAGES: '', ...env };
  return run(process.execPath, [BIN, ...args], { env: clean, cwd: dir });
}

describe('seald verify --html', () => {
  it('writes the report for people beside the usual output; --expect-signer decides the exit status too', async () => {
    const out = path.join(dir, 'two-zh.html');
    const result = await seald(['verify', two, '--trust', sealer.caPem, '--html', out, '--lang', 'zh', '--expect-signer', ORG, '--expect-signer', 'CN=张三']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(/O=示例商贸有限公司\s+│?\s*sealed, VALID \(甲方, 乙方\)/);
    const page = fs.readFileSync(out, 'utf8');
    expect(page).toContain('<html lang="zh-CN">');
    expect(page).toContain('two-seals.pdf');
    expect(page).toContain('确认：各方均已完成有效签章。');
    // Two seal images and, rendered by pdftoppm, the page each seal marks.
    expect(page.match(/data:image\/png;base64,/g)).toHaveLength(4);
    expect(page.match(/<img class="page-image" src="data:image\/png;base64,/g)).toHaveLength(2);

    const missing = await seald(['verify', two, '--trust', sealer.caPem, '--html', out, '--expect-signer', 'O=乙方公司']);
    expect(missing.code).toBe(1);
    expect(missing.stdout.toString()).toContain('NOT FOUND');
    expect(fs.readFileSync(out, 'utf8')).toContain('Attention: not every expected party has a valid seal.');
  }, 60_000);

  it('--lang defaults to the locale; anything but zh or en is a usage error', async () => {
    const out = path.join(dir, 'locale.html');
    await seald(['verify', two, '--trust', sealer.caPem, '--html', out], { LANG: 'zh_CN.UTF-8' });
    expect(fs.readFileSync(out, 'utf8')).toContain('电子签章验证报告');
    await seald(['verify', two, '--trust', sealer.caPem, '--html', out], { LANG: 'zh_CN.UTF-8', LC_ALL: 'en_GB.UTF-8' });
    expect(fs.readFileSync(out, 'utf8')).toContain('Electronic seal verification report');
    const bad = await seald(['verify', two, '--html', out, '--lang', 'fr']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--lang is zh or en');
  }, 60_000);

  it('--server: the server builds the page from its own verification', async () => {
    const out = path.join(dir, 'remote.html');
    const result = await seald(['verify', forged, '--server', server.address, '--html', out, '--lang', 'en', '--expect-signer', ORG]);
    expect(result.code).toBe(1);
    const page = fs.readFileSync(out, 'utf8');
    expect(page).toContain('forged.pdf');
    expect(page).toContain('data-verdict="INVALID">Invalid<');
    expect(page).toContain('the content of a page was changed');
    expect(page.match(/data:image\/png;base64,/g)).toHaveLength(4);
    expect(page.match(/<img class="page-image" src="data:image\/png;base64,/g)).toHaveLength(2);
  }, 60_000);
});

describe('seald verify --pdf', () => {
  it('prints the page to an A4 PDF with Chromium; without Chromium it says so, and --html still works', async () => {
    const out = path.join(dir, 'report.pdf');
    const result = await seald(['verify', two, '--trust', sealer.caPem, '--pdf', out, '--lang', 'en']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const info = (await run('pdfinfo', [out])).stdout.toString();
    expect(info).toMatch(/Page size:\s+[\d.]+ x [\d.]+ pts \(A4\)/);
    const text = (await run('pdftotext', ['-layout', out, '-'])).stdout.toString();
    expect(text).toContain('Electronic seal verification report');
    expect(text).toContain('Order of sealing');

    const html = path.join(dir, 'no-chromium.html');
    const without = await seald(['verify', two, '--trust', sealer.caPem, '--pdf', path.join(dir, 'none.pdf'), '--html', html], { PATH: dir, SEALD_CHROMIUM: '' });
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('--pdf prints the report with Chromium, which is not installed');
    expect(fs.existsSync(path.join(dir, 'none.pdf'))).toBe(false);
    expect(fs.readFileSync(html, 'utf8')).toContain('Electronic seal verification report');
  }, 120_000);
});

describe('the Verify RPC with want_html', () => {
  function verify(header: MessageInitShape<typeof VerifyHeaderSchema>, bytes: Uint8Array): Promise<VerifyResponse> {
    const Client = grpcClientConstructor(VerifyService);
    const client = new Client(server.address, grpc.credentials.createInsecure());
    return new Promise<VerifyResponse>((resolve, reject) => {
      const call = client.verify(new grpc.Metadata(), {}, (error, value) => {
        client.close();
        if (error !== null || value === undefined) reject(error);
        else resolve(value);
      });
      call.write(create(VerifyRequestSchema, { payload: { case: 'header', value: create(VerifyHeaderSchema, header) } }));
      call.write(create(VerifyRequestSchema, { payload: { case: 'chunk', value: bytes } }));
      call.end();
    });
  }

  it('report_html only when asked; expected_signers answered in typed fields; a bad language is INVALID_ARGUMENT', async () => {
    const bytes = fs.readFileSync(two);
    const plain = await verify({}, bytes);
    expect(plain.reportHtml).toBe('');
    expect(plain.expectedSigners).toEqual([]);
    const asked = await verify({ wantHtml: true, reportLanguage: 'zh', documentName: '合同.pdf', expectedSigners: [ORG, 'O=乙方公司'] }, bytes);
    expect(asked.reportHtml).toContain('合同.pdf');
    expect(asked.reportHtml).toContain('应签章方核对');
    expect(asked.expectedSigners.map((e) => [e.signer, e.signed, e.fields])).toEqual([
      [ORG, true, ['甲方', '乙方']],
      ['O=乙方公司', false, []],
    ]);
    const error = await verify({ wantHtml: true, reportLanguage: 'fr' }, bytes).catch((e: unknown) => e as grpc.ServiceError);
    expect((error as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
  }, 60_000);
});
