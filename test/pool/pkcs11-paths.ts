/**
 * The two real PKCS#11 paths the pool tests run on (describe.each over PKCS11_PATHS, the same tests for both):
 *   - direct:  seald loads SoftHSM2's own module;
 *   - p11-kit: seald loads p11-kit's client module and every call crosses a Unix socket to a `p11-kit server` in
 *              front of SoftHSM (p11-kit-remote.ts) — what a network HSM looks like to seald.
 *
 * p11-kit's client reads P11_KIT_SERVER_ADDRESS once, when the library is loaded (a later C_Initialize with another
 * address still talks to the first one), and the module registry keeps a library loaded for the life of the process.
 * So the socket path is one per test process; each describe block starts its own server, over its own SoftHSM token
 * store, on that socket.
 */
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P11_KIT_CLIENT_MODULE, P11KitServer } from './p11-kit-remote.ts';
import { SOFTHSM_MODULE, type SoftHsm } from './softhsm.ts';

export type Pkcs11PathName = 'direct' | 'p11-kit';
export const PKCS11_PATHS: readonly Pkcs11PathName[] = ['direct', 'p11-kit'];

export interface Pkcs11Path {
  name: Pkcs11PathName;
  /** The library seald loads. */
  module: string;
  /** What seald sets before C_Initialize (Pkcs11Config.env). */
  env: Record<string, string>;
  /** The remote side, for the p11-kit path (kill and restart it to take the "HSM" away). */
  remote: P11KitServer | undefined;
  close(): Promise<void>;
}

/**
 * The path `name` to the tokens of `hsm`. For p11-kit, call it once the tokens exist: each connection's
 * p11-kit-remote initialises SoftHSM, which lists its tokens then (keys may still be added later).
 */
export async function openPkcs11Path(name: Pkcs11PathName, hsm: SoftHsm): Promise<Pkcs11Path> {
  if (name === 'direct') return { name, module: SOFTHSM_MODULE, env: hsm.env, remote: undefined, close: async () => {} };
  const dir = join(tmpdir(), `seald-p11-kit-${process.pid}`);
  await mkdir(dir, { recursive: true });
  const remote = await P11KitServer.start(dir, hsm.conf);
  return { name, module: P11_KIT_CLIENT_MODULE, env: remote.clientEnv, remote, close: () => remote.stop() };
}
