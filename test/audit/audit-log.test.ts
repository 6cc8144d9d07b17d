/**
 * The audit log on a real directory: group commit, the hash chain, rotation by size and day, reopening after a
 * torn write, and `seald audit verify` (run as a user runs it) on edited, deleted and torn records.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAuditFiles } from '../../src/audit/files.ts';
import { AuditLog } from '../../src/audit/log.ts';
import type { AuditEntry } from '../../src/audit/record.ts';
import { verifyAuditFiles } from '../../src/audit/verify.ts';
import { run } from '../support/run.ts';

const BIN = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-audit-test-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function entry(i: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    principal: 'CN=erp,O=Acme',
    operation: 'seal',
    requestId: `req-${i}`,
    sealId: 'org',
    certificateSerial: '0a0b',
    inputSha256: 'a'.repeat(64),
    outputSha256: 'b'.repeat(64),
    revision: 2,
    placement: { pages: [1] },
    result: 'ok',
    ...extra,
  };
}

async function writeRecords(count: number, options: { maxFileBytes?: number; now?: () => Date } = {}): Promise<AuditLog> {
  const log = await AuditLog.open({ dir, ...options });
  await Promise.all(Array.from({ length: count }, (_, i) => log.append(entry(i))));
  return log;
}

function lines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

function verifyCli(...targets: string[]) {
  return run(process.execPath, [BIN, 'audit', 'verify', ...targets]);
}

describe('audit log', () => {
  it('groups concurrent records into few durable writes, chained in order', async () => {
    const log = await writeRecords(50);
    await log.close();
    // 50 appends in one tick: the first goes alone, the other 49 queue behind it and share one write + fdatasync.
    expect(log.batches).toBeLessThanOrEqual(3);
    const [file] = listAuditFiles(dir);
    const records = lines(file!).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(records[0]!.prev).toBe('0'.repeat(64));
    expect(Object.keys(records[0]!)).toEqual([
      'v', 'seq', 'time', 'principal', 'operation', 'requestId', 'sealId', 'certificateSerial', 'inputSha256',
      'outputSha256', 'revision', 'placement', 'result', 'prev',
    ]);
    const report = verifyAuditFiles(listAuditFiles(dir));
    expect(report).toMatchObject({ status: 'ok', records: 50, head: { seq: 50 } });
  });

  it('resolves an append only once the record is in the file', async () => {
    const log = await AuditLog.open({ dir });
    const record = await log.append(entry(1));
    const [file] = listAuditFiles(dir);
    expect(JSON.parse(lines(file!)[0]!)).toMatchObject({ seq: record.seq, requestId: 'req-1' });
    await log.close();
  });

  it('rotates by size and by day and keeps one chain across files and reopenings', async () => {
    let now = new Date('2026-11-20T23:59:58Z');
    let log = await writeRecords(1, { maxFileBytes: 1500, now: () => now });
    for (let i = 0; i < 6; i++) await log.append(entry(i)); // ~450 bytes each: a new file every 3 records
    now = new Date('2026-11-21T00:00:01Z');
    await log.append(entry(99));
    await log.close();
    log = await AuditLog.open({ dir, maxFileBytes: 1500, now: () => now });
    await log.append(entry(100));
    await log.close();
    const files = listAuditFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    expect(path.basename(files.at(-1)!)).toMatch(/-20261121-00\.jsonl$/);
    expect(verifyAuditFiles(files)).toMatchObject({ status: 'ok', records: 9, head: { seq: 9 } });
    // One file alone checks from where it starts.
    expect(verifyAuditFiles([files[1]!])).toMatchObject({ status: 'ok', firstSeq: 4 });
    const cli = await verifyCli(dir);
    expect(cli.code).toBe(0);
    expect(cli.stdout.toString()).toMatch(/^ok: 9 records in \d files, head seq 9 sha256 [0-9a-f]{64}/);
  });

  it('names the edited record (exit 1)', async () => {
    await (await writeRecords(5)).close();
    const [file] = listAuditFiles(dir);
    const text = fs.readFileSync(file!, 'utf8');
    fs.writeFileSync(file!, text.replace('"requestId":"req-2"', '"requestId":"req-X"'));
    expect(verifyAuditFiles([file!])).toMatchObject({ status: 'tampered', problem: { line: 3 } });
    const cli = await verifyCli(file!);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('audit chain broken');
    expect(cli.stderr).toContain('line 3: record edited');
  });

  it('names where a record was deleted (exit 1)', async () => {
    await (await writeRecords(5)).close();
    const [file] = listAuditFiles(dir);
    const kept = lines(file!).filter((_, i) => i !== 1);
    fs.writeFileSync(file!, `${kept.join('\n')}\n`);
    const cli = await verifyCli(file!);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('line 2: 1 record is missing before this line (seq 2 deleted)');
  });

  it('a recomputed chain still shows the deletion through seq, and a rewritten seq through prev', async () => {
    await (await writeRecords(4)).close();
    const [file] = listAuditFiles(dir);
    const all = lines(file!).map((l) => JSON.parse(l) as Record<string, unknown>);
    all.splice(1, 1);
    all[1]!.seq = 2; // renumber the record after the deleted one, leave its prev alone
    fs.writeFileSync(file!, `${all.map((r) => JSON.stringify(r)).join('\n')}\n`);
    expect(verifyAuditFiles([file!])).toMatchObject({ status: 'tampered', problem: { line: 1 } });
  });

  it('reports a torn final line apart from tampering (exit 3), and the reopened log continues the chain', async () => {
    await (await writeRecords(3)).close();
    const [file] = listAuditFiles(dir);
    // What a crash in the middle of a write leaves: part of a record and no newline.
    fs.appendFileSync(file!, '{"v":1,"seq":4,"time":"2026-');
    const torn = await verifyCli(file!);
    expect(torn.code).toBe(3);
    expect(torn.stderr).toContain('torn final line');
    expect(torn.stderr).not.toContain('chain broken');
    expect(torn.stdout.toString()).toContain('whole up to the torn line: 3 records');

    const log = await AuditLog.open({ dir });
    const record = await log.append(entry(4));
    await log.close();
    expect(record.seq).toBe(4);
    const files = listAuditFiles(dir);
    expect(files).toHaveLength(2);
    expect(fs.readFileSync(files[0]!, 'utf8').endsWith('"time":"2026-')).toBe(true); // evidence kept
    const report = verifyAuditFiles(files);
    expect(report).toMatchObject({ status: 'ok', records: 4 });
    expect(report.warnings[0]!.message).toContain('torn final line');
    expect((await verifyCli(dir)).code).toBe(0);
  });

  it('fails closed: after a write error the record and every later one are refused', async () => {
    const log = await AuditLog.open({ dir, maxFileBytes: 10 });
    await log.append(entry(1));
    // The next record needs a new file (the first is full) and the directory is gone: the write fails.
    fs.rmSync(dir, { recursive: true, force: true });
    fs.writeFileSync(dir, 'not a directory');
    await expect(log.append(entry(2))).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE', category: 'unavailable' });
    await expect(log.append(entry(3))).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    await log.close();
    fs.rmSync(dir, { force: true });
  });
});
