/**
 * A real SoftHSM2 token store in a temp directory for the pool tests. SoftHSM reads SOFTHSM2_CONF at C_Initialize,
 * so the conf path travels in Pkcs11Config.env / the admin helper's env (and is set for softhsm2-util explicitly).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

const run = promisify(execFile);

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsm {
  dir: string;
  conf: string;
  env: { SOFTHSM2_CONF: string };
  initToken(label: string, pin: string): Promise<void>;
  /**
   * Import a key pair (PKCS#8 PEM) onto a token with softhsm2-util: the same key on two tokens makes a replica set.
   * CKA_ID is given in hex.
   */
  importKey(token: string, pin: string, keyLabel: string, pkcs8Pem: string, idHex?: string): Promise<void>;
}

export async function createSoftHsm(): Promise<SoftHsm> {
  const dir = await mkdtemp(join(tmpdir(), 'seald-softhsm-'));
  await mkdir(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  return {
    dir,
    conf,
    env: { SOFTHSM2_CONF: conf },
    async initToken(label, pin) {
      await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', `so-${pin}`], {
        env: { ...process.env, SOFTHSM2_CONF: conf },
      });
    },
    async importKey(token, pin, keyLabel, pkcs8Pem, idHex = '01') {
      const file = join(dir, `import-${keyLabel}-${token}.pem`);
      await writeFile(file, pkcs8Pem, { mode: 0o600 });
      await run('softhsm2-util', ['--import', file, '--token', token, '--label', keyLabel, '--id', idHex, '--pin', pin], {
        env: { ...process.env, SOFTHSM2_CONF: conf },
      });
      await rm(file);
    },
  };
}

/** A pino logger whose JSON lines are kept in memory, to check what was (and was not) logged. */
export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}
