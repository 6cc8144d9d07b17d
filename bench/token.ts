/**
 * The bench's key: one RSA-2048 key, the same for every runner.
 *
 * The key is made by openssl and imported into a SoftHSM2 token (softhsm2-util --import) labelled like the embedded
 * defaults' token, in a data directory of the bench's own (bench/out/data). The embedded-defaults provisioning then
 * finds token and key there and adds what a `seald serve --data-dir` needs (dev CA, certificate chain, seal images,
 * seald.yaml), exactly as on a fresh machine. Because the key was imported, the same key also exists as a PKCS#12 file
 * and in an NSS database for the peers that cannot use a PKCS#11 token here (see README: PDFBox, mutool, pdfsig,
 * @signpdf all sign with it in software; seald and the floor sign on the token).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { EMBEDDED_TOKEN_LABEL, ensureEmbeddedDefaults, SOFTHSM_MODULE_CANDIDATES } from '../src/provision/embedded.ts';
import { renderSealPng } from '../src/provision/seal-image.ts';

const run = promisify(execFile);

export const BENCH_SEAL_ID = 'org';
export const P12_PASSWORD = 'bench';
export const P12_NAME = 'bench';

export interface BenchKey {
  dataDir: string;
  configPath: string;
  /** SoftHSM2 configuration (SOFTHSM2_CONF) of the bench token. */
  softhsmConf: string;
  module: string;
  pin: string;
  keyPem: string;
  /** Signer certificate then the dev CA (PEM). */
  chainPem: string;
  caPem: string;
  sealPng: string;
  /** The same key and chain as PKCS#12 (3DES/SHA-1 PBE, which every peer's reader accepts). */
  p12: string;
  /**
   * The same key with a self-signed RSA certificate (PKCS#12): node-forge, under @signpdf, cannot read a certificate
   * signed with ECDSA (the dev CA's key is EC P-256: "Unknown signature OID"), so that peer gets this one.
   */
  selfSignedP12: string;
  /** NSS database (sql:) holding the PKCS#12 under nickname `bench`, trusting the dev CA. */
  nssDir: string;
}

export async function ensureBenchKey(outDir: string): Promise<BenchKey> {
  const dataDir = path.join(outDir, 'data');
  const keysDir = path.join(outDir, 'keys');
  const module = SOFTHSM_MODULE_CANDIDATES.find((candidate) => existsSync(candidate));
  if (module === undefined) throw new Error('SoftHSM2 is not installed: apt-get install -y softhsm2');
  const softhsmConf = path.join(dataDir, 'softhsm2.conf');
  const keyPem = path.join(keysDir, 'org.key.pem');
  const pinFile = path.join(dataDir, 'token.pin');
  const env = { ...process.env, SOFTHSM2_CONF: softhsmConf };

  if (!existsSync(path.join(dataDir, 'seald.yaml'))) {
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(path.join(dataDir, 'tokens'), { recursive: true, mode: 0o700 });
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    await writeFile(softhsmConf, `directories.tokendir = ${path.join(dataDir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    const pin = randomBytes(12).toString('base64url');
    await writeFile(pinFile, `${pin}\n`, { mode: 0o600 });
    await writeFile(path.join(dataDir, 'so.pin'), `so-${pin}\n`, { mode: 0o600 });
    await run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPem]);
    await run('softhsm2-util', ['--init-token', '--free', '--label', EMBEDDED_TOKEN_LABEL, '--pin', pin, '--so-pin', `so-${pin}`], { env });
    await run('softhsm2-util', ['--import', keyPem, '--token', EMBEDDED_TOKEN_LABEL, '--label', BENCH_SEAL_ID, '--id', 'b0', '--pin', pin], { env });
    await ensureEmbeddedDefaults(dataDir, pino({ level: 'warn' }));
  }
  const pin = (await readFile(pinFile, 'utf8')).trim();
  const chainPem = path.join(dataDir, 'seals', `${BENCH_SEAL_ID}.chain.pem`);
  const caPem = path.join(dataDir, 'ca', 'dev-ca.pem');
  const p12 = path.join(keysDir, 'org.p12');
  const nssDir = path.join(keysDir, 'nss');
  if (!existsSync(p12)) {
    await run('openssl', [
      'pkcs12', '-export', '-inkey', keyPem, '-in', chainPem, '-name', P12_NAME, '-passout', `pass:${P12_PASSWORD}`,
      '-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1', '-out', p12,
    ]);
  }
  const selfSignedP12 = path.join(keysDir, 'org-self-signed.p12');
  if (!existsSync(selfSignedP12)) {
    const selfSignedPem = path.join(keysDir, 'org-self-signed.pem');
    await run('openssl', ['req', '-x509', '-new', '-key', keyPem, '-subj', '/C=CN/O=seald bench/CN=seald bench (self-signed, same key)', '-days', '730', '-sha256', '-out', selfSignedPem]);
    await run('openssl', [
      'pkcs12', '-export', '-inkey', keyPem, '-in', selfSignedPem, '-name', P12_NAME, '-passout', `pass:${P12_PASSWORD}`,
      '-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1', '-out', selfSignedP12,
    ]);
  }
  // The peers place a raster image; seald's own seal is the SVG the embedded defaults drew (a vector seal since
  // session 7). The peers get that drawing as a 600 px PNG, the size seald's raster seals had.
  const sealPng = path.join(keysDir, `${BENCH_SEAL_ID}-seal.png`);
  if (!existsSync(sealPng)) {
    const svg = await readFile(path.join(dataDir, 'seals', `${BENCH_SEAL_ID}.svg`), 'utf8');
    await writeFile(sealPng, renderSealPng(svg, 600));
  }
  if (!existsSync(path.join(nssDir, 'cert9.db'))) {
    await mkdir(nssDir, { recursive: true });
    await run('certutil', ['-N', '-d', `sql:${nssDir}`, '--empty-password']);
    await run('pk12util', ['-i', p12, '-d', `sql:${nssDir}`, '-W', P12_PASSWORD]);
    await run('certutil', ['-A', '-d', `sql:${nssDir}`, '-n', 'bench-ca', '-t', 'CT,C,C', '-i', caPem]);
  }
  return {
    dataDir,
    configPath: path.join(dataDir, 'seald.yaml'),
    softhsmConf,
    module,
    pin,
    keyPem,
    chainPem,
    caPem,
    sealPng,
    p12,
    selfSignedP12,
    nssDir: `sql:${nssDir}`,
  };
}
