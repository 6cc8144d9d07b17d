/**
 * Where an uploaded document waits while it is sealed. Small documents stay in memory; once the bytes received cross
 * `memoryLimitBytes` (or the client's size hint says they will), they go to a temp file (mode 0600) in the spool
 * directory. The size limit is checked on every chunk, so an oversized upload fails as soon as it crosses the limit.
 *
 * Ownership: the Spool owns its temp file until `finish()`, which hands it to the returned FileSource (its `close()`
 * removes the file); `discard()` removes it on cancel or error. Both are idempotent.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SealdError } from '../errors.ts';
import { FileSource } from '../pdf/file-source.ts';
import { BufferSource, type ByteSource } from '../pdf/source.ts';


const SPOOL_FILE_PREFIX = 'seald-spool-';

export interface SpoolOptions {
  /** Documents up to this many bytes stay in memory. */
  memoryLimitBytes: number;
  /** Documents over this many bytes are refused. */
  maxDocumentBytes: number;
  /** Directory for temp files; created (mode 0700) when missing. */
  dir: string;
  /** The client's size hint, if any: decides memory or file up front. */
  expectedBytes?: number;
}

export class Spool {
  /** SHA-256 of the bytes received so far (the engine copies it instead of reading the document again). */
  readonly digest: Hash = createHash('sha256');
  private readonly memory: Uint8Array[] = [];
  private file: { path: string; handle: fs.promises.FileHandle } | undefined;
  private received = 0;
  private state: 'open' | 'finished' | 'discarded' = 'open';

  constructor(private readonly options: SpoolOptions) {
    if (options.expectedBytes !== undefined) assertWithinLimit(options.expectedBytes, options.maxDocumentBytes);
  }

  /** Bytes received so far. */
  get size(): number {
    return this.received;
  }

  /** True once the document went to a temp file. */
  get onDisk(): boolean {
    return this.file !== undefined;
  }

  /** Add the next chunk. Rejects with a 'too-large' SealdError (and discards) once the limit is crossed. */
  async append(chunk: Uint8Array): Promise<void> {
    if (this.state !== 'open') throw new SealdError('internal', 'SPOOL_CLOSED', `spool is ${this.state}`);
    if (chunk.byteLength === 0) return;
    const total = this.received + chunk.byteLength;
    try {
      assertWithinLimit(total, this.options.maxDocumentBytes);
    } catch (error) {
      await this.discard();
      throw error;
    }
    this.received = total;
    this.digest.update(chunk);
    if (this.file === undefined && total <= this.memoryThreshold()) {
      this.memory.push(chunk);
      return;
    }
    try {
      if (this.file === undefined) await this.moveToFile();
      await writeAll(this.file!.handle, chunk);
    } catch (error) {
      await this.discard();
      throw error instanceof SealdError
        ? error
        : new SealdError('unavailable', 'SPOOL_WRITE_FAILED', 'cannot spool the document', { cause: error });
    }
  }

  /** All bytes received: hand them over as a ByteSource (which then owns any temp file). */
  async finish(): Promise<ByteSource> {
    if (this.state !== 'open') throw new SealdError('internal', 'SPOOL_CLOSED', `spool is ${this.state}`);
    this.state = 'finished';
    if (this.file === undefined) {
      const bytes = this.memory.length === 1 ? this.memory[0]! : Buffer.concat(this.memory, this.received);
      this.memory.length = 0;
      return new BufferSource(bytes);
    }
    const { path: filePath, handle } = this.file;
    this.file = undefined;
    try {
      await handle.close();
      return FileSource.open(filePath, { removeOnClose: true });
    } catch (error) {
      await fs.promises.rm(filePath, { force: true });
      throw new SealdError('unavailable', 'SPOOL_WRITE_FAILED', 'cannot spool the document', { cause: error });
    }
  }

  /** Drop everything received and remove the temp file, if any. Safe to call at any time, more than once. */
  async discard(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'discarded';
    this.memory.length = 0;
    const file = this.file;
    this.file = undefined;
    if (file !== undefined) {
      await file.handle.close().catch(() => undefined);
      await fs.promises.rm(file.path, { force: true });
    }
  }

  private memoryThreshold(): number {
    const { expectedBytes, memoryLimitBytes } = this.options;
    return expectedBytes !== undefined && expectedBytes > memoryLimitBytes ? -1 : memoryLimitBytes;
  }

  private async moveToFile(): Promise<void> {
    await fs.promises.mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    const filePath = path.join(
      this.options.dir,
      `${SPOOL_FILE_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}.pdf`,
    );
    // 'wx': never follow or reuse an existing path; 0600: documents are confidential.
    const handle = await fs.promises.open(filePath, 'wx', 0o600);
    this.file = { path: filePath, handle };
    for (const chunk of this.memory) await writeAll(handle, chunk);
    this.memory.length = 0;
  }
}

/**
 * Remove spool files left behind by seald processes that no longer run (a crash or a kill -9 leaves documents on
 * disk). Files of live processes, this one included, are left alone.
 */
export async function removeStaleSpoolFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = /^seald-spool-(\d+)-[0-9a-f]+\.pdf$/.exec(name);
    if (match === null || isProcessAlive(Number(match[1]))) continue;
    await fs.promises.rm(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function assertWithinLimit(bytes: number, limit: number): void {
  if (bytes > limit) {
    throw new SealdError(
      'too-large',
      'DOCUMENT_TOO_LARGE',
      `document exceeds the limit of ${limit} bytes (${formatBytes(limit)})`,
    );
  }
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

async function writeAll(handle: fs.promises.FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}
