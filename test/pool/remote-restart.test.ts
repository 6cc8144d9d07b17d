/**
 * The remote HSM killed and restarted mid-batch (issue 21 item 5): a real seald server whose tokens are reached through
 * p11-kit's client module (SoftHSM behind `p11-kit server`, p11-kit-remote.ts), the `seald batch` CLI over 30
 * documents, and the p11-kit server SIGKILLed with its per-connection children after a few signs, then started again
 * on the same socket.
 *
 * Every document must end sealed exactly once (one signature, pdfsig valid) or failed with its reason; none silently
 * not run; the CLI's retry rounds (UNAVAILABLE, with back-off) seal the rest once the server is back; and the server's
 * event loop keeps turning throughout — before the sign moved to the module's thread (module-thread.ts), the main
 * thread could hang for good in a synchronous C_SignInit on the dead connection.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paddedPdf, startService, type ServiceSetup } from './service-setup.ts';
import { isPrefix, pdfsig } from '../support/tools.ts';

const DOCUMENTS = 30;

let svc: ServiceSetup;
let dir: string;

beforeAll(async () => {
  svc = await startService({}, 'p11-kit');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-remote-restart-'));
}, 120_000);

afterAll(async () => {
  if (svc !== undefined) {
    const { injector } = svc;
    await svc.close();
    expect(injector.violations).toEqual([]);
  }
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

/** The longest gap between two turns of this process's event loop while `work` runs (a 20 ms heartbeat). */
async function longestStall<T>(work: Promise<T>): Promise<{ value: T; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const beat = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 20);
  try {
    return { value: await work, stallMs };
  } finally {
    clearInterval(beat);
  }
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the remote HSM (p11-kit server) killed and restarted mid-batch', () => {
  it('every document sealed exactly once or failed with its reason; the CLI retries seal the rest; the loop never stalls', async () => {
    const remote = svc.remote!;
    const inDir = path.join(dir, 'in');
    const outDir = path.join(dir, 'out');
    fs.mkdirSync(inDir);
    for (let i = 0; i < DOCUMENTS; i++) {
      fs.writeFileSync(path.join(inDir, `doc-${String(i).padStart(2, '0')}.pdf`), await paddedPdf(20_000 + i * 1000));
    }
    const { injector } = svc;
    const signsBefore = injector.count('C_Sign');

    // The outage: SIGKILL the server and its children after 5 signs; 1.5 s later start it again on the same socket.
    let killedAt = 0;
    let restartedAt = 0;
    const outage = (async () => {
      while (injector.count('C_Sign') - signsBefore < 5) await new Promise((resolve) => setTimeout(resolve, 5));
      await remote.kill();
      killedAt = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await remote.restart();
      restartedAt = performance.now();
    })();
    const { value: result, stallMs } = await longestStall(
      runCli([
        'batch', inDir, '-o', outDir, '--seal', 'org', '--page', '1', '--x', '200', '--y', '300', '--concurrency', '4',
        '--progress', 'none', '--server', svc.server.address,
      ]),
    );
    await outage;
    console.info(`[remote restart] CLI exit ${result.code}; server loop's longest stall ${stallMs.toFixed(0)} ms; ` +
      `outage ${((restartedAt - killedAt) / 1000).toFixed(1)} s; stderr: ${result.stderr.trim().split('\n').slice(-4).join(' | ')}`);
    expect(killedAt).toBeGreaterThan(0);
    // The server saw the outage: tokens down, the module re-initialised once the remote side was back, tokens recovered.
    const messages = svc.logs.map((l) => (JSON.parse(l) as { msg: string }).msg);
    for (const msg of ['token down: signs go to replicas; probing it with back-off', 'PKCS#11 module re-initialised', 'token recovered: taking signs again']) {
      expect(messages).toContain(msg);
    }

    const report = JSON.parse(fs.readFileSync(path.join(outDir, 'seald-batch-report.json'), 'utf8')) as {
      totals: Record<string, number>;
      retries: { rounds: number; documents: number };
      documents: { input: string; output: string; status: string; attempts: number; error?: { status: string; code: string; message: string } }[];
    };
    expect(report.totals.documents).toBe(DOCUMENTS);
    expect(report.documents).toHaveLength(DOCUMENTS);
    console.info(`[remote restart] retry rounds ${report.retries.rounds}, documents retried ${report.retries.documents}; attempts ${report.documents.map((d) => d.attempts).join(',')}`);
    // None silently not run, and the kill made some documents fail (UNAVAILABLE, with the token's reason); the CLI's
    // retry rounds sealed them once the server was back.
    expect(report.documents.map((d) => d.status).filter((s) => s !== 'sealed')).toEqual([]);
    expect(report.retries.rounds).toBeGreaterThanOrEqual(1);
    expect(report.retries.documents).toBeGreaterThanOrEqual(1);
    expect([result.code, report.totals.sealed]).toEqual([0, DOCUMENTS]);
    // Sealed exactly once: one signature per output, valid per pdfsig, the input its prefix.
    for (const doc of report.documents) {
      const output = path.join(outDir, path.basename(doc.output));
      expect(await isPrefix(path.join(inDir, path.basename(doc.input)), output)).toBe(true);
      const check = await pdfsig(output, { trustCaPems: [svc.caPem] });
      expect([doc.input, check.signatures.length, check.signatures[0]?.validationText]).toEqual([doc.input, 1, 'Signature is Valid.']);
    }
    // The server's loop kept turning: no PKCS#11 call blocked it for longer than one bounded synchronous call.
    expect(stallMs).toBeLessThan(5000);
  }, 240_000);
});
