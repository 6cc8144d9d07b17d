/**
 * The `--server` option shared by the client commands: one address, several (`--server a:1,b:2` or the option
 * repeated), or a gRPC target URI (`dns:///seald-headless:50051`, `ipv4:10.0.0.1:50051,10.0.0.2:50051`). Several
 * addresses or a name with several records are balanced round-robin (client.ts connectServers).
 */
import { checkAddress } from '../../server/config.ts';
import { DEFAULT_SERVER } from '../client.ts';
import { UsageError } from '../io.ts';

export const SERVER_OPTION = { server: { type: 'string', multiple: true } } as const;

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
