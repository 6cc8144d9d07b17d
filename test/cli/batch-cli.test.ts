/**
 * `seald batch` as a user runs it (a separate process, through tsx) against an in-process server with a stand-in
 * engine: outputs, report, progress lines, exit codes, resumption. test/server/batch-e2e.test.ts runs it once more
 * against the real engine and token.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatDuration, renderProgressBar } from '../../src/cli/progress.ts';
import type { sealDocument } from '../../src/engine/seal.ts';
import { SealdError } from '../../src/errors.ts';
import { run } from '../support/run.ts';
import { startBatchHarness, type BatchHarness } from '../server/batch-harness.ts';
import { FAKE_REVISION, fakeSealDocument } from '../server/harness.ts';

const BIN = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));

let h: BatchHarness;
let dir: string;
let inDir: string;
let outDir: string;
const sealed: string[] = [];

/** Stand-in engine: records which documents it sealed; refuses those whose first line says BAD. */
const engine: typeof sealDocument = async (source, seal, placement, options) => {
  const head = Buffer.from(source.read(0, 32)).toString('latin1');
  if (head.includes('BAD')) throw new SealdError('invalid-input', 'PDF_MALFORMED', 'the document is not a readable PDF');
  sealed.push(head.split('\n')[0]!);
  return fakeSealDocument()(source, seal, placement, options);
};

beforeAll(async () => {
  h = await startBatchHarness({ sealDocument: engine });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-batch-cli-'));
  inDir = path.join(dir, 'in');
  outDir = path.join(dir, 'out');
  fs.mkdirSync(inDir);
  sealed.length = 0;
  return () => fs.rmSync(dir, { recursive: true, force: true });
});

function writeInput(name: string, tag: string, size = 30_000): Buffer {
  const bytes = Buffer.alloc(size, 0x20);
  bytes.write(`%PDF-1.7 ${tag}\n`);
  fs.writeFileSync(path.join(inDir, name), bytes);
  return bytes;
}

function seald(args: string[]) {
  return run(process.execPath, [BIN, ...args], { env: { ...process.env, SEALD_SERVER: '' } });
}

const common = () => ['-o', outDir, '--seal', 'org', '--page', '1', '--x', '100', '--y', '100', '--server', h.server.address];

function report() {
  return JSON.parse(fs.readFileSync(path.join(outDir, 'seald-batch-report.json'), 'utf8'));
}

