/** The `--server HOST:PORT` option shared by the client commands. */
import { checkAddress } from '../../server/config.ts';
import * as fs from 'node:fs';
import { DEFAULT_SERVER, type ClientTls } from '../client.ts';
import { UsageError } from '../io.ts';

export const SERVER_OPTION = {
  server: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

/** --server, else $SEALD_SERVER, else 127.0.0.1:50051. */
export function serverAddress(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const address = flag ?? (env.SEALD_SERVER === '' ? undefined : env.SEALD_SERVER) ?? DEFAULT_SERVER;
  try {
    return checkAddress(address, flag !== undefined ? '--server' : 'SEALD_SERVER');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** --tls-ca/--tls-cert/--tls-key, else $SEALD_TLS_CA/_CERT/_KEY: all three for mutual TLS, or none for plaintext. */
export function clientTls(
  flags: { 'tls-ca'?: string | undefined; 'tls-cert'?: string | undefined; 'tls-key'?: string | undefined },
  env: NodeJS.ProcessEnv,
): ClientTls | undefined {
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? (env[name] === '' ? undefined : env[name]);
  const ca = pick(flags['tls-ca'], 'SEALD_TLS_CA');
  const cert = pick(flags['tls-cert'], 'SEALD_TLS_CERT');
  const key = pick(flags['tls-key'], 'SEALD_TLS_KEY');
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  if (ca === undefined || cert === undefined || key === undefined) {
    throw new UsageError('mutual TLS needs --tls-ca, --tls-cert and --tls-key (or SEALD_TLS_CA, SEALD_TLS_CERT, SEALD_TLS_KEY)');
  }
  const read = (file: string, what: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch {
      throw new UsageError(`${what}: cannot read ${file}`);
    }
  };
  return { ca: read(ca, '--tls-ca'), cert: read(cert, '--tls-cert'), key: read(key, '--tls-key') };
}
