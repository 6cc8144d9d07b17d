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