describe('seald batch', () => {
  it('seals a directory: outputs, a JSON report of every document, progress lines, exit 3 when one failed', async () => {
    const good = ['a.pdf', 'b.PDF', 'c.pdf', 'd.pdf'].map((name, i) => [name, writeInput(name, `good${i}`, 20_000 + i * 300_000)] as const);
    writeInput('broken.pdf', 'BAD');
    fs.writeFileSync(path.join(inDir, 'notes.txt'), 'not a pdf name: ignored');
    const result = await seald(['batch', inDir, ...common(), '--concurrency', '2']);
    expect(result.code).toBe(3);
    for (const [name, bytes] of good) {
      expect(fs.readFileSync(path.join(outDir, name)).equals(Buffer.concat([bytes, FAKE_REVISION]))).toBe(true);
    }
    expect(fs.existsSync(path.join(outDir, 'broken.pdf'))).toBe(false);
    expect(fs.readdirSync(outDir).sort()).toEqual(['a.pdf', 'b.PDF', 'c.pdf', 'd.pdf', 'seald-batch-report.json']);

    const r = report();
    expect(r.totals).toMatchObject({ documents: 5, sealed: 4, skipped: 0, failed: 1, notRun: 0 });
    const broken = r.documents.find((d: { input: string }) => d.input.endsWith('broken.pdf'));
    expect(broken).toMatchObject({ status: 'failed', error: { status: 'INVALID_ARGUMENT', code: 'PDF_MALFORMED' } });
    const a = r.documents.find((d: { input: string }) => d.input.endsWith('a.pdf'));
    expect(a).toMatchObject({ status: 'sealed', fieldName: 'Seal1', revision: 2, outputBytes: 20_000 + FAKE_REVISION.length });

    const stderr = result.stderr;
    expect(stderr).toContain('sealing 5 documents');
    expect(stderr).toMatch(/\[\d\/5\] sealed a\.pdf/);
    expect(stderr).toMatch(/\[\d\/5\] failed broken\.pdf: INVALID_ARGUMENT PDF_MALFORMED/);
    expect(result.stdout.toString()).toMatch(/^4 sealed, 0 skipped, 1 failed of 5 documents/);
  });

  it('resumes: a re-run skips what is in OUT_DIR and seals only what is missing', async () => {
    writeInput('one.pdf', 'one');
    writeInput('two.pdf', 'two');
    expect((await seald(['batch', inDir, ...common()])).code).toBe(0);
    expect(sealed.sort()).toEqual(['%PDF-1.7 one', '%PDF-1.7 two']);

    sealed.length = 0;
    writeInput('three.pdf', 'three');
    fs.rmSync(path.join(outDir, 'two.pdf'));
    const rerun = await seald(['batch', inDir, ...common(), '--json']);
    expect(rerun.code).toBe(0);
    // two.pdf was sealed before with the same bytes and id: the server answers it from its idempotency store.
    expect(sealed).toEqual(['%PDF-1.7 three']);
    const r = JSON.parse(rerun.stdout.toString());
    expect(r.totals).toMatchObject({ documents: 3, sealed: 1, replayed: 1, skipped: 1, failed: 0 });
    expect(fs.existsSync(path.join(outDir, 'two.pdf'))).toBe(true);
    expect(fs.readdirSync(outDir).filter((n) => n.endsWith('.part'))).toEqual([]);

    // Everything done: a third run needs no server at all.
    const nothingLeft = await seald(['batch', inDir, ...common().slice(0, -1), '127.0.0.1:1']);
    expect(nothingLeft.code).toBe(0);
    expect(report().totals).toMatchObject({ documents: 3, skipped: 3 });
  });

  it('server unreachable: exit 1, every document "not-run" in the report', async () => {
    writeInput('x.pdf', 'x');
    const result = await seald(['batch', inDir, ...common().slice(0, -1), '127.0.0.1:1', '--retries', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the batch stopped: UNAVAILABLE/);
    expect(report().totals).toMatchObject({ documents: 1, notRun: 1 });
  });

  it('retries what the server could not take for now, and then succeeds', async () => {
    writeInput('later-1.pdf', 'later-1');
    writeInput('later-2.pdf', 'later-2');
    h.available.delete('org'); // the seal's token is not ready: SEAL_UNAVAILABLE for every document
    const refusedBefore = h.logs.filter((l) => l.includes('"SEAL_UNAVAILABLE"')).length;
    const running = seald(['batch', inDir, ...common()]);
    // The token comes back once the server has refused both documents once.
    while (h.logs.filter((l) => l.includes('"SEAL_UNAVAILABLE"')).length < refusedBefore + 2) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    h.available.add('org');
    const result = await running;
    expect([result.code, result.stderr]).toEqual([0, expect.stringMatching(/2 document\(s\) not taken .*retrying in 1 s \(1\/3\)/)]);
    expect(report().totals).toMatchObject({ documents: 2, sealed: 2, failed: 0 });
    expect(sealed.sort()).toEqual(['%PDF-1.7 later-1', '%PDF-1.7 later-2']);
    // The report says what was retried: each document was sent twice, after one round and a 1 s pause.
    expect(report().retries).toEqual({ rounds: 1, pausedSeconds: 1, maxRounds: 3, budgetSeconds: 60, documents: 2 });
    expect(report().documents.map((d: { attempts: number }) => d.attempts)).toEqual([2, 2]);
    expect(result.stdout.toString()).toMatch(/^2 sealed, 0 skipped, 0 failed, 2 retried of 2 documents/);
  });

  it('retries within --retry-budget only: a seal that stays down leaves each document failed with its reason', async () => {
    writeInput('down-1.pdf', 'down-1');
    writeInput('down-2.pdf', 'down-2');
    h.available.delete('org');
    try {
      // 1 s fits in a budget of 2.5 s, 1 + 2 s does not: two attempts per document, then the reason.
      const result = await seald(['batch', inDir, ...common(), '--retry-budget', '2.5']);
      expect([result.code, result.stderr]).toEqual([3, expect.stringMatching(/not retried: the next pause \(2 s\) would exceed the retry budget of 2\.5 s/)]);
      const r = report();
      expect(r.totals).toMatchObject({ documents: 2, sealed: 0, failed: 2, notRun: 0 });
      expect(r.retries).toMatchObject({ rounds: 1, pausedSeconds: 1, documents: 2 });
      for (const d of r.documents) {
        expect(d).toMatchObject({ status: 'failed', attempts: 2, error: { status: 'UNAVAILABLE', code: 'SEAL_UNAVAILABLE' } });
      }
    } finally {
      h.available.add('org');
    }
  });

  it('follows symbolic links to regular files; names every other *.pdf entry it ignores, and why', async () => {
    const elsewhere = path.join(dir, 'elsewhere');
    fs.mkdirSync(elsewhere);
    const bytes = Buffer.alloc(25_000, 0x20);
    bytes.write('%PDF-1.7 linked\n');
    fs.writeFileSync(path.join(elsewhere, 'real.pdf'), bytes);
    fs.symlinkSync(path.join(elsewhere, 'real.pdf'), path.join(inDir, 'linked.pdf'));
    fs.symlinkSync(path.join(elsewhere, 'gone.pdf'), path.join(inDir, 'broken.pdf'));
    fs.mkdirSync(path.join(inDir, 'folder.pdf'));
    const result = await seald(['batch', inDir, ...common()]);
    expect(result.code).toBe(0);
    expect(fs.readFileSync(path.join(outDir, 'linked.pdf')).equals(Buffer.concat([bytes, FAKE_REVISION]))).toBe(true);
    expect(result.stderr).toContain('broken.pdf: ignored: a link to nothing (broken symbolic link)');
    expect(result.stderr).toContain('folder.pdf: ignored: a directory');
    const r = report();
    expect(r.totals).toMatchObject({ documents: 1, sealed: 1 });
    expect(r.ignored).toEqual([
      { name: 'broken.pdf', reason: 'a link to nothing (broken symbolic link)' },
      { name: 'folder.pdf', reason: 'a directory' },
    ]);
  });

  it('a directory with nothing to seal: exit 1 and says so', async () => {
    fs.writeFileSync(path.join(inDir, 'notes.txt'), 'no pdf here');
    const result = await seald(['batch', inDir, ...common()]);
    expect([result.code, result.stderr]).toEqual([1, expect.stringContaining('nothing to seal: no PDF file')]);
  });

  it('retries after the server was unreachable, once it is back', async () => {
    writeInput('first.pdf', 'first');
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const args = [BIN, 'batch', inDir, ...common().slice(0, -1), `127.0.0.1:${port}`];
    const child = spawn(process.execPath, args, { env: { ...process.env, SEALD_SERVER: '' } });
    let stderr = '';
    let late: BatchHarness | undefined;
    const backUp = new Promise<void>((resolve) => {
      child.stderr.on('data', (data: Buffer) => {
        stderr += data.toString();
        // The first round failed: bring a server up on that address before the retry.
        if (late === undefined && stderr.includes('retrying in 1 s')) {
          void startBatchHarness({ sealDocument: engine, listen: `127.0.0.1:${port}` }).then((started) => {
            late = started;
            resolve();
          });
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    await backUp;
    await late?.close();
    expect([code, stderr]).toEqual([0, expect.stringMatching(/1 document\(s\) not taken \(UNAVAILABLE: .*\); retrying in 1 s/)]);
    expect(report().totals).toMatchObject({ documents: 1, sealed: 1 });
  });

  it('usage errors: exit 2', async () => {
    const noSeal = await seald(['batch', inDir, '-o', outDir, '--page', '1', '--x', '1', '--y', '1']);
    expect([noSeal.code, noSeal.stderr]).toEqual([2, expect.stringContaining('--seal is required')]);
    const same = await seald(['batch', inDir, ...common().map((a) => (a === outDir ? inDir : a))]);
    expect([same.code, same.stderr]).toEqual([2, expect.stringContaining('must not be the input directory')]);
    const badConcurrency = await seald(['batch', inDir, ...common(), '--concurrency', '0']);
    expect(badConcurrency.code).toBe(2);
  });
});

describe('progress bar', () => {
  it('shows documents, MB/s, ETA and failures', () => {
    const line = renderProgressBar(
      { done: 45, total: 100, failed: 2, bytesDone: 25e6, bytesTotal: 100e6, elapsedSeconds: 2 },
      10,
    );
    expect(line).toBe('[###-------] 45/100 docs  12.5 MB/s  ETA 0:06  2 failed');
    expect(renderProgressBar({ done: 0, total: 3, failed: 0, bytesDone: 0, bytesTotal: 9, elapsedSeconds: 0 }, 4)).toBe(
      '[----] 0/3 docs  0.0 MB/s  ETA --:--  0 failed',
    );
    expect(formatDuration(3725)).toBe('1:02:05');
  });
});
