/**
 * The append-only audit log: JSON lines under one directory, hash-chained (record.ts), with group commit.
 * `append` queues a record and resolves once it is on disk (written and fdatasync'ed); while one batch is being
 * written, the records that arrive queue up and go together in the next write + fdatasync, so the cost of
 * durability is shared under load. Files rotate by size and by UTC day; the chain runs on across files.
 *
 * Opening the log reads the newest file to continue its chain. A torn final line (a crash during a write) is left
 * where it is, as evidence, and the log continues in a new file from the last whole record; `verify.ts` reports it.
 * If a write fails, the log refuses every later record (fail closed): an operation that cannot be audited is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SealdError } from '../errors.ts';
import { auditFileName, dayOfAuditFile, listAuditFiles, utcDay } from './files.ts';
import { GENESIS, lineHash, recordLine, type AuditEntry, type AuditRecord } from './record.ts';

export interface AuditLogOptions {
  dir: string;
  /** Rotate before a file grows past this; default 64 MiB. */
  maxFileBytes?: number;
  /** Clock (tests). */
  now?: () => Date;
}

export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

interface Pending {
  entry: AuditEntry;
  resolve(record: AuditRecord): void;
  reject(error: unknown): void;
}

interface OpenFile {
  handle: fs.promises.FileHandle;
  path: string;
  day: string;
  size: number;
}

export class AuditLog {
  private readonly queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private file: OpenFile | undefined;
  private failure: unknown;
  private closed = false;
  /** Batches written (for tests and metrics: how well group commit groups). */
  batches = 0;

  private constructor(
    readonly dir: string,
    private readonly maxFileBytes: number,
    private readonly now: () => Date,
    private seq: number,
    private prev: string,
    /** The newest file, when records may be appended to it. */
    private resumable: string | undefined,
  ) {}

  static async open(options: AuditLogOptions): Promise<AuditLog> {
    await fs.promises.mkdir(options.dir, { recursive: true, mode: 0o750 });
    const head = readHead(listAuditFiles(options.dir));
    return new AuditLog(
      options.dir,
      options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
      options.now ?? (() => new Date()),
      head.seq,
      head.prev,
      head.resumable,
    );
  }

  /** Queue a record; resolves with it once it is durable. Rejects when the log cannot write (fail closed). */
  append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.closed) return Promise.reject(new SealdError('unavailable', 'AUDIT_CLOSED', 'the audit log is closed'));
    if (this.failure !== undefined) return Promise.reject(unavailable(this.failure));
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** Wait for queued records, then close the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
    await this.file?.handle.close();
    this.file = undefined;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        try {
          const records = await this.writeBatch(batch.map((p) => p.entry));
          batch.forEach((p, i) => p.resolve(records[i]!));
        } catch (error) {
          this.failure = error;
          for (const p of [...batch, ...this.queue.splice(0)]) p.reject(unavailable(error));
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async writeBatch(entries: AuditEntry[]): Promise<AuditRecord[]> {
    const time = this.now();
    const records: AuditRecord[] = [];
    const lines: string[] = [];
    let prev = this.prev;
    for (const entry of entries) {
      const record: AuditRecord = { v: 1, seq: this.seq + records.length, time: time.toISOString(), ...entry, prev };
      const line = recordLine(record);
      prev = lineHash(line);
      records.push(record);
      lines.push(`${line}\n`);
    }
    const bytes = Buffer.from(lines.join(''), 'utf8');
    const file = await this.fileFor(records[0]!.seq, utcDay(time), bytes.length);
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await file.handle.write(bytes, written, bytes.length - written, null);
      written += bytesWritten;
    }
    await file.handle.datasync();
    file.size += bytes.length;
    this.seq += records.length;
    this.prev = prev;
    this.batches++;
    return records;
  }

  /** The file to append the next batch to: the current one, or a new one when the day changed or it is full. */
  private async fileFor(firstSeq: number, day: string, bytes: number): Promise<OpenFile> {
    const current = this.file;
    if (current !== undefined && current.day === day && (current.size === 0 || current.size + bytes <= this.maxFileBytes)) {
      return current;
    }
    if (current === undefined && this.resumable !== undefined) {
      const resumed = this.resumable;
      this.resumable = undefined;
      const size = fs.statSync(resumed).size;
      if (dayOfAuditFile(resumed) === day && size + bytes <= this.maxFileBytes) {
        this.file = { handle: await fs.promises.open(resumed, 'a'), path: resumed, day, size };
        return this.file;
      }
    }
    await current?.handle.close();
    this.file = undefined;
    let attempt = 0;
    while (fs.existsSync(path.join(this.dir, auditFileName(firstSeq, day, attempt)))) attempt++;
    const file = path.join(this.dir, auditFileName(firstSeq, day, attempt));
    const handle = await fs.promises.open(file, 'a', 0o640);
    await syncDirectory(this.dir);
    this.file = { handle, path: file, day, size: 0 };
    return this.file;
  }
}

/** Where the chain stands: the next seq, the hash of the last whole record, and the file to append to, if any. */
function readHead(files: string[]): { seq: number; prev: string; resumable: string | undefined } {
  for (let f = files.length - 1; f >= 0; f--) {
    const bytes = fs.readFileSync(files[f]!);
    const torn = bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a;
    const end = bytes.lastIndexOf(0x0a);
    if (end < 0) continue; // no whole record in this file (empty, or only a torn line): look further back
    const start = bytes.lastIndexOf(0x0a, end - 1) + 1;
    const line = bytes.subarray(start, end);
    let seq: unknown;
    try {
      seq = (JSON.parse(line.toString('utf8')) as { seq?: unknown }).seq;
    } catch {
      seq = undefined;
    }
    if (!Number.isSafeInteger(seq)) {
      throw new SealdError('internal', 'AUDIT_LOG_DAMAGED', `the last record of ${files[f]} is not readable: run \`seald audit verify\``);
    }
    // Never append after a torn line or to an older file: continue in a new file.
    const resumable = !torn && f === files.length - 1 ? files[f] : undefined;
    return { seq: (seq as number) + 1, prev: lineHash(line), resumable };
  }
  return { seq: 1, prev: GENESIS, resumable: undefined };
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function unavailable(cause: unknown): SealdError {
  return new SealdError('unavailable', 'AUDIT_UNAVAILABLE', 'the audit log cannot be written: the operation was not performed', { cause });
}
