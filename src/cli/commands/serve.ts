/** `seald serve`: run the gRPC server until SIGTERM / SIGINT. */
import { parseArgs } from 'node:util';
import { exitOnSignals, loadServerConfig, startSealdServer } from '../../server/bootstrap.ts';
import type { ConfigFlags, LogLevel } from '../../config/config.ts';
import { chooseLogFormat, createLogger, isLogFormat, LOG_FORMATS, prettyDestination } from '../../server/logger.ts';
import { UsageError, type CliIo } from '../io.ts';

export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      metrics: { type: 'string' },
      'log-format': { type: 'string' },
      'insecure-plaintext-on-network': { type: 'boolean' },
    },
  });
  const flags: ConfigFlags = {};
  if (values.config !== undefined) flags.config = values.config;
  if (values['data-dir'] !== undefined) flags.dataDir = values['data-dir'];
  if (values.listen !== undefined) flags.listen = values.listen;
  if (values.metrics !== undefined) flags.metrics = values.metrics;
  if (values['insecure-plaintext-on-network'] === true) flags.insecurePlaintextOnNetwork = true;

  // The level from the file is only known once the file is read: start from the environment's, or info.
  const envLevel = io.env.SEALD_LOG_LEVEL;
  const format = values['log-format'] ?? (io.env.SEALD_LOG_FORMAT || undefined);
  if (format !== undefined && !isLogFormat(format)) {
    throw new UsageError(`--log-format: expected ${LOG_FORMATS.join(' or ')}, got "${format}"`, 'serve');
  }
  const tty = process.stdout.isTTY === true;
  const pretty = chooseLogFormat(format, tty) === 'pretty';
  const logger = createLogger(isLevel(envLevel) ? envLevel : 'info', pretty ? prettyDestination(process.stdout, tty && !io.env.NO_COLOR) : undefined);
  const config = await loadServerConfig(flags, logger, io.env);
  logger.level = config.log.level;
  const server = await startSealdServer(config, logger);
  await exitOnSignals(server, logger);
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

function isLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value);
}
