/**
 * `--pin-file FILE` / `--pin-stdin`: the seal holder's PIN for signature activation (sole control), for seals that
 * require it (ListSeals). Read from a file or standard input so it never appears in a process list or shell history;
 * one trailing newline dropped; sent in the request's activation field (the server refuses it over plaintext unless
 * configured for development) and never printed. The Buffer is the caller's to zero once the request is done.
 */
import * as fs from 'node:fs';
import { UsageError, type CliIo } from './io.ts';

export const PIN_OPTIONS = {
  'pin-file': { type: 'string' },
  'pin-stdin': { type: 'boolean', default: false },
} as const;

const MAX_PIN_BYTES = 1024;

/** The PIN the options name, or undefined when neither is given. */
export async function activationPin(
  values: { 'pin-file'?: string | boolean | string[] | undefined; 'pin-stdin'?: boolean | string | string[] | undefined },
  io: CliIo,
  command: string,
): Promise<Buffer | undefined> {
  const file = values['pin-file'];
  const fromStdin = values['pin-stdin'] === true;
  if (file !== undefined && fromStdin) throw new UsageError('give --pin-file or --pin-stdin, not both', command);
  let raw: Buffer;
  if (file !== undefined) {
    if (typeof file !== 'string' || file === '') throw new UsageError('--pin-file: expected a file name', command);
    try {
      raw = await fs.promises.readFile(file);
    } catch {
      throw new UsageError(`--pin-file: cannot read ${file}`, command);
    }
  } else if (fromStdin) {
    const stdin = io.stdin;
    if (stdin === undefined) throw new UsageError('--pin-stdin: no standard input', command);
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    raw = Buffer.concat(chunks);
    for (const chunk of chunks) chunk.fill(0);
  } else {
    return undefined;
  }
  let end = raw.length;
  if (end > 0 && raw[end - 1] === 0x0a) end--;
  if (end > 0 && raw[end - 1] === 0x0d) end--;
  if (end === 0 || end > MAX_PIN_BYTES) {
    raw.fill(0);
    throw new UsageError(end === 0 ? 'the PIN is empty' : `the PIN is longer than ${MAX_PIN_BYTES} bytes`, command);
  }
  const pin = Buffer.from(raw.subarray(0, end));
  raw.fill(0);
  return pin;
}
