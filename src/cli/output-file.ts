/**
 * Writing the sealed document: into a temp file next to the destination, flushed to disk, then renamed over it.
 * A reader of OUT sees the old file or the complete new one, never a half-written one, whatever happens meanwhile
 * (an error status, a cancelled call, a crash).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export class AtomicOutputFile {
  private written = 0;
  private done = false;

  private constructor(
    readonly destination: string,
    private readonly tempPath: string,
    private readonly handle: fs.promises.FileHandle,
  ) {}

  static async create(destination: string): Promise<AtomicOutputFile> {
    const absolute = path.resolve(destination);
    const tempPath = path.join(
      path.dirname(absolute),
      `.${path.basename(absolute)}.${process.pid}.${randomBytes(4).toString('hex')}.part`,
    );
    const handle = await fs.promises.open(tempPath, 'wx', 0o644);
    return new AtomicOutputFile(absolute, tempPath, handle);
  }

  get bytesWritten(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      // Positional: after copyFrom the descriptor's own offset is still 0.
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.byteLength - offset, this.written + offset);
      offset += bytesWritten;
    }
    this.written += chunk.byteLength;
  }

  /**
   * The whole of `file` as the first bytes, copied in the kernel (libuv's copyfile: copy_file_range or sendfile, the
   * bytes never enter this process). Only before any write; returns the bytes copied.
   */
  async copyFrom(file: string): Promise<number> {
    if (this.written !== 0) throw new Error(`copyFrom after ${this.written} bytes were written to ${this.tempPath}`);
    await fs.promises.copyFile(file, this.tempPath);
    await this.handle.chmod(0o644); // copyfile gives the copy the source's mode
    this.written = (await this.handle.stat()).size;
    return this.written;
  }

  /** Flush and move into place. */
  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.handle.sync();
      await this.handle.close();
      await fs.promises.rename(this.tempPath, this.destination);
    } catch (error) {
      await fs.promises.rm(this.tempPath, { force: true });
      throw error;
    }
  }

  /** Drop the temp file; the destination is untouched. Safe after commit (does nothing). */
  async abandon(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await fs.promises.rm(this.tempPath, { force: true });
  }
}
