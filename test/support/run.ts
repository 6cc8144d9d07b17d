/**
 * Runs an external program (qpdf, poppler, openssl, NSS tools) and collects what it printed. A non-zero exit is a
 * result, not an error: the wrappers decide what an exit code means. Only a program that cannot start rejects.
 */
import { spawn } from 'node:child_process';
import { TEST_TOOLS } from '../../scripts/test-tools.mjs';

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  input?: Uint8Array;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Debian packages that provide each program, named in the error when one is missing (the one list of them). */
const PACKAGE_OF: Record<string, string> = Object.fromEntries(
  TEST_TOOLS.flatMap((tool) => tool.commands.map((command) => [command, tool.package])),
);

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (e: NodeJS.ErrnoException) => {
      const pkg = PACKAGE_OF[command];
      const hint = e.code === 'ENOENT' && pkg ? ` (install the Debian package ${pkg})` : '';
      reject(new Error(`cannot run ${command}${hint}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    if (options.input) child.stdin!.end(options.input);
  });
}

/** Like run, but a non-zero exit rejects with the program's own words. */
export async function runOk(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    const said = (result.stderr || result.stdout.toString('utf8')).trim().slice(0, 2000);
    throw new Error(`${command} ${args.join(' ')} exited with ${result.code}: ${said}`);
  }
  return result;
}
