/**
 * The records of the SealBatch idempotency store (idempotency.ts): the key that makes two documents "the same
 * request", and the frame a record is stored in — a 64-byte header (magic, CRC-32 of header bytes 8..63, createdAt,
 * the raw key, summary and body lengths, CRC-32 of the body) then the body (summary, then the rest). The magic says
 * what the rest is: "SDI2", the facts that regenerate the revision (idempotency-replay.ts, a few hundred bytes);
 * "SDI1", the revision itself (~35 KB, written by earlier versions, still read and replayed as it is).
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

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

/**
 * A seal that was made: the summary (serialized SealSummary) and either the facts that regenerate the revision
 * appended to the input (what the store keeps) or that revision itself (records of earlier versions; and a seal just
 * made, handed to whoever waited for it). When both are given, the store keeps only the facts.
 */
export interface SealRecord {
  appended?: Uint8Array;
  facts?: Uint8Array;
  summary: Uint8Array;
  /** When the seal was made (ms since the epoch): the window runs from here. */
  createdAt: number;
}

/** A record whose body is the revision (earlier versions). */
export const MAGIC = Buffer.from('SDI1', 'latin1');
/** A record whose body is the replay facts. */
export const MAGIC_FACTS = Buffer.from('SDI2', 'latin1');

export const HEADER_BYTES = 64;

export const HEADER = { crc: 4, createdAt: 8, key: 16, summaryLength: 48, appendedLength: 52, bodyCrc: 56 } as const;

/** Records larger than this are refused on write and treated as a torn tail on scan (a revision is ~35 KB). */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;

/** The 32 digest bytes of a hex key as a latin1 string: the index's key, half the size of the hex. */
export function rawKey(key: string): string {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('idempotency key must be 64 hex digits');
  return Buffer.from(key, 'hex').toString('latin1');
}

/** The part of a record that is stored after the summary: the facts when there are some, else the revision. */
export function storedBody(record: SealRecord): { magic: Buffer; body: Uint8Array } {
  if (record.facts !== undefined) return { magic: MAGIC_FACTS, body: record.facts };
  return { magic: MAGIC, body: record.appended ?? new Uint8Array(0) };
}

export function recordBytes(record: SealRecord): number {
  return storedBody(record).body.byteLength + record.summary.byteLength + 64;
}

/**
 * CRC-32 of summary then revision. Empty parts are skipped: zlib answers 0 for an empty buffer without backing
 * memory (`crypto.randomBytes(0)`), whatever the running value.
 */
export function bodyCrc(summary: Uint8Array, appended: Uint8Array): number {
  let crc = 0;
  for (const part of [summary, appended]) if (part.byteLength > 0) crc = crc32(part, crc);
  return crc;
}

/** A header's facts, or undefined when it is not a whole, intact header. */
export function frameOf(header: Buffer): { raw: string; createdAt: number; length: number; facts: boolean } | undefined {
  const magic = header.subarray(0, 4);
  const facts = magic.equals(MAGIC_FACTS);
  if (!facts && !magic.equals(MAGIC)) return undefined;
  if (header.readUInt32BE(HEADER.crc) !== crc32(header.subarray(8, HEADER_BYTES))) return undefined;
  const body = header.readUInt32BE(HEADER.summaryLength) + header.readUInt32BE(HEADER.appendedLength);
  if (body > MAX_BODY_BYTES) return undefined;
  return {
    raw: header.toString('latin1', HEADER.key, HEADER.key + 32),
    createdAt: header.readDoubleBE(HEADER.createdAt),
    length: HEADER_BYTES + body,
    facts,
  };
}

/** The record in a whole frame read back, or undefined unless header, key, length and body checksum all agree. */
export function decodeFrame(frame: Buffer, raw: string): SealRecord | undefined {
  const facts = frameOf(frame);
  if (facts === undefined || facts.raw !== raw || facts.length !== frame.length) return undefined;
  const summaryEnd = HEADER_BYTES + frame.readUInt32BE(HEADER.summaryLength);
  const summary = frame.subarray(HEADER_BYTES, summaryEnd);
  const body = frame.subarray(summaryEnd);
  if (bodyCrc(summary, body) !== frame.readUInt32BE(HEADER.bodyCrc)) return undefined;
  return { createdAt: facts.createdAt, summary, ...(facts.facts ? { facts: body } : { appended: body }) };
}
