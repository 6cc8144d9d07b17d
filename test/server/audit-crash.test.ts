/**
 * kill -9 in the middle of a series of seals: a real `seald serve` child process (embedded defaults, real token and
 * engine) is killed while seals are in flight. Its audit log must still verify (at worst with a torn final line,
 * reported as such), every seal the client saw complete must have its record on disk (records are durable before
 * the final message), and a restarted server must continue the same chain.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { afterAll, describe, expect, it } from 'vitest';
import { listAuditFiles } from '../../src/audit/files.ts';
import { verifyAuditFiles } from '../../src/audit/verify.ts';
import { connect, listSeals, sealRemote } from '../../src/cli/client.ts';
import { SealHeaderSchema } from '../../src/gen/seald/v1/seald_pb.ts';
import { startServe } from '../deploy/serve-process.ts';
import { fixture } from '../fixtures/index.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-crash-test-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Start `seald serve` on the shared data dir; `output()` is its log so far. */
async function serve(): Promise<{ child: ChildProcess; address: string; output(): string }> {
  const served = await startServe(['--data-dir', dataDir, '--metrics', 'off']);
  children.push(served.child);
  return { child: served.child, address: served.address, output: () => served.lines.join('\n') };
}

describe('audit log across kill -9', () => {
  it('verifies after a crash during a series of seals, and the restarted server continues the chain', async () => {
    const input = fs.readFileSync(await fixture('simple'));
    const { child, address } = await serve();
    const client = connect(address);
    const confirmed: string[] = [];
    const sealOne = async (i: number): Promise<void> => {
      const requestId = `crash-${i}`;
      await sealRemote(
        client,
        create(SealHeaderSchema, { sealId: 'org', placement: { kind: { case: 'position', value: { page: 1, x: 200, y: 300 } } } }),
        (async function* () {
          yield input;
        })(),
        () => undefined,
        { requestId },
      );
      confirmed.push(requestId);
    };
    // Four callers in parallel, each sealing until the server dies under them.
    let next = 0;
    const workers = Array.from({ length: 4 }, async () => {
      while (next < 400) await sealOne(next++).catch(() => undefined);
    });
    while (confirmed.length < 12) await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGKILL');
    await Promise.all(workers.map((w) => Promise.race([w, new Promise((resolve) => setTimeout(resolve, 5000))])));
    client.close();

    const files = listAuditFiles(path.join(dataDir, 'audit'));
    const report = verifyAuditFiles(files);
    expect(report.status).not.toBe('tampered');
    const records = files.flatMap((f) =>
      fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.endsWith('}')).map((l) => JSON.parse(l) as { requestId: string; result: string }),
    );
    const durable = new Set(records.filter((r) => r.result === 'ok').map((r) => r.requestId));
    // Every seal the client saw complete was on disk before its summary left the server.
    expect(confirmed.filter((id) => !durable.has(id))).toEqual([]);

    const restarted = await serve();
    const again = connect(restarted.address);
    await sealRemote(
      again,
      create(SealHeaderSchema, { sealId: 'org', placement: { kind: { case: 'position', value: { page: 1, x: 200, y: 300 } } } }),
      (async function* () {
        yield input;
      })(),
      () => undefined,
      { requestId: 'after-restart' },
    );
    again.close();
    restarted.child.kill('SIGTERM');
    await new Promise((resolve) => restarted.child.once('exit', resolve));
    const after = verifyAuditFiles(listAuditFiles(path.join(dataDir, 'audit')));
    expect(after.status).toBe('ok');
    expect(after.records).toBe(report.records + 1);
  }, 120_000);
  it('SIGHUP reloads a policy kept in the configuration file; the plaintext caller is anonymous', async () => {
    // The embedded configuration the first test provisioned, with a policy section: list only, no seal.
    const configFile = path.join(dataDir, 'seald.yaml');
    const base = fs.readFileSync(configFile, 'utf8');
    const withPolicy = (grant: string) => `${base}\npolicy:\n  principals:\n    - name: local\n      match: { anonymous: true }\n      grants:\n        - ${grant}\n`;
    fs.writeFileSync(configFile, withPolicy('{ operations: [list] }'));
    const { child, address, output } = await serve();
    const client = connect(address);
    try {
      expect((await listSeals(client)).seals).toEqual([]);
      fs.writeFileSync(configFile, withPolicy('{ seals: [org], operations: [list, seal] }'));
      child.kill('SIGHUP'); // before the watcher's debounce ends: the reload is SIGHUP's
      for (let i = 0; i < 250 && !/"reason":"SIGHUP"[^\n]*"msg":"policy reloaded"/.test(output()); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(output()).toMatch(/"reason":"SIGHUP"[^\n]*"msg":"policy reloaded"/);
      expect((await listSeals(client)).seals.map((s) => s.id)).toEqual(['org']);
    } finally {
      client.close();
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      fs.writeFileSync(configFile, base);
    }
  }, 60_000);
});
