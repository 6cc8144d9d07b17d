/**
 * SealBatch idempotency: a document sent again (same caller, same document id, same bytes, same seal, placement and
 * options) within the window is answered with the seal made the first time instead of being signed twice, so a
 * pipeline that crashed or lost its connection can simply send its batch again.
 *
 * What is stored is only what the seal added: the appended revision and the summary. The sealed document is the
 * input — which the caller re-sends, and whose SHA-256 is part of the key — followed by that revision, so a record
 * never holds document content. A revision is mostly the seal's image: about 35 KB with the embedded demo seal, a
 * few KB with a small one. Records live in memory (an LRU bounded in bytes) and, when a directory is given, on disk
 * (one binary file per record, written to a temp name and renamed), so a restarted server still answers. Expired
 * records are ignored on read and removed by a periodic sweep; the disk holds one window's worth of records.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from './logger.ts';

/** What makes two documents "the same request". */
export interface IdempotencyKeyParts {
  principal: string;
  documentId: string;
  /** SHA-256 of the document's bytes. */
  inputDigest: Uint8Array;
  /** SHA-256 of everything else that shapes the result (seal id, placement, signature options). */
  optionsDigest: Uint8Array;
}

/** The key: SHA-256 over the length-prefixed parts (hex), so no two different part lists collide by concatenation. */
export function idempotencyKey(parts: IdempotencyKeyParts): string {
  const hash = createHash('sha256');
  for (const part of [parts.principal, parts.documentId, parts.inputDigest, parts.optionsDigest]) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.byteLength);
    hash.update(length).update(bytes);
  }
  return hash.digest('hex');
}

/** A seal that was made: the revision appended to the input, and the summary (serialized SealSummary). */
export interface SealRecord {
  appended: Uint8Array;
  summary: Uint8Array;
  /** When the seal was made (ms since the epoch): the window runs from here. */
  createdAt: number;
}

export interface IdempotencyStoreOptions {
  windowSeconds: number;
  /** Bytes of records (revision + summary) kept in memory at most. */
  memoryBytes: number;
  /** Records survive restarts here (created 0700); undefined: memory only. */
  dir?: string;
  logger: Logger;
  now?: () => number;
}

/**
 * Record file: "SEALDIR1" (8 bytes), createdAt (ms, float64 BE), summary length (uint32 BE), summary, revision.
 */
const FILE_MAGIC = Buffer.from('SEALDIR1', 'latin1');
const FILE_HEADER_BYTES = FILE_MAGIC.length + 8 + 4;
const RECORD_SUFFIX = '.rec';
const SWEEP_MAX_MS = 10 * 60 * 1000;

export class IdempotencyStore {
  readonly #memory = new Map<string, SealRecord>();
  #memoryBytes = 0;
  readonly #pending = new Map<string, Promise<SealRecord>>();
  readonly #windowMs: number;
  readonly #now: () => number;
  #sweeper: NodeJS.Timeout | undefined;

