/**
 * The server's one pino logger. Child loggers carry `requestId` and `sealId` per call. PINs and document bytes are
 * never logged; the redaction below is a second line of defence, not the first.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

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
