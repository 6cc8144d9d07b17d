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
