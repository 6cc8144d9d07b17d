/** The `--server HOST:PORT` option shared by the client commands. */
import { checkAddress } from '../../server/config.ts';
import { DEFAULT_SERVER } from '../client.ts';
import { UsageError } from '../io.ts';

export const SERVER_OPTION = { server: { type: 'string' } } as const;

/** --server, else $SEALD_SERVER, else 127.0.0.1:50051. */
export function serverAddress(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const address = flag ?? (env.SEALD_SERVER === '' ? undefined : env.SEALD_SERVER) ?? DEFAULT_SERVER;
  try {
    return checkAddress(address, flag !== undefined ? '--server' : 'SEALD_SERVER');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
