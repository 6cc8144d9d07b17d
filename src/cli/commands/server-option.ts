/**
 * The `--server` option shared by the client commands: one address, several (`--server a:1,b:2` or the option
 * repeated), or a gRPC target URI (`dns:///seald-headless:50051`, `ipv4:10.0.0.1:50051,10.0.0.2:50051`). Several
 * addresses or a name with several records are balanced round-robin (client.ts connectServers).
 */
import { checkAddress, DEFAULTS } from '../../config/config.ts';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { demoTlsFiles } from '../../provision/demo-tls.ts';
import { DEFAULT_SERVER, type ClientTls } from '../client.ts';
import { UsageError } from '../io.ts';

export const SERVER_OPTION = {
  server: { type: 'string', multiple: true },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

/** Target URI schemes grpc-js resolves: DNS (re-resolved on connection loss) and static IP lists. */
const TARGET_URI = /^(dns:(\/\/[^/]*\/)?[^/\s,]+:\d{1,5}|ipv4:[0-9.:,]+|ipv6:[0-9a-fA-F:.[\],]+)$/;

/** --server (repeatable, comma lists allowed), else $SEALD_SERVER (same syntax), else 127.0.0.1:50051. */
export function serverAddresses(flags: readonly string[] | undefined, env: NodeJS.ProcessEnv): string[] {
  const fromEnv = env.SEALD_SERVER === '' ? undefined : env.SEALD_SERVER;
  const name = flags !== undefined ? '--server' : 'SEALD_SERVER';
  const raw = flags ?? (fromEnv === undefined ? [DEFAULT_SERVER] : [fromEnv]);
  const entries: string[] = [];
  for (const value of raw) {
    if (/^(dns|ipv4|ipv6):/i.test(value.trim())) {
      // A URI carries its own list (ipv4:a,b): take it whole; it must be the only entry.
      if (!TARGET_URI.test(value.trim())) {
        throw new UsageError(`${name}: expected host:port, dns:///name:port, ipv4:… or ipv6:…, got "${value}"`);
      }
      entries.push(value.trim());
    } else {
      for (const part of value.split(',')) {
        try {
          entries.push(checkAddress(part, name));
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
      }
    }
  }
  if (entries.length > 1 && entries.some((entry) => TARGET_URI.test(entry))) {
    throw new UsageError(`${name}: a target URI (dns:///…, ipv4:…) cannot be combined with other addresses`);
  }
  return entries;
}

/**
 * --tls-ca/--tls-cert/--tls-key, else $SEALD_TLS_CA/_CERT/_KEY: all three for mutual TLS. Else, when the data
 * directory (--data-dir, $SEALD_DATA_DIR, ./.seald) holds the embedded demo's TLS material (a demo that serves on the
 * network, src/provision/demo-tls.ts), its client certificate and the dev CA (or the --tls-ca given). Else plaintext.
 */
export function clientTls(
  flags: { 'tls-ca'?: string | undefined; 'tls-cert'?: string | undefined; 'tls-key'?: string | undefined; 'data-dir'?: string | undefined },
  env: NodeJS.ProcessEnv,
): ClientTls | undefined {
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? (env[name] === '' ? undefined : env[name]);
  const ca = pick(flags['tls-ca'], 'SEALD_TLS_CA');
  const cert = pick(flags['tls-cert'], 'SEALD_TLS_CERT');
  const key = pick(flags['tls-key'], 'SEALD_TLS_KEY');
  const read = (file: string, what: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch {
      throw new UsageError(`${what}: cannot read ${file}`);
    }
  };
  if (cert === undefined && key === undefined) {
    const demo = demoTlsFiles(path.resolve(pick(flags['data-dir'], 'SEALD_DATA_DIR') ?? DEFAULTS.dataDir));
    if (fs.existsSync(demo.clientCert) && fs.existsSync(demo.clientKey)) {
      return { ca: read(ca ?? demo.ca, ca === undefined ? 'the data directory\'s dev CA' : '--tls-ca'), cert: read(demo.clientCert, 'the demo client certificate'), key: read(demo.clientKey, 'the demo client key') };
    }
  }
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  if (ca === undefined || cert === undefined || key === undefined) {
    throw new UsageError('mutual TLS needs --tls-ca, --tls-cert and --tls-key (or SEALD_TLS_CA, SEALD_TLS_CERT, SEALD_TLS_KEY)');
  }
  return { ca: read(ca, '--tls-ca'), cert: read(cert, '--tls-cert'), key: read(key, '--tls-key') };
}
