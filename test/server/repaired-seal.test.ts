/**
 * A document seald had to repair to seal says so everywhere (issue 18): in the summary, in the request log line and
 * in the audit record, each with what was wrong and how the table was rebuilt, and none with a password. A clean
 * document says nothing of the kind. Real server, embedded defaults' SoftHSM token, real engine; pdfsig checks the
 * output.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, sealRemote, type SealClient } from '../../src/cli/client.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { loadServerConfig, startSealdServer } from '../../src/server/bootstrap.ts';
import type { SealdConfig } from '../../src/config/config.ts';
import type { SealdServer } from '../../src/server/server.ts';
import { listAuditFiles } from '../../src/audit/files.ts';
import { ENCRYPTED_USER_PASSWORD, fixture } from '../fixtures/index.ts';
import { pdfsig } from '../support/tools.ts';
import * as damage from '../pdf/damaged-fixtures.ts';

let dataDir: string;
let config: SealdConfig;
let server: SealdServer;
let client: SealClient;
const logs: string[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-repaired-'));
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
  server = await startSealdServer(config, logger, { healthIntervalMs: 200 });
  client = connect(server.address);
});

afterAll(async () => {
  client?.close();
  await server?.shutdown('tests over');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function seal(input: Buffer, password = '') {
  const chunks: Uint8Array[] = [];
  const summary = await sealRemote(
    client,
    create(SealHeaderSchema, {
      sealId: 'org',
      placement: { kind: { case: 'position', value: { page: 1, x: 100, y: 100 } } },
      documentSize: BigInt(input.length),
      documentPassword: password,
    }),
    (async function* () {
      yield input;
    })(),
    async (chunk) => void chunks.push(chunk),
  );
  return { summary, output: Buffer.concat(chunks) };
}

interface Line {
  msg?: string;
  operation?: string;
  status?: string;
  repaired?: { reason: string; how?: string };
  result?: string;
  inputSha256?: string;
}

/** The request log line and the audit record of the last seal. */
function lastRecords(): { log: Line; audit: Line; rawLog: string; rawAudit: string } {
  const rawLog = [...logs].reverse().find((l) => (JSON.parse(l) as Line).msg === 'request' && (JSON.parse(l) as Line).operation === 'seal')!;
  const files = listAuditFiles(config.audit.dir);
  const lines = fs.readFileSync(files.at(-1)!, 'utf8').trim().split('\n');
  const rawAudit = lines.at(-1)!;
  return { log: JSON.parse(rawLog) as Line, audit: JSON.parse(rawAudit) as Line, rawLog, rawAudit };
}

describe('a repaired document says so in the summary, the log line and the audit record', () => {
  it('startxref missing: repaired, with the reason and how, in all three; pdfsig finds the seal valid', async () => {
    const input = damage.noStartxref(fs.readFileSync(await fixture('cjk-contract')));
    const { summary, output } = await seal(input);
    expect(summary.repaired).toMatch(/damaged/);
    const { log, audit } = lastRecords();
    expect(log.status).toBe('OK');
    expect(log.repaired?.reason).toBe(summary.repaired);
    expect(log.repaired?.how).toMatch(/^cross-reference rebuilt by scanning the file: \d+ objects, trailer from the last usable trailer dictionary$/);
    expect(audit.result).toBe('ok');
    expect(audit.repaired).toEqual(log.repaired);

    const file = path.join(dataDir, 'repaired-out.pdf');
    fs.writeFileSync(file, output);
    const report = await pdfsig(file);
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]!.signatureValid).toBe(true);
  });

  it('an encrypted document with broken entries: repaired, and its password nowhere in the log or the audit record', async () => {
    const input = damage.entriesSwapped(fs.readFileSync(await fixture('encrypted')), 2, 4);
    const { summary } = await seal(input, ENCRYPTED_USER_PASSWORD);
    expect(summary.repaired).toMatch(/damaged/);
    const { log, audit, rawLog, rawAudit } = lastRecords();
    expect(log.repaired?.how).toMatch(/rebuilt by scanning/);
    expect(audit.repaired).toEqual(log.repaired);
    expect(rawLog).not.toContain(ENCRYPTED_USER_PASSWORD);
    expect(rawAudit).not.toContain(ENCRYPTED_USER_PASSWORD);
  });

  it('a clean document: no repaired field anywhere', async () => {
    const { summary } = await seal(fs.readFileSync(await fixture('simple')));
    expect(summary.repaired).toBe('');
    const { log, audit } = lastRecords();
    expect(log.status).toBe('OK');
    expect(log.repaired).toBeUndefined();
    expect(audit.result).toBe('ok');
    expect(audit.repaired).toBeUndefined();
  });
});
