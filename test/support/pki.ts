/**
 * A throwaway PKI for tests that need another party's signature: a self-signed CA and one signing certificate it
 * issues, made by the openssl command line, and NSS databases (the key store poppler's pdfsig reads) that hold the
 * signing key or trust the CA.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './run.ts';

export interface TestPki {
  dir: string;
  /** PEM of the self-signed CA certificate: the trust anchor to verify against. */
  caCertPem: string;
  caKeyPem: string;
  /** PEM of the signing (end-entity) certificate. */
  signerCertPem: string;
  signerKeyPem: string;
  /** PKCS#12 with the signer key, its certificate and the CA certificate, protected by `p12Password`. */
  signerP12: string;
  p12Password: string;
}

export interface TestPkiOptions {
  caName: string;
  signerName: string;
  organization?: string;
}

/** Creates RSA-2048 keys, a CA valid ten years back and forward, and a signer certificate for digital signatures. */
export async function createTestPki(dir: string, opts: TestPkiOptions): Promise<TestPki> {
  await mkdir(dir, { recursive: true });
  const o = opts.organization ? `/O=${opts.organization}` : '';
  const p = (name: string): string => join(dir, name);
  const pki: TestPki = {
    dir,
    caCertPem: p('ca.pem'),
    caKeyPem: p('ca.key'),
    signerCertPem: p('signer.pem'),
    signerKeyPem: p('signer.key'),
    signerP12: p('signer.p12'),
    p12Password: 'test-p12',
  };
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '7300',
    '-keyout', pki.caKeyPem, '-out', pki.caCertPem,
    '-subj', `/CN=${opts.caName}${o}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-addext', 'subjectKeyIdentifier=hash',
  ]); // prettier-ignore
  await runOk('openssl', [
    'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', pki.signerKeyPem, '-out', p('signer.csr'),
    '-subj', `/CN=${opts.signerName}${o}`,
  ]); // prettier-ignore
  // RFC 5280 §4.2.1.3: a signing certificate asserts digitalSignature (and nonRepudiation for signatures of intent).
  await writeFile(
    p('signer.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,nonRepudiation',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'),
  );
  await runOk('openssl', [
    'x509', '-req', '-sha256', '-days', '3650', '-in', p('signer.csr'),
    '-CA', pki.caCertPem, '-CAkey', pki.caKeyPem, '-set_serial', '0x' + randomSerial(),
    '-extfile', p('signer.ext'), '-out', pki.signerCertPem,
  ]); // prettier-ignore
  await runOk('openssl', [
    'pkcs12', '-export', '-inkey', pki.signerKeyPem, '-in', pki.signerCertPem, '-certfile', pki.caCertPem,
    '-name', 'signer', '-out', pki.signerP12, '-passout', `pass:${pki.p12Password}`,
  ]); // prettier-ignore
  return pki;
}

export interface NssDbOptions {
  /** CA certificates (PEM files) to trust for signing certificates. */
  trustCaPems?: readonly string[];
  /** A PKCS#12 to import; its key's nickname becomes `nickname`. */
  importP12?: { path: string; password: string };
}

/** The nickname pk12util gives the imported key and certificate (the PKCS#12 friendlyName set above). */
export const NSS_SIGNER_NICKNAME = 'signer';

/**
 * Creates an NSS database (SQLite format, empty password) in `dir` and returns the `sql:` path that pdfsig's
 * -nssdir takes.
 */
export async function createNssDb(dir: string, opts: NssDbOptions = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  const db = `sql:${dir}`;
  await runOk('certutil', ['-N', '-d', db, '--empty-password']);
  for (const [i, pem] of (opts.trustCaPems ?? []).entries()) {
    // Trust flags SSL,S/MIME,code signing: C = trusted CA for each; pdfsig checks the e-mail (S/MIME) usage.
    await runOk('certutil', ['-A', '-d', db, '-n', `trusted-ca-${i}`, '-t', 'CT,C,C', '-i', pem]);
  }
  if (opts.importP12) {
    await runOk('pk12util', ['-i', opts.importP12.path, '-d', db, '-W', opts.importP12.password]);
  }
  return db;
}

function randomSerial(): string {
  // Positive 64-bit serial; leading nibble 1–7 keeps the DER INTEGER positive without padding.
  const hex = '0123456789abcdef';
  let s = String(1 + Math.floor(Math.random() * 7));
  for (let i = 0; i < 15; i++) s += hex[Math.floor(Math.random() * 16)];
  return s;
}
