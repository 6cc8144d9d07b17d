/**
 * `qpdf --check`: parses every object, decodes every stream and checks the cross-reference data. qpdf's exit codes:
 * 0 = no problem found, 2 = errors, 3 = warnings only (it recovered, e.g. by reconstructing a broken xref).
 * Most real viewers also recover from what makes qpdf warn, so a test that means "well-formed" wants `ok`, not "not
 * an error".
 */
import { run } from './run.ts';

export type QpdfCheckStatus = 'ok' | 'warnings' | 'errors';

export interface QpdfCheckResult {
  /** true only when qpdf found nothing to warn about (exit 0). */
  ok: boolean;
  status: QpdfCheckStatus;
  exitCode: number;
  /** stdout and stderr together, as qpdf printed them. */
  output: string;
}

export async function qpdfCheck(file: string, opts: { password?: string } = {}): Promise<QpdfCheckResult> {
  const args = ['--check'];
  if (opts.password !== undefined) args.push(`--password=${opts.password}`);
  args.push(file);
  const result = await run('qpdf', args);
  const status: QpdfCheckStatus = result.code === 0 ? 'ok' : result.code === 3 ? 'warnings' : 'errors';
  const output = (result.stdout.toString('utf8') + result.stderr).trim();
  return { ok: status === 'ok', status, exitCode: result.code, output };
}
