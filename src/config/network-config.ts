/**
 * Secure by default (issue 22): gRPC without TLS is for loopback. Listening on any other address without `tls`
 * refuses to start unless plaintext is allowed explicitly, with a key and a flag named so nobody sets them by
 * accident:
 *
 *   insecure_plaintext_on_network: true        # or `seald serve --insecure-plaintext-on-network`
 *
 * Even then every caller is "anonymous" (there is no client certificate to tell them apart), and the built-in policy
 * (src/auth/policy.ts networkPlaintextPolicy) lets anonymous callers verify and list only; a policy file that grants
 * anonymous more is the operator's explicit decision.
 */
import { configError, type Table } from './values.ts';
import { isLoopbackAddress } from './activation-config.ts';

export const PLAINTEXT_ON_NETWORK_KEY = 'insecure_plaintext_on_network';
export const PLAINTEXT_ON_NETWORK_FLAG = '--insecure-plaintext-on-network';

/**
 * Whether the server listens without TLS on a non-loopback address (allowed explicitly); throws when it would
 * without the explicit permission.
 */
export function plaintextOnNetworkFrom(
  file: Table,
  flag: boolean | undefined,
  listen: string,
  tls: boolean,
  source: string,
): boolean {
  const value = file[PLAINTEXT_ON_NETWORK_KEY];
  if (value !== undefined && value !== null && typeof value !== 'boolean') {
    throw configError(PLAINTEXT_ON_NETWORK_KEY, 'expected true or false', source);
  }
  const allowed = flag === true || value === true;
  if (tls || isLoopbackAddress(listen)) return false;
  if (!allowed) {
    throw configError(
      'listen',
      `${listen} is not a loopback address and no tls is configured: every caller would be anonymous on the network. ` +
        `Configure tls (cert, key, client_ca), listen on 127.0.0.1, or allow plaintext explicitly with ` +
        `${PLAINTEXT_ON_NETWORK_KEY}: true (${PLAINTEXT_ON_NETWORK_FLAG}); anonymous callers may then verify and list only ` +
        `unless a policy grants more`,
      source,
    );
  }
  return true;
}
