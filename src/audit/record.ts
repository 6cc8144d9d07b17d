/**
 * One audit record and its place in the chain. A record is one JSON line; its `prev` is the SHA-256 (hex) of the
 * previous line's exact bytes (without the newline), so editing, inserting or deleting a line breaks the chain at
 * the next one, and `seq` (1, 2, 3… across files) shows where a record went missing. Never holds document content,
 * PINs or keys: only digests, identifiers and outcomes.
 */
import { createHash } from 'node:crypto';

/** What the caller records; `seq`, `time` and `prev` are added by the log. */
export interface AuditEntry {
  /** Who: the principal's name (`anonymous` for an unauthenticated loopback caller). */
  principal: string;
  /** seal, timestamp, verify, rollback, list, locate, batch, sign-digest. */
  operation: string;
  requestId: string;
  /** `ok`, or the gRPC status name of the refusal or failure (PERMISSION_DENIED, FAILED_PRECONDITION…). */
  result: string;
  /** The stable seald error code when the result is not ok. */
  errorCode?: string;
  sealId?: string;
  /** Serial number (hex) of the certificate of the seal used, or of the signature rolled back. */
  certificateSerial?: string;
  /** SHA-256 (hex) of the document received and of the document returned. */
  inputSha256?: string;
  outputSha256?: string;
  /** The revision created (seal) or removed (rollback). */
  revision?: number;
  /** Where the marks went: pages and rectangles, or the placement asked for. */
  placement?: unknown;
  /**
   * The document had to be repaired to be read (pdf/recovery.ts): what was wrong with its structure and how its
   * table was rebuilt. Offsets and object counts only, never content or passwords.
   */
  repaired?: { reason: string; how?: string };
  /** The TLS client certificate's serial (hex), when the caller authenticated with one. */
  clientCertificateSerial?: string;
  /** sign-digest: the SHA-256 (hex) of the byte ranges the server signed without seeing them (the CMS message-digest). */
  documentDigest?: string;
  /**
   * sign-digest: what the client declared the digest to be of (document id, input size and SHA-256, pages,
   * placement, field name, revision and its size, /ByteRange, signing time). Declared, not checked: the server
   * never sees the document.
   */
  declared?: DeclaredDocumentRecord;
}

/** A prepared document as its client described it (PreparedService.SignPrepared), as recorded. */
export interface DeclaredDocumentRecord {
  documentId: string;
  inputSize: number;
  inputSha256: string;
  pages: number[];
  placement?: unknown;
  fieldName: string;
  revision: number;
  revisionSize: number;
  byteRange: number[];
  signingTime?: string;
  contentsSize: number;
}

export interface AuditRecord extends AuditEntry {
  /** Format version. */
  v: 1;
  seq: number;
  /** ISO 8601, UTC, milliseconds. */
  time: string;
  /** SHA-256 (hex) of the previous record's line; GENESIS for the first record of a log. */
  prev: string;
}

export const GENESIS = '0'.repeat(64);

const ENTRY_KEYS: readonly (keyof AuditEntry)[] = [
  'principal',
  'clientCertificateSerial',
  'operation',
  'requestId',
  'sealId',
  'certificateSerial',
  'inputSha256',
  'outputSha256',
  'revision',
  'placement',
  'documentDigest',
  'declared',
  'repaired',
  'result',
  'errorCode',
];

/** The line for a record (no newline): fixed key order, undefined fields left out. */
export function recordLine(record: AuditRecord): string {
  const ordered: Record<string, unknown> = { v: record.v, seq: record.seq, time: record.time };
  for (const key of ENTRY_KEYS) if (record[key] !== undefined) ordered[key] = record[key];
  ordered.prev = record.prev;
  return JSON.stringify(ordered);
}

export function lineHash(line: string | Uint8Array): string {
  return createHash('sha256').update(line).digest('hex');
}
