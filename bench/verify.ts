/**
 * Every output a runner wrote is checked by poppler's pdfsig, independently of the signer: the newest signature
 * must be "Signature is Valid." and cover the whole document ("Total document signed"). pdfsig checks integrity and
 * coverage only (NOTES.md), which is what a throughput comparison needs to know: that the work was really done.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { forEachConcurrent } from './measure.ts';

export interface VerifyResult {
  checked: number;
  invalid: number;
  /** First few problems: file and pdfsig's words. */
  examples: string[];
}

function pdfsig(file: string, nssDir: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('pdfsig', ['-nssdir', nssDir, '-nocert', file], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout });
    });
  });
}

/** The verdict on the last signature pdfsig lists (the one this runner added). */
export function lastSignatureVerdict(stdout: string): { valid: boolean; whole: boolean; text: string } {
  const blocks = stdout.split(/^Signature #\d+:/m);
  const last = blocks.length > 1 ? blocks[blocks.length - 1]! : '';
  const validation = /Signature Validation:\s*(.*)/.exec(last)?.[1]?.trim() ?? 'no signature';
  return { valid: validation === 'Signature is Valid.', whole: /Total document signed/.test(last) && !/Not total document signed/.test(last), text: validation };
}

export async function verifyOutputs(files: readonly string[], nssDir: string): Promise<VerifyResult> {
  let invalid = 0;
  const examples: string[] = [];
  await forEachConcurrent(files, 2, async (file) => {
    const { stdout } = await pdfsig(file, nssDir);
    const verdict = lastSignatureVerdict(stdout);
    if (!verdict.valid || !verdict.whole) {
      invalid++;
      if (examples.length < 3) examples.push(`${path.basename(file)}: ${verdict.valid ? 'not the whole document signed' : verdict.text}`);
    }
  });
  return { checked: files.length, invalid, examples };
}
