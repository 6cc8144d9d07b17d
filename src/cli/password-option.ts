/**
 * `--password-file FILE`: the password of an encrypted input document (ISO 32000-1 §7.6.3), read from a file so it
 * never appears in a process list or shell history. The file's content is the password, one trailing newline
 * dropped; it is sent in the request header and never printed.
 */
import * as fs from 'node:fs';
import { UsageError } from './io.ts';

export const PASSWORD_OPTION = { 'password-file': { type: 'string' } } as const;

/** The password the options name, or '' (the empty password, which opens documents encrypted only for permissions). */
export async function documentPassword(values: { 'password-file'?: string | boolean | string[] | undefined }, command: string): Promise<string> {
  const file = values['password-file'];
  if (file === undefined) return '';
  if (typeof file !== 'string' || file === '') throw new UsageError('--password-file: expected a file name', command);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    throw new UsageError(`--password-file: cannot read ${file}`, command);
  }
  return text.replace(/\r?\n$/, '');
}
