/**
 * A real `seald serve` child process for the bench: started on a free port with the bench's configuration, polled
 * until it answers ListSeals, its peak RSS read from /proc/PID/status (VmHWM), stopped with SIGTERM (a graceful
 * shutdown, so `--cpu-prof` gets to write its profile).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { connect, listSeals } from '../src/cli/client.ts';
import { vmHwm, vmRss } from './measure.ts';
import { chooseEntry } from '../bin/build-info.mjs';

export interface ServerOptions {
  /** Checkout whose bin/seald.mjs runs (default: this one). */
  root: string;
  configPath: string;
  /** Directory for a V8 CPU profile (node --cpu-prof), or undefined. */
  cpuProfDir?: string;
  env?: Record<string, string>;
}

/**
 * The node flags the server runs with, as `npm start` gives them (package.json's start script, `node FLAGS… bin/seald.mjs
 * serve`; the container's ENTRYPOINT carries the same, a test holds them together). Read from the checkout that serves,
 * so `--seald-root` runs another branch with its own. Today a 4 MiB young generation: with V8's default the server's
 * peak RSS over the corpus was ~20 MiB higher at the same throughput (bench/README.md, session 5).
 */
export function serverNodeFlags(root: string): string[] {
  const start = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  const words = start.trim().split(/\s+/);
  const entry = words.indexOf('bin/seald.mjs');
  if (words[0] !== 'node' || entry < 0 || words.slice(entry).join(' ') !== 'bin/seald.mjs serve') throw new Error(`package.json start script is not "node [flags] bin/seald.mjs serve": ${start}`);
  return words.slice(1, entry);
}

export class SealdServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly address: string,
    private readonly stderrTail: () => string,
  ) {}

  static async start(options: ServerOptions): Promise<SealdServerProcess> {
    ensureCompiled(options.root);
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const nodeArgs = [...serverNodeFlags(options.root), ...(options.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir])];
    const child = spawn(
      process.execPath,
      [...nodeArgs, path.join(options.root, 'bin', 'seald.mjs'), 'serve', '--config', options.configPath, '--listen', address, '--metrics', 'off'],
      { cwd: options.root, env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
    const server = new SealdServerProcess(child, address, () => stderr);
    await server.waitReady();
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Peak resident set so far, bytes. */
  peakRss(): number {
    return vmHwm(this.pid) ?? Number.NaN;
  }

  rss(): number {
    return vmRss(this.pid) ?? Number.NaN;
  }

  private async waitReady(): Promise<void> {
    const client = connect(this.address);
    const deadline = Date.now() + 60_000;
    try {
      for (;;) {
        if (this.child.exitCode !== null) throw new Error(`seald serve exited (${this.child.exitCode}): ${this.stderrTail().trim()}`);
        try {
          await listSeals(client, { deadline: new Date(Date.now() + 1000) });
          return;
        } catch {
          if (Date.now() > deadline) throw new Error(`seald serve did not answer within 60 s: ${this.stderrTail().trim()}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    } finally {
      client.close();
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The bench measures seald as it ships: compiled (dist/). bin/seald.mjs falls back to the sources through tsx when
 * dist/ is not current, which costs ~35 MiB of RSS and start-up time: build first when needed.
 */
function ensureCompiled(root: string): void {
  if (process.env.SEALD_RUN_FROM_SOURCE === '1') return;
  const { entry, reason } = chooseEntry(root);
  if (entry === 'dist') return;
  console.error(`bench: ${reason}: building ${root} first (npm run build)`);
  const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) throw new Error(`npm run build failed in ${root}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