  private constructor(private readonly options: IdempotencyStoreOptions) {
    this.#windowMs = options.windowSeconds * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Create the directory if needed, drop expired records, and sweep periodically from now on. */
  static async open(options: IdempotencyStoreOptions): Promise<IdempotencyStore> {
    const store = new IdempotencyStore(options);
    if (options.dir !== undefined) {
      await fs.promises.mkdir(options.dir, { recursive: true, mode: 0o700 });
      const removed = await store.sweep();
      if (removed > 0) options.logger.info({ removed, dir: options.dir }, 'expired idempotency records removed');
      store.#sweeper = setInterval(() => {
        store.sweep().catch((error: unknown) => options.logger.warn({ err: error }, 'idempotency sweep failed'));
      }, Math.min(SWEEP_MAX_MS, Math.max(1000, store.#windowMs)));
      store.#sweeper.unref();
    }
    return store;
  }

  /**
   * The record for `key`, or the result of `seal()` stored under it. Concurrent calls with one key (a document
   * re-sent while its first seal is still running) wait for the first instead of sealing twice; if that one fails,
   * the next caller seals. `replayed` is true when this call did not seal.
   */
  async sealOnce(key: string, seal: () => Promise<Omit<SealRecord, 'createdAt'>>): Promise<{ record: SealRecord; replayed: boolean }> {
    for (;;) {
      const existing = await this.get(key);
      if (existing !== undefined) return { record: existing, replayed: true };
      const running = this.#pending.get(key);
      if (running === undefined) break;
      try {
        return { record: await running, replayed: true };
      } catch {
        // The first attempt failed: look again, and seal if nobody else does.
      }
    }
    const work = (async () => {
      const made = await seal();
      const record: SealRecord = { ...made, createdAt: this.#now() };
      await this.put(key, record);
      return record;
    })();
    this.#pending.set(key, work);
    try {
      return { record: await work, replayed: false };
    } finally {
      this.#pending.delete(key);
    }
  }

  async get(key: string): Promise<SealRecord | undefined> {
    const cached = this.#memory.get(key);
    if (cached !== undefined) {
      if (this.#fresh(cached)) {
        this.#remember(key, cached); // most recently used last
        return cached;
      }
      this.#forget(key);
    }
    if (this.options.dir === undefined) return undefined;
    let record: SealRecord | undefined;
    try {
      record = decodeRecord(await fs.promises.readFile(this.#file(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.options.logger.warn({ err: error, key }, 'unreadable idempotency record ignored');
      }
      return undefined;
    }
    if (record === undefined) {
      this.options.logger.warn({ key }, 'malformed idempotency record ignored');
      return undefined;
    }
    if (!this.#fresh(record)) return undefined;
    this.#remember(key, record);
    return record;
  }

  async put(key: string, record: SealRecord): Promise<void> {
    this.#remember(key, record);
    if (this.options.dir === undefined) return;
    const file = this.#file(key);
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await fs.promises.writeFile(temp, encodeRecord(record), { mode: 0o600 });
      await fs.promises.rename(temp, file);
    } catch (error) {
      // The seal stands; only a replay after a restart is lost. Say so, do not fail the document.
      await fs.promises.rm(temp, { force: true });
      this.options.logger.warn({ err: error }, 'cannot write idempotency record: a replay after a restart would seal again');
    }
  }

  /** Remove expired records from disk (and memory); returns how many files were removed. */
  async sweep(): Promise<number> {
    for (const [key, record] of this.#memory) if (!this.#fresh(record)) this.#forget(key);
    const dir = this.options.dir;
    if (dir === undefined) return 0;
    const cutoff = this.#now() - this.#windowMs;
    let removed = 0;
    for (const name of await fs.promises.readdir(dir)) {
      const file = path.join(dir, name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (stat === undefined) continue;
      const stale = name.endsWith('.tmp') ? stat.mtimeMs < this.#now() - 60_000 : stat.mtimeMs < cutoff;
      if (stale && (name.endsWith(RECORD_SUFFIX) || name.endsWith('.tmp'))) {
        await fs.promises.rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  close(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #fresh(record: SealRecord): boolean {
    return this.#now() - record.createdAt < this.#windowMs;
  }

  #remember(key: string, record: SealRecord): void {
    this.#forget(key);
    this.#memory.set(key, record);
    this.#memoryBytes += recordBytes(record);
    while (this.#memoryBytes > this.options.memoryBytes && this.#memory.size > 0) {
      this.#forget(this.#memory.keys().next().value as string);
    }
  }

  #forget(key: string): void {
    const record = this.#memory.get(key);
    if (record === undefined) return;
    this.#memory.delete(key);
    this.#memoryBytes -= recordBytes(record);
  }

  #file(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('idempotency key must be 64 hex digits');
    return path.join(this.options.dir!, `${key}${RECORD_SUFFIX}`);
  }
}

function recordBytes(record: SealRecord): number {
  return record.appended.byteLength + record.summary.byteLength + 64;
}

function encodeRecord(record: SealRecord): Buffer {
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  FILE_MAGIC.copy(header, 0);
  header.writeDoubleBE(record.createdAt, FILE_MAGIC.length);
  header.writeUInt32BE(record.summary.byteLength, FILE_MAGIC.length + 8);
  return Buffer.concat([header, record.summary, record.appended]);
}

function decodeRecord(bytes: Buffer): SealRecord | undefined {
  if (bytes.length < FILE_HEADER_BYTES || !bytes.subarray(0, FILE_MAGIC.length).equals(FILE_MAGIC)) return undefined;
  const createdAt = bytes.readDoubleBE(FILE_MAGIC.length);
  const summaryLength = bytes.readUInt32BE(FILE_MAGIC.length + 8);
  if (FILE_HEADER_BYTES + summaryLength > bytes.length) return undefined;
  return {
    createdAt,
    summary: bytes.subarray(FILE_HEADER_BYTES, FILE_HEADER_BYTES + summaryLength),
    appended: bytes.subarray(FILE_HEADER_BYTES + summaryLength),
  };
}
