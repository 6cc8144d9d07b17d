/**
 * `seald health`: ask one server's grpc.health.v1.Health service for its status (the container HEALTHCHECK, and a
 * quick check by hand). Prints the status; exit 0 only when it is SERVING.
 */
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { EXIT_FAILURE, UsageError, type CliIo } from '../io.ts';
import { channelCredentials } from '../client.ts';
import { clientTls, serverAddresses, SERVER_OPTION } from './server-option.ts';

const HealthClient = grpc.makeGenericClientConstructor(healthService as grpc.ServiceDefinition, 'Health');

export async function healthCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { service: { type: 'string', default: '' }, timeout: { type: 'string', default: '5' }, ...SERVER_OPTION },
  });
  const servers = serverAddresses(values.server, io.env);
  if (servers.length !== 1) throw new UsageError('--server: health asks one server; give one address', 'health');
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new UsageError(`--timeout: expected a positive number, got "${values.timeout}"`, 'health');
  }
  // TLS as every client command: flags, SEALD_TLS_*, or the demo's data directory (the container HEALTHCHECK).
  const client = new HealthClient(servers[0]!, channelCredentials(clientTls(values, io.env)));
  try {
    const status = await new Promise<string>((resolve, reject) => {
      client.Check(
        { service: values.service },
        { deadline: new Date(Date.now() + timeout * 1000) },
        (error: grpc.ServiceError | null, response: { status: string } | undefined) =>
          error !== null || response === undefined ? reject(error) : resolve(response.status),
      );
    });
    io.stdout(`${status}\n`);
    return status === 'SERVING' ? 0 : EXIT_FAILURE;
  } finally {
    client.close();
  }
}
