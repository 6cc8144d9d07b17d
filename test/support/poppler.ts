/** poppler's pdfinfo and pdftotext: what an ordinary reader sees in a document. */
import { run, runOk } from './run.ts';

export interface PasswordOptions {
  userPassword?: string;
  ownerPassword?: string;
}

function passwordArgs(opts: PasswordOptions): string[] {
  const args: string[] = [];
  if (opts.userPassword !== undefined) args.push('-upw', opts.userPassword);
  if (opts.ownerPassword !== undefined) args.push('-opw', opts.ownerPassword);
  return args;
}

export interface PdfInfo {
  pages: number;
  /** The "Encrypted:" line, e.g. "no" or "yes (print:yes copy:yes …)". */
  encrypted: string;
  pdfVersion: string;
  /** Every "Key: value" line. */
  fields: Record<string, string>;
  raw: string;
}

/** Rejects when poppler cannot open the file (damaged, wrong password). */
export async function pdfInfo(file: string, opts: PasswordOptions = {}): Promise<PdfInfo> {
  const { stdout } = await runOk('pdfinfo', [...passwordArgs(opts), file]);
  const raw = stdout.toString('utf8');
  const fields: Record<string, string> = {};
  for (const line of raw.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m) fields[m[1]!.trim()] = m[2]!.trim();
  }
  return {
    pages: Number(fields['Pages'] ?? NaN),
    encrypted: fields['Encrypted'] ?? '',
    pdfVersion: fields['PDF version'] ?? '',
    fields,
    raw,
  };
}

/** Text of one page (1-based) or of the whole document, in reading order (-layout off). */
export async function pdfText(file: string, opts: PasswordOptions & { page?: number } = {}): Promise<string> {
  const args = [...passwordArgs(opts), '-enc', 'UTF-8'];
  if (opts.page !== undefined) args.push('-f', String(opts.page), '-l', String(opts.page));
  const { stdout } = await runOk('pdftotext', [...args, file, '-']);
  return stdout.toString('utf8');
}

/** Whether poppler can open the file at all (with these passwords). */
export async function popplerOpens(file: string, opts: PasswordOptions = {}): Promise<boolean> {
  return (await run('pdfinfo', [...passwordArgs(opts), file])).code === 0;
}
