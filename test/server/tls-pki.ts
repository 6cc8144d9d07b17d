/**
 * Certificates for the mutual-TLS tests: the seald development CA (src/crypto/dev-ca.ts) issues the server's and the
 * clients' certificates (openssl signs with the dev CA's key where a subjectAltName is needed; dev-ca.ts itself issues
 * the expired one), and a second, unrelated CA and a self-signed certificate stand for strangers.
 */
import { webcrypto } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { derToPem } from '../../src/crypto/certificate.ts';
import { createDevCa, issueEndEntityCertificate } from '../../src/crypto/dev-ca.ts';
import { runOk } from '../support/run.ts';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface TlsPki {
  dir: string;
  /** The dev CA: client_ca of the server, and what clients trust for the server. */
  ca: string;
  server: KeyPair;
  /** CN=erp, O=Acme, SAN URI:spiffe://acme/erp. */
  erp: KeyPair;
  /** CN=clerk, O=Acme. */
  clerk: KeyPair;
  /** CN=globex-admin, O=Globex. */
  globex: KeyPair;
  /** Issued by the dev CA, expired yesterday. */
  expired: KeyPair;
  /** Issued by another CA. */
  foreign: KeyPair;
  /** Self-signed. */
  unknown: KeyPair;
}

export async function createTlsPki(dir: string): Promise<TlsPki> {
  fs.mkdirSync(dir, { recursive: true });
  const file = (name: string): string => path.join(dir, name);
  const devCa = await createDevCa();
  fs.writeFileSync(file('ca.pem'), derToPem(devCa.certificate));
  fs.writeFileSync(file('ca.key'), derToPem(devCa.privateKeyPkcs8, 'PRIVATE KEY'), { mode: 0o600 });

  const issue = async (name: string, subject: string, extensions: string, ca = 'ca'): Promise<KeyPair> => {
    const pair = { cert: file(`${name}.pem`), key: file(`${name}.key`) };
    await runOk('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', pair.key, '-out', file(`${name}.csr`), '-subj', subject]);
    fs.writeFileSync(file(`${name}.ext`), extensions);
    await runOk('openssl', ['x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.pem`), '-CAkey', file(`${ca}.key`), '-set_serial', `0x${Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex')}`, '-days', '2', '-extfile', file(`${name}.ext`), '-out', pair.cert]);
    return pair;
  };
  const server = await issue('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const clientExt = (san?: string) => `${san === undefined ? '' : `subjectAltName=${san}\n`}extendedKeyUsage=clientAuth\n`;
  const erp = await issue('erp', '/O=Acme/CN=erp', clientExt('URI:spiffe://acme/erp'));
  const clerk = await issue('clerk', '/O=Acme/CN=clerk', clientExt());
  const globex = await issue('globex', '/O=Globex/CN=globex-admin', clientExt());

  // Expired: the dev CA issues it for a fresh key, valid two days ago until yesterday.
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const day = 86_400_000;
  const expiredDer = await issueEndEntityCertificate({
    ca: devCa,
    subjectPublicKeyInfo: spki,
    subject: { organization: 'Acme', commonName: 'erp' },
    validity: { notBefore: new Date(Date.now() - 2 * day), notAfter: new Date(Date.now() - day) },
  });
  const expired = { cert: file('expired.pem'), key: file('expired.key') };
  fs.writeFileSync(expired.cert, derToPem(expiredDer));
  fs.writeFileSync(expired.key, derToPem(new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), 'PRIVATE KEY'));

  // Another CA, with a client certificate of the same subject as a legitimate one.
  await runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('other-ca.key'), '-out', file('other-ca.pem'), '-subj', '/CN=Other CA', '-days', '2']);
  const foreign = await issue('foreign', '/O=Acme/CN=erp', clientExt('URI:spiffe://acme/erp'), 'other-ca');
  const unknown = { cert: file('unknown.pem'), key: file('unknown.key') };
  await runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', unknown.key, '-out', unknown.cert, '-subj', '/O=Acme/CN=erp', '-days', '2']);
  return { dir, ca: file('ca.pem'), server, erp, clerk, globex, expired, foreign, unknown };
}

/** Client TLS material as the CLI's client takes it. */
export function clientTlsOf(pki: TlsPki, pair: KeyPair): { ca: Buffer; cert: Buffer; key: Buffer } {
  return { ca: fs.readFileSync(pki.ca), cert: fs.readFileSync(pair.cert), key: fs.readFileSync(pair.key) };
}
