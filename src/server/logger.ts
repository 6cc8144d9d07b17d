/**
 * The server's one pino logger. Child loggers carry `requestId` and `sealId` per call. PINs and document bytes are
 * never logged; the redaction below is a second line of defence, not the first.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config.ts';

export type { Logger } from 'pino';

export function createLogger(level: LogLevel = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name: 'seald',
    level,
    redact: {
      paths: ['pin', '*.pin', '*.*.pin', 'pkcs11.tokens[*].pin', 'chunk', '*.chunk'],
      censor: '[redacted]',
    },
    serializers: { err: pino.stdSerializers.err },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** json: pino's lines, for collectors and pipes. pretty: one readable line per record, for a person at a terminal. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function isLogFormat(value: string | undefined): value is LogFormat {
  return (LOG_FORMATS as readonly (string | undefined)[]).includes(value);
}

/** The format asked for, else pretty on a terminal and JSON anywhere else (a pipe, a file, a container's log). */
export function chooseLogFormat(requested: LogFormat | undefined, stdoutIsTty: boolean): LogFormat {
  return requested ?? (stdoutIsTty ? 'pretty' : 'json');
}

/**
 * A pino destination that writes each record as one line, `12:34:56.789 INFO  seald listening address=…`, to `out`.
 * It formats what pino already serialized, so the redaction above applies to it unchanged.
 */
export function prettyDestination(out: { write(text: string): unknown }, color: boolean): pino.DestinationStream {
  return { write: (line: string) => void out.write(formatRecord(line, color)) };
}

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '90' },
  20: { name: 'DEBUG', color: '90' },
  30: { name: 'INFO', color: '32' },
  40: { name: 'WARN', color: '33' },
  50: { name: 'ERROR', color: '31' },
  60: { name: 'FATAL', color: '31' },
};

/** Fields every record has, shown in the line's head or not at all (pid and host say nothing on one's own terminal). */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/** One pino JSON line as one readable line (with its newline). */
export function formatRecord(line: string, color: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const level = LEVELS[record.level as number] ?? { name: String(record.level), color: '0' };
  const fields = Object.entries(record)
    .filter(([key]) => !HEAD_FIELDS.has(key))
    .map(([key, value]) => `${paint('2', `${key}=`)}${fieldValue(key, value)}`);
  const head = [
    paint('2', clockTime(typeof record.time === 'number' ? record.time : Date.now())),
    paint(level.color, level.name.padEnd(5)),
    escapeControls(String(record.msg ?? '')),
  ];
  return `${[...head, ...fields].join(' ')}\n`;
}

function clockTime(epochMs: number): string {
  const at = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}

function fieldValue(key: string, value: unknown): string {
  // An error as its type, code and message; the stack stays in the JSON format, where a log collector keeps it.
  if (key === 'err' && typeof value === 'object' && value !== null && 'message' in value) {
    const err = value as { type?: string; code?: string; message: string };
    return quoted([err.type, err.code].filter(Boolean).join(' ') + `: ${err.message}`);
  }
  if (typeof value === 'string') return /^[^\s"'=\\]+$/.test(value) && escapeControls(value) === value ? value : quoted(value);
  return escapeControls(JSON.stringify(value) ?? String(value));
}

function quoted(text: string): string {
  return escapeControls(JSON.stringify(text));
}

/**
 * Control characters written out as \u00XX: messages and fields carry caller-supplied text (file names, document ids),
 * and an escape sequence in one must not drive the reader's terminal. JSON.stringify leaves DEL and the C1 range.
 */
function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The one line logged per request (per document for SealBatch). Only what an operator needs to find and size a
 * request: never document content, a PIN or key material.
 */
export interface RequestRecord {
  requestId: string;
  /** Who called: the verified client certificate's identity, or "anonymous" without mutual TLS. */
  principal: string;
  /** Operation, as in the seald_requests_total metric. */
  operation: string;
  /** Seal id, or "(none)" before the header named one. */
  seal: string;
  /** Placement kind ("position"…), or "(none)". */
  placement: string;
  /** The caller's document id (SealBatch only). */
  documentId?: string;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  /** gRPC status name: OK, INVALID_ARGUMENT, CANCELLED… */
  status: string;
  /** The stable seald error code, when not OK. */
  errorCode?: string;
  /** The document was repaired to be read: what was wrong and how (pdf/recovery.ts; structure only). */
  repaired?: { reason: string; how?: string };
  /** True when a SealBatch document was answered from the idempotency store. */
  replayed?: boolean;
  /** A SealBatch call's documents, by outcome. */
  documents?: { sealed: number; replayed: number; failed: number };
}

/** Log the request line: error level for INTERNAL (a bug or a fault on our side), info otherwise. */
export function logRequest(log: Logger, record: RequestRecord): void {
  const line = { ...record, durationMs: Math.round(record.durationMs) };
  if (record.status === 'INTERNAL' || record.status === 'UNKNOWN') log.error(line, 'request');
  else log.info(line, 'request');
}
