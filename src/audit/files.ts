/**
 * Audit file naming: `audit-<first seq, 12 digits>-<YYYYMMDD>-<attempt, 2 digits>.jsonl` in the audit directory, so
 * that sorting the names orders the files as the chain runs (sequence numbers never go back, even across days). The
 * attempt number only grows when a file with that first seq already exists: its only line was torn by a crash.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const NAME = /^audit-(\d{12})-(\d{8})-(\d{2})\.jsonl$/;

export function auditFileName(firstSeq: number, day: string, attempt = 0): string {
  return `audit-${String(firstSeq).padStart(12, '0')}-${day}-${String(attempt).padStart(2, '0')}.jsonl`;
}

/** The UTC day a file was started on. */
export function dayOfAuditFile(file: string): string | undefined {
  return NAME.exec(path.basename(file))?.[2];
}

/** `YYYYMMDD` of a date, UTC. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '');
}

/** The audit files of a directory, oldest first. */
export function listAuditFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => NAME.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}
