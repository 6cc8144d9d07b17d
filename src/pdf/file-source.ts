/** A document in a file, read by positional reads (a spooled upload, or a file the CLI verifies offline). */
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { SealdError } from '../errors.ts';
import { DEFAULT_CHUNK_SIZE, type ByteSource } from './source.ts';

/**
 * A document in a file: small random reads (xref, objects) go through `readSync` on one descriptor; sequential
 * chunks (hashing, streaming the result back) through asynchronous positional reads on the same descriptor, so
 * several passes may run at once without blocking the event loop. (Not fs.ReadStream: destroying one closes the
 * descriptor it was given, even with autoClose: false.)
 */
export class FileSource implements ByteSource {
  private closed = false;

  private constructor(
    private readonly filePath: string,
    private readonly fd: number,
    readonly size: number,
    private readonly removeOnClose: boolean,
    private readonly opened: fs.BigIntStats,
  ) {}

  static async open(filePath: string, options: { removeOnClose?: boolean } = {}): Promise<FileSource> {
    // A raw descriptor, not a FileHandle: readSync needs a number, and a FileHandle closes itself when collected.
    const fd = await promisify(fs.open)(filePath, 'r');
    try {
      const opened = await fstatBigInt(fd);
      return new FileSource(filePath, fd, Number(opened.size), options.removeOnClose ?? false, opened);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  read(offset: number, length: number): Uint8Array {
    this.assertOpen();
    const start = clamp(offset, 0, this.size);
    const wanted = clamp(start + Math.max(0, length), start, this.size) - start;
    const buffer = Buffer.allocUnsafe(wanted);
    let filled = 0;
    while (filled < wanted) {
      const n = fs.readSync(this.fd, buffer, filled, wanted - filled, start + filled);
      if (n === 0) break; // the file shrank under us: return what there is
      filled += n;
    }
    return filled === wanted ? buffer : buffer.subarray(0, filled);
  }

  async *chunks(start = 0, end = this.size, chunkSize = DEFAULT_CHUNK_SIZE): AsyncIterable<Uint8Array> {
    const last = clamp(end, 0, this.size);
    for (let offset = clamp(start, 0, last); offset < last; ) {
      this.assertOpen();
      // A fresh buffer per chunk: callers may keep it (gRPC write queues, hash pipelines).
      const chunk = Buffer.allocUnsafe(Math.min(chunkSize, last - offset));
      const n = await readAt(this.fd, chunk, offset);
      if (n === 0) return; // the file shrank under us
      yield n === chunk.byteLength ? chunk : chunk.subarray(0, n);
      offset += n;
    }
  }

  /**
   * Whether the file was written since it was opened: its size, or its data or status change time (POSIX updates
   * both on every write, to nanoseconds here), differ from what they were at open. Cheaper than hashing it again;
   * blind only to a write within the same filesystem clock tick as the write before the open (Linux's timestamps are
   * coarse, a few ms).
   */
  async changedSinceOpen(): Promise<boolean> {
    this.assertOpen();
    const now = await fstatBigInt(this.fd);
    return now.size !== this.opened.size || now.mtimeNs !== this.opened.mtimeNs || now.ctimeNs !== this.opened.ctimeNs;
  }

  /** Whether `filePath` still names the file this source opened (not replaced, e.g. renamed over, since). */
  async isAt(filePath: string): Promise<boolean> {
    const named = await fs.promises.stat(filePath, { bigint: true }).catch(() => undefined);
    return named !== undefined && named.ino === this.opened.ino && named.dev === this.opened.dev;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => fs.close(this.fd, () => resolve()));
    if (this.removeOnClose) await fs.promises.rm(this.filePath, { force: true });
  }

  private assertOpen(): void {
    if (this.closed) throw new SealdError('internal', 'SOURCE_CLOSED', 'document source is closed');
  }
}

function fstatBigInt(fd: number): Promise<fs.BigIntStats> {
  return new Promise((resolve, reject) => fs.fstat(fd, { bigint: true }, (error, stats) => (error ? reject(error) : resolve(stats))));
}

function readAt(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, 0, buffer.byteLength, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
  });
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
