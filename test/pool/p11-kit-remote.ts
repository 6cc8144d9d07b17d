/**
 * SoftHSM2 behind p11-kit's RPC remoting: a second real PKCS#11 module for the pool tests and the bench.
 *
 * `p11-kit server -f --provider libsofthsm2.so -n SOCKET "pkcs11:"` listens on a Unix socket and, for each client
 * connection, runs a `p11-kit-remote` child that loads SoftHSM and answers the calls; seald loads p11-kit's client
 * module with P11_KIT_SERVER_ADDRESS=unix:path=SOCKET, so every PKCS#11 call is a round trip over the socket as with
 * a network HSM. The URI is `pkcs11:` (all tokens): p11-kit 0.24 matched nothing for `pkcs11:token=seald-demo`
 * (NOTES.md). The server and its per-connection children run in their own process group, so `kill()` takes down the
 * whole remote side at once, as a crashed HSM appliance would.
 *
 * SoftHSM reads its token directory at C_Initialize: start the server after the tokens exist (keys may be added
 * later through the direct module: SoftHSM's file store re-reads a token's objects when they change).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const P11_KIT_CLIENT_MODULE = '/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so';
export const SOFTHSM_PROVIDER = '/usr/lib/softhsm/libsofthsm2.so';

export class P11KitServer {
  #child: ChildProcess | undefined;
  #stderr = '';

  private constructor(
    readonly socket: string,
    private readonly softhsmConf: string,
  ) {}

  /** What the client module needs in its environment before C_Initialize. */
  get clientEnv(): { P11_KIT_SERVER_ADDRESS: string } {
    return { P11_KIT_SERVER_ADDRESS: `unix:path=${this.socket}` };
  }

  /** Start a server over the SoftHSM token store of `softhsmConf`, its socket in `dir`. */
  static async start(dir: string, softhsmConf: string): Promise<P11KitServer> {
    const server = new P11KitServer(join(dir, 'p11-kit.sock'), softhsmConf);
    await server.restart();
    return server;
  }

  /** The server's process id (its process group: the per-connection p11-kit-remote children are in it). */
  get pid(): number | undefined {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** Start (again) on the same socket; resolves once the socket accepts connections. */
  async restart(): Promise<void> {
    if (this.pid !== undefined) throw new Error('p11-kit server already running');
    await rm(this.socket, { force: true });
    this.#stderr = '';
    const child = spawn('p11-kit', ['server', '-f', '--provider', SOFTHSM_PROVIDER, '-n', this.socket, 'pkcs11:'], {
      env: { ...process.env, SOFTHSM2_CONF: this.softhsmConf },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true, // its own process group, so that kill() reaches the per-connection children too
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.#stderr = (this.#stderr + d).slice(-4000)));
    this.#child = child;
    const deadline = Date.now() + 10_000;
    while (!(await isSocket(this.socket))) {
      if (this.pid === undefined) throw new Error(`p11-kit server exited (${child.exitCode}): ${this.#stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`p11-kit server did not listen on ${this.socket}: ${this.#stderr.trim()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** SIGKILL the server and every p11-kit-remote child (the process group); resolves once the server has exited. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || this.pid === undefined) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
  }

  /**
   * SIGSTOP (`frozen` true) or SIGCONT the server and its children: a remote HSM that stops answering without
   * closing its connections, so a call waits on the socket for good.
   */
  freeze(frozen: boolean): void {
    if (this.pid !== undefined) process.kill(-this.pid, frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.socket, { force: true });
  }
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isSocket();
  } catch {
    return false;
  }
}

