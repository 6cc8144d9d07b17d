/**
 * seald on a remote PKCS#11 module against the same token reached directly (issue 21 item 4).
 *
 *   npx tsx bench/remote-module.ts [--rounds 3] [--concurrency 8] [--only direct|remote] [--spy] [--profile]
 *                                  [--sessions N] [--uv N] [--verbose]
 *
 * The bench token (bench/token.ts) is served by `p11-kit server` over a Unix socket (test/pool/p11-kit-remote.ts) and
 * a second `seald serve` loads p11-kit-client.so with P11_KIT_SERVER_ADDRESS; both servers get the same
 * configuration otherwise (bench/out/data/seald-remote.yaml beside the bench's own), idempotency off. Each round runs
 * the `seald batch` CLI over the bench corpus (76 documents) against each server, start-up of the CLI included, as
 * the issue's figures were taken. --sessions sets the remote token's session count, --uv the servers'
 * UV_THREADPOOL_SIZE, --profile writes V8 CPU profiles to bench/out/profile-remote/ (read them with bench/profile.ts).
 *
 * --spy loads the remote module through OpenSC's pkcs11-spy.so (PKCS11SPY=p11-kit-client.so) and prints how many
 * times each PKCS#11 function ran per sealed document: an independent count of what seald asks of the module.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { DEFAULT_CORPUS, DEFAULT_CORPUS_DIR, ensureCorpus } from './corpus.ts';
import { SealdServerProcess } from './seald-server.ts';
import { BENCH_SEAL_ID, ensureBenchKey } from './token.ts';
import { P11_KIT_CLIENT_MODULE, P11KitServer } from '../test/pool/p11-kit-remote.ts';

const run = promisify(execFile);
const SPY_MODULE = '/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so';
const OUT = path.join(path.dirname(new URL(import.meta.url).pathname), 'out');
const ROOT = path.resolve(OUT, '..', '..');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    spy: { type: 'boolean', default: false },
    only: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    sessions: { type: 'string' },
    uv: { type: 'string' },
  },
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The bench's seald.yaml with another module and environment (the rest, seals included, unchanged). */
async function configFor(base: string, module: string, env: Record<string, string>, sessions: string | undefined): Promise<string> {
  let yaml = await readFile(base, 'utf8');
  if (sessions !== undefined) yaml = yaml.replace(/^(\s*)pin: \{ file: token.pin \}$/m, `$1pin: { file: token.pin }\n$1sessions: ${sessions}`);
  const envLine = `  env: { ${Object.entries(env).map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  const rewritten = yaml.replace(/^(\s*)module: .*$/m, `$1module: ${module}`).replace(/^\s*env: \{ SOFTHSM2_CONF: .*\}.*$/m, envLine);
  // Beside the base file: its relative paths (PIN file, chains, images, anchors) resolve the same.
  const file = path.join(path.dirname(base), 'seald-remote.yaml');
  await writeFile(file, rewritten);
  return file;
}

async function batchOnce(server: SealdServerProcess, outDir: string, concurrency: number): Promise<number> {
  await rm(outDir, { recursive: true, force: true });
  const started = performance.now();
  const { stdout } = await run(
    process.execPath,
    [path.join(ROOT, 'bin', 'seald.mjs'), 'batch', DEFAULT_CORPUS_DIR, '-o', outDir, '--seal', BENCH_SEAL_ID, '--page', '1', '--x', '400', '--y', '90',
      '--concurrency', String(concurrency), '--progress', 'none', '--server', server.address],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  if (values.verbose) console.log(stdout.trim());
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const rounds = Number(values.rounds);
  const concurrency = Number(values.concurrency);
  const files = await ensureCorpus(DEFAULT_CORPUS_DIR, DEFAULT_CORPUS);
  const key = await ensureBenchKey(OUT);
  const work = await mkdtemp(path.join(tmpdir(), 'seald-remote-bench-'));
  const remote = await P11KitServer.start(work, key.softhsmConf);
  const spyLog = path.join(work, 'spy.log');
  const remoteModule = values.spy ? SPY_MODULE : P11_KIT_CLIENT_MODULE;
  const remoteEnv: Record<string, string> = { ...remote.clientEnv, ...(values.spy ? { PKCS11SPY: P11_KIT_CLIENT_MODULE, PKCS11SPY_OUTPUT: spyLog } : {}) };
  const setups = [
    { name: 'direct', config: key.configPath, env: {} as Record<string, string> },
    { name: 'remote', config: await configFor(key.configPath, remoteModule, remoteEnv, values.sessions), env: remoteEnv },
  ].filter((s) => values.only === undefined || s.name === values.only);
  console.log(`corpus ${files.length} documents, ${rounds} rounds, concurrency ${concurrency}, load ${(await readFile('/proc/loadavg', 'utf8')).trim()}`);
  try {
    const seconds = new Map<string, number[]>();
    for (const setup of setups) {
      // Idempotency off: `seald batch` names documents by file name, and every round must seal them again.
      const server = await SealdServerProcess.start({ root: ROOT, configPath: setup.config, ...(values.profile ? { cpuProfDir: path.join(OUT, 'profile-remote', setup.name) } : {}), env: { ...setup.env, SEALD_IDEMPOTENCY_WINDOW_SECONDS: '0', ...(values.uv === undefined ? {} : { UV_THREADPOOL_SIZE: values.uv }) } });
      try {
        for (let round = 0; round < rounds; round++) {
          const s = await batchOnce(server, path.join(work, `out-${setup.name}`), concurrency);
          seconds.set(setup.name, [...(seconds.get(setup.name) ?? []), s]);
          console.log(`${setup.name} round ${round + 1}: ${s.toFixed(2)} s`);
        }
      } finally {
        await server.stop();
      }
      if (values.spy && setup.name === 'remote') {
        const counts = new Map<string, number>();
        for (const m of (await readFile(spyLog, 'utf8')).matchAll(/^\d+: (C_\w+)/gm)) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
        const docs = files.length * rounds;
        console.log(`PKCS#11 calls per sealed document through the remote module (${docs} documents, start-up included):`);
        for (const [fn, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${fn.padEnd(22)} ${(n / docs).toFixed(2)}  (${n})`);
      }
    }
    const d = seconds.get('direct');
    const r = seconds.get('remote');
    if (d && r) console.log(`median direct ${median(d).toFixed(2)} s, remote ${median(r).toFixed(2)} s: remote throughput ${((median(d) / median(r)) * 100).toFixed(0)}% of direct`);
  } finally {
    await remote.stop();
    if (values.spy) await run('cp', [spyLog, path.join(OUT, 'spy.log')]);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
