/**
 * `seald serve` as a separate process, the way a replica runs: spawned through bin/seald.mjs, its JSON log lines
 * collected, its gRPC and metrics addresses read from the "seald listening" line, its /metrics scraped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/seald.mjs', import.meta.url));

export interface ServeProcess {
  readonly child: ChildProcess;
  /** 127.0.0.1:port of the gRPC listener. */
  readonly address: string;
  readonly metricsPort: number;
  /** Every JSON log line so far, parsed. */
  readonly logs: LogEntry[];
  /** The same lines as the server wrote them. */
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  stderr(): string;
  /** Send SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

export interface LogEntry {
  msg: string;
  requestId?: string;
  [key: string]: unknown;
}

export function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  return startNode([BIN, 'serve', '--listen', '127.0.0.1:0', '--metrics', '127.0.0.1:0', ...args], env);
}

/** `node ARGV…` as a server process (e.g. a container's ENTRYPOINT with its node flags), until "seald listening". */
export async function startNode(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, SEALD_CONFIG: '', SEALD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogEntry[] = [];
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = await new Promise<LogEntry>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.split('\n');
      buffered = complete.pop()!;
      for (const line of complete) {
        lines.push(line);
        const entry = JSON.parse(line) as LogEntry;
        logs.push(entry);
        if (entry.msg === 'seald listening') resolve(entry);
      }
    });
    void exited.then((code) => reject(new Error(`seald serve exited early (${code}): ${stderr}`)));
  });
  return {
    child,
    address: listening.address as string,
    metricsPort: listening.metrics as number,
    logs,
    lines,
    exited,
    stderr: () => stderr,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** One sample of a metric without labels (e.g. seald_inflight_documents) from a /metrics page. */
export async function scrapeGauge(metricsPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${name} not in /metrics`);
  return Number(line.slice(name.length + 1));
}
