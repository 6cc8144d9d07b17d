/** Run the openssl CLI: the independent implementation the crypto tests check seald's output against. */
import { spawn } from 'node:child_process';

export interface OpensslResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export function openssl(args: string[], input?: Uint8Array): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code: code ?? -1, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
    child.stdin.end(input === undefined ? undefined : Buffer.from(input));
  });
}

/** openssl, failing the test with its stderr when it exits non-zero. */
export async function opensslOk(args: string[], input?: Uint8Array): Promise<OpensslResult> {
  const result = await openssl(args, input);
  if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result;
}
