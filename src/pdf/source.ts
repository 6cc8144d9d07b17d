/**
 * Where a document's bytes live while seald works on it: in memory (small documents) or in a spooled temp file
 * (large ones). The parser reads small windows synchronously (random access for xref and objects); hashing and
 * streaming the result back read sequentially in chunks.
 */
export interface ByteSource {
  readonly size: number;
  /** Bytes [offset, offset+length), clipped to the end of the source. */
  read(offset: number, length: number): Uint8Array;
  /** Sequential chunks of [start, end). */
  chunks(start?: number, end?: number, chunkSize?: number): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** A document held in memory (small uploads, decoded object streams, tests). */
export class BufferSource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.byteLength;
  }

  read(offset: number, length: number): Uint8Array {
    const start = clamp(offset, 0, this.size);
    return this.bytes.subarray(start, clamp(start + Math.max(0, length), start, this.size));
  }

  async *chunks(start = 0, end = this.size, chunkSize = DEFAULT_CHUNK_SIZE): AsyncIterable<Uint8Array> {
    const last = clamp(end, 0, this.size);
    for (let offset = clamp(start, 0, last); offset < last; offset += chunkSize) {
      yield this.bytes.subarray(offset, Math.min(offset + chunkSize, last));
    }
  }

  async close(): Promise<void> {}
}

export function bufferSource(data: Uint8Array): ByteSource {
  return new BufferSource(data);
}

/** A source followed by bytes appended in memory, read as one document without copying the source. */
export class AppendedSource implements ByteSource {
  readonly #tail: BufferSource;
  constructor(
    readonly head: ByteSource,
    tail: Uint8Array,
  ) {
    this.#tail = new BufferSource(tail);
  }

  get size(): number {
    return this.head.size + this.#tail.size;
  }

  read(offset: number, length: number): Uint8Array {
    const start = clamp(offset, 0, this.size);
    const end = clamp(start + Math.max(0, length), start, this.size);
    if (start >= this.head.size) return this.#tail.read(start - this.head.size, end - start);
    if (end <= this.head.size) return this.head.read(start, end - start);
    const out = new Uint8Array(end - start);
    out.set(this.head.read(start, this.head.size - start), 0);
    out.set(this.#tail.read(0, end - this.head.size), this.head.size - start);
    return out;
  }

  async *chunks(start = 0, end = this.size, chunkSize = DEFAULT_CHUNK_SIZE): AsyncIterable<Uint8Array> {
    const last = clamp(end, 0, this.size);
    const first = clamp(start, 0, last);
    if (first < this.head.size) yield* this.head.chunks(first, Math.min(last, this.head.size), chunkSize);
    if (last > this.head.size) yield* this.#tail.chunks(Math.max(0, first - this.head.size), last - this.head.size, chunkSize);
  }

  /** The head belongs to the caller: closing this view closes nothing. */
  async close(): Promise<void> {}
}
