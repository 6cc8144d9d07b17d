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

/** A ByteSource over bytes already in memory (small uploads, decoded object streams, tests). */
export function bufferSource(data: Uint8Array): ByteSource {
  return {
    size: data.length,
    read: (offset, length) => data.subarray(offset, Math.min(data.length, offset + length)),
    async *chunks(start = 0, end = data.length, chunkSize = 1 << 20) {
      for (let o = start; o < end; o += chunkSize) yield data.subarray(o, Math.min(end, o + chunkSize));
    },
    close: async () => {},
  };
}
