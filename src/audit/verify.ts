/**
 * Checks an audit chain: every line parses, `seq` counts up by one, and every `prev` is the SHA-256 of the line
 * before it (across files, in order). It names the first bad line. A last line without its newline is a write cut
 * short by a crash (the record was never acknowledged: callers get their answer only after fdatasync), and is
 * reported as `torn`, apart from tampering. When the log was reopened after such a crash, the torn line stays in the
 * older file as evidence and the next file continues the chain from the last whole record: that is a warning.
 *
 * A chain proves order and completeness up to its head; an edit of the very last record can only be caught against
 * a copy of the head hash kept elsewhere (the verifier prints it for that purpose).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GENESIS, lineHash, type AuditRecord } from './record.ts';

export type ChainStatus = 'ok' | 'tampered' | 'torn';

export interface ChainProblem {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  message: string;
}

export interface ChainReport {
  status: ChainStatus;
  records: number;
  /** The first problem (tampered or torn); undefined when ok. */
  problem?: ChainProblem;
  warnings: ChainProblem[];
  /** The last whole record: keep its hash elsewhere to detect an edit of the newest record later. */
  head?: { seq: number; hash: string };
  /** seq of the first record checked (1 when the chain starts at its genesis). */
  firstSeq?: number;
}

export function verifyAuditFiles(files: readonly string[]): ChainReport {
  const report: ChainReport = { status: 'ok', records: 0, warnings: [] };
  let prev: string | undefined;
  let expectedSeq: number | undefined;
  for (let f = 0; f < files.length; f++) {
    const file = files[f]!;
    const bytes = fs.readFileSync(file);
    const lines = splitLines(bytes);
    for (let i = 0; i < lines.complete.length; i++) {
      const line = lines.complete[i]!;
      const at = { file, line: i + 1 };
      const record = parseRecord(line);
      if (record === undefined) return fail(report, 'tampered', { ...at, message: `line ${i + 1}: not a valid audit record` });
      if (expectedSeq === undefined) {
        report.firstSeq = record.seq;
        if (record.prev === GENESIS && record.seq !== 1) {
          return fail(report, 'tampered', { ...at, message: `line ${i + 1}: the chain starts at seq ${record.seq}, not 1` });
        }
      } else if (record.seq > expectedSeq) {
        const missing = record.seq - expectedSeq;
        return fail(report, 'tampered', {
          ...at,
          message: `line ${i + 1}: ${missing} record${missing === 1 ? ' is' : 's are'} missing before this line (seq ${expectedSeq}${missing === 1 ? '' : `..${record.seq - 1}`} deleted)`,
        });
      } else if (record.seq < expectedSeq) {
        return fail(report, 'tampered', {
          ...at,
          message: `line ${i + 1}: seq ${record.seq} goes back (expected ${expectedSeq}): a record was inserted or duplicated`,
        });
      } else if (record.prev !== prev) {
        // seq is right but the link is not: the record before was changed (or this one's prev was).
        const before = i > 0 ? { file, line: i } : { file: files[f - 1]!, line: -1 };
        const where = i > 0 ? `line ${i}` : `the last record of ${path.basename(before.file)}`;
        return fail(report, 'tampered', {
          file: before.line > 0 ? file : before.file,
          line: before.line > 0 ? before.line : i + 1,
          message: `${where}: record edited (its SHA-256 does not match the prev of the record after it)`,
        });
      }
      prev = lineHash(line);
      expectedSeq = record.seq + 1;
      report.records++;
      report.head = { seq: record.seq, hash: prev };
    }
    if (lines.torn !== undefined) {
      const problem = {
        file,
        line: lines.complete.length + 1,
        message: `line ${lines.complete.length + 1}: torn final line (${lines.torn.length} bytes without a newline: a write cut short by a crash, never acknowledged)`,
      };
      if (f === files.length - 1) return fail(report, 'torn', problem);
      report.warnings.push({ ...problem, message: `${problem.message}; the next file continues the chain` });
    }
  }
  return report;
}

function fail(report: ChainReport, status: ChainStatus, problem: ChainProblem): ChainReport {
  return { ...report, status, problem };
}

function splitLines(bytes: Buffer): { complete: Buffer[]; torn?: Buffer } {
  const complete: Buffer[] = [];
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(0x0a, start);
    if (end < 0) break;
    complete.push(bytes.subarray(start, end));
    start = end + 1;
  }
  return start < bytes.length ? { complete, torn: bytes.subarray(start) } : { complete };
}

function parseRecord(line: Buffer): AuditRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<AuditRecord>;
  const valid =
    r.v === 1 &&
    Number.isSafeInteger(r.seq) &&
    (r.seq as number) >= 1 &&
    typeof r.time === 'string' &&
    typeof r.prev === 'string' &&
    /^[0-9a-f]{64}$/.test(r.prev) &&
    typeof r.principal === 'string' &&
    typeof r.operation === 'string' &&
    typeof r.result === 'string';
  return valid ? (r as AuditRecord) : undefined;
}
