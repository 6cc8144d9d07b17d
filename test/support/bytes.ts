/** Byte-level facts about files: an incremental update must leave the original bytes as an exact prefix. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';

type BytesOrPath = string | Uint8Array;

async function load(source: BytesOrPath): Promise<Uint8Array> {
  return typeof source === 'string' ? readFile(source) : source;
}

/** true when `result` starts with every byte of `original` (and is at least as long). */
export async function isPrefix(original: BytesOrPath, result: BytesOrPath): Promise<boolean> {
  const [a, b] = await Promise.all([load(original), load(result)]);
  if (b.length < a.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, a.byteLength));
}

/** Lower-case hex SHA-256 of a file, read as a stream. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
