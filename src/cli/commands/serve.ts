/** `seald serve`: run the gRPC server until SIGTERM / SIGINT. */
import { parseArgs } from 'node:util';
import { exitOnSignals, loadServerConfig, startSealdServer } from '../../server/bootstrap.ts';
import type { ConfigFlags, LogLevel } from '../../config/config.ts';
import { createLogger } from '../../server/logger.ts';
import type { CliIo } from '../io.ts';

export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      metrics: { type: 'string' },
    },
  });
  const flags: ConfigFlags = {};
  if (values.config !== undefined) flags.config = values.config;
  if (values['data-dir'] !== undefined) flags.dataDir = values['data-dir'];
  if (values.listen !== undefined) flags.listen = values.listen;
  if (values.metrics !== undefined) flags.metrics = values.metrics;

  // The level from the file is only known once the file is read: start from the environment's, or info.
  const envLevel = io.env.SEALD_LOG_LEVEL;
  const logger = createLogger(isLevel(envLevel) ? envLevel : 'info');
  const config = await loadServerConfig(flags, logger, io.env);
  logger.level = config.log.level;
  const server = await startSealdServer(config, logger);
  await exitOnSignals(server, logger);
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

function isLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value);
}
