/**
 * `seald audit verify FILE|DIR…`: check an audit log's hash chain offline (no server needed).
 * Exit 0: the chain is whole; 1: a record was edited, inserted or deleted (the first bad line is named);
 * 3: the chain is whole but the last line was torn by a crash (that record was never acknowledged).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { listAuditFiles } from '../../audit/files.ts';
import { verifyAuditFiles } from '../../audit/verify.ts';
import { EXIT_FAILURE, UsageError, type CliIo } from '../io.ts';

export const EXIT_TORN = 3;

export async function auditCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  const [action, ...targets] = positionals;
  if (action !== 'verify') throw new UsageError(action === undefined ? 'missing action: verify' : `unknown action "${action}"`, 'audit');
  if (targets.length === 0) throw new UsageError('name an audit file or directory', 'audit');
  const files = targets.flatMap((target) => (isDirectory(target) ? listAuditFiles(target) : [path.resolve(target)]));
  if (files.length === 0) throw new UsageError(`no audit files in ${targets.join(', ')}`, 'audit');
  const report = verifyAuditFiles(files);
  if (values.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const warning of report.warnings) io.stderr(`seald: warning: ${warning.file}: ${warning.message}\n`);
    if (report.problem !== undefined) {
      const what = report.status === 'torn' ? 'audit log ends with a torn line' : 'audit chain broken';
      io.stderr(`seald: ${what}: ${report.problem.file}: ${report.problem.message}\n`);
    }
    if (report.status !== 'tampered') {
      const head = report.head === undefined ? 'no records' : `head seq ${report.head.seq} sha256 ${report.head.hash}`;
      const from = report.firstSeq !== undefined && report.firstSeq !== 1 ? ` (from seq ${report.firstSeq}: earlier files not given)` : '';
      io.stdout(`${report.status === 'ok' ? 'ok' : 'whole up to the torn line'}: ${report.records} records in ${files.length} file${files.length === 1 ? '' : 's'}${from}, ${head}\n`);
    }
  }
  return report.status === 'ok' ? 0 : report.status === 'torn' ? EXIT_TORN : EXIT_FAILURE;
}

function isDirectory(target: string): boolean {
  try {
    return fs.statSync(target).isDirectory();
  } catch {
    return false;
  }
}
