/**
 * The server's log format: one readable line per record when `seald serve` writes to a terminal (run here under a
 * real pseudo-terminal, util-linux `script`), pino's JSON lines through a pipe or when asked for.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, formatRecord, prettyDestination } from '../../src/server/logger.ts';
import { BIN, startServe } from '../deploy/serve-process.ts';
import { run } from '../support/run.ts';

const ESCAPES = /\u001b\[[0-9;]*m/g;

let dataDir: string;
beforeAll(async () => {
  // One data dir for every server below: the first start provisions the demo token and seals, the others reuse them.
  dataDir = await mkdtemp(path.join(tmpdir(), 'seald-logger-test-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/**
 * `seald serve` with its stdout on a pseudo-terminal, until it logs "seald listening"; then SIGTERM to `script`, which
 * ends the server with it. Returns what the terminal received, CRs (the terminal's line discipline) removed.
 */
async function serveOnTerminal(extraArgs: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, BIN, 'serve', '--listen', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--data-dir', dataDir, ...extraArgs];
  const child = spawn('script', ['-qec', command.map(quote).join(' '), '/dev/null'], {
    env: { ...process.env, SEALD_CONFIG: '', SEALD_LOG_LEVEL: 'info', SEALD_LOG_FORMAT: '', NO_COLOR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('seald listening')) resolve();
    });
    void exited.then(() => reject(new Error(`seald serve ended before listening:\n${output}`)));
  });
  // Let the listening line's end reach us before stopping.
  while (!/seald listening[^\n]*\n/.test(output)) await new Promise((resolve) => setTimeout(resolve, 20));
  child.kill('SIGTERM');
  await exited;
  return output.replaceAll('\r', '');
}

describe('seald serve on a terminal', () => {
  it('writes one readable, coloured line per record', async () => {
    const output = await serveOnTerminal([]);
    expect(output).toMatch(ESCAPES);
    const lines = output.replace(ESCAPES, '').split('\n').filter((line) => line !== '');
    const listening = lines.find((line) => line.includes('seald listening'));
    expect(listening).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}seald listening address=127\.0\.0\.1:\d+ tls=off metrics=\d+ seals=\["org","personal","legal-rep"\] health=SERVING$/);
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(line, line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/);
  });

  it('writes JSON when asked, by flag or by environment', async () => {
    for (const [args, env] of [[['--log-format', 'json'], {}], [[], { SEALD_LOG_FORMAT: 'json' }]] as const) {
      const lines = (await serveOnTerminal([...args], env)).split('\n').filter((line) => line !== '');
      expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toContain('seald listening');
    }
  });

  it('has no colours with NO_COLOR set', async () => {
    const output = await serveOnTerminal([], { NO_COLOR: '1' });
    expect(output).not.toMatch(ESCAPES);
    expect(output).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}seald listening /m);
  });

  it('refuses a format it does not know', async () => {
    const result = await run(process.execPath, [BIN, 'serve', '--log-format', 'yaml', '--data-dir', dataDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--log-format: expected json or pretty, got "yaml"');
  });
});

describe('seald serve through a pipe', () => {
  it('writes pino JSON lines', async () => {
    const server = await startServe(['--data-dir', dataDir], { SEALD_LOG_FORMAT: '' });
    try {
      expect(server.lines.length).toBeGreaterThan(1);
      // startServe parses every line as JSON; check they are nothing else.
      for (const line of server.lines) expect(line).toMatch(/^\{"level":30,"time":\d+,.*\}$/);
      expect(server.logs.map((entry) => entry.msg)).toContain('seald listening');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe('the readable format', () => {
  function logged(write: (log: ReturnType<typeof createLogger>) => void): string {
    let text = '';
    write(createLogger('info', prettyDestination({ write: (line: string) => (text += line) }, false)));
    return text;
  }

  it('keeps the redaction, escapes terminal controls in callers\' text, and shows an error in one line', () => {
    const error = Object.assign(new TypeError('bad input'), { code: 'E_BAD' });
    const text = logged((log) => {
      log.info({ pin: '123456', pkcs11: { tokens: [{ pin: '654321' }] }, file: 'a b\u001b[31m.pdf', count: 3 }, 'opened\u001b]0;pwned\u0007');
      log.warn({ err: error, documentId: 'doc-1' }, 'failed');
    });
    const [first, second, rest] = text.split('\n');
    expect(first).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}opened\\u001b\]0;pwned\\u0007 pin=\[redacted\] pkcs11=\{"tokens":\[\{"pin":"\[redacted\]"\}\]\} file="a b\\u001b\[31m\.pdf" count=3$/);
    expect(second).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}failed err="TypeError E_BAD: bad input" documentId=doc-1$/);
    expect(rest).toBe('');
    expect(text).not.toMatch(/123456|654321|\u001b/);
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(formatRecord('not json', true)).toBe('not json\n');
    expect(formatRecord('{"level":50,"time":0,"msg":"x"}', true)).toMatch(/^\u001b\[2m\d\d:\d\d:00\.000\u001b\[0m \u001b\[31mERROR\u001b\[0m x\n$/);
  });
});
