/**
 * TLS for the embedded demo when it listens off loopback (issue 22, secure by default): the development CA issues a
 * server certificate for the gRPC port and one client certificate for whoever holds the data directory, so the demo
 * serves mutual TLS like any configured seald (src/server/tls.ts) instead of being refused for plaintext.
 *
 *   <data dir>/tls/server.pem       server certificate then the dev CA (SANs: this host's name, localhost,
 *                                    127.0.0.1, ::1, the listen host, and SEALD_TLS_SERVER_NAMES)
 *   <data dir>/tls/server.key.pem   its key (0600)
 *   <data dir>/tls/client.pem       CN=seald-demo-client, clientAuth: the CLI on the same data dir uses it
 *   <data dir>/tls/client.key.pem   its key (0600)
 *
 * The keys are software keys: they protect the transport of a demo, not a seal. Certificates are re-issued when they
 * no longer fit (another CA, expired, a name missing); keys are kept.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { Certificate, derToPem, pemToDer } from '../crypto/certificate.ts';
import { issueEndEntityCertificate, type DevCa, type TlsProfile } from '../crypto/dev-ca.ts';
import type { TlsConfig } from '../config/seals-config.ts';
import { exists, readText, writeAtomic } from './files.ts';

export const DEMO_TLS_DIR = 'tls';
export const DEMO_CLIENT_COMMON_NAME = 'seald-demo-client';

/** The files of the demo's TLS material inside a data directory. */
export function demoTlsFiles(dataDir: string): { serverCert: string; serverKey: string; clientCert: string; clientKey: string; ca: string } {
  const dir = path.join(dataDir, DEMO_TLS_DIR);
  return {
    serverCert: path.join(dir, 'server.pem'),
    serverKey: path.join(dir, 'server.key.pem'),
    clientCert: path.join(dir, 'client.pem'),
    clientKey: path.join(dir, 'client.key.pem'),
    ca: path.join(dataDir, 'ca', 'dev-ca.pem'),
  };
}

/** The names a server certificate covers: always this host and loopback, the listen host unless a wildcard, and extras. */
export function serverNames(listen: string, extra: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  const wanted = [hostname(), 'localhost', '127.0.0.1', '::1', ...(['0.0.0.0', '::', ''].includes(host) ? [] : [host]), ...extra];
  const unique = [...new Set(wanted.map((n) => n.trim()).filter((n) => n !== ''))];
  return { dnsNames: unique.filter((n) => isIP(n) === 0), ipAddresses: unique.filter((n) => isIP(n) !== 0) };
}

/** The SANs of a certificate as Node prints them, split: `DNS:a`, `IP Address:127.0.0.1`. */
function sansOf(certificate: Uint8Array): string[] {
  const text = new X509Certificate(certificate).subjectAltName ?? '';
  return text.split(/,\s*/).filter((s) => s !== '');
}

/** An IP literal as Node's subjectAltName prints it: IPv4 as is, IPv6 as eight upper-case groups (`0:0:0:0:0:0:0:1`). */
function printedIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail] = ip.split('::');
  const groups = (text: string | undefined): string[] => (text === undefined || text === '' ? [] : text.split(':'));
  const first = groups(head);
  const last = groups(tail);
  const all = [...first, ...new Array<string>(8 - first.length - last.length).fill('0'), ...last];
  return all.map((g) => parseInt(g, 16).toString(16).toUpperCase()).join(':');
}

async function ensureKey(file: string): Promise<{ spki: Uint8Array }> {
  const existing = await readText(file);
  if (existing !== undefined) {
    try {
      const key = createPrivateKey(existing);
      return { spki: new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' })) };
    } catch {
      // unreadable: replaced below
    }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeAtomic(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  return { spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })) };
}

/** Why the certificate in `file` must be issued again, or undefined when it still fits. */
async function staleReason(file: string, spki: Uint8Array, ca: DevCa, wantedSans: string[]): Promise<string | undefined> {
  const text = await readText(file);
  if (text === undefined) return 'missing';
  try {
    const [leaf, issuer] = pemToDer(text);
    if (leaf === undefined || issuer === undefined || !Buffer.from(issuer).equals(Buffer.from(ca.certificate))) return 'issued by another CA';
    const certificate = Certificate.from(leaf);
    if (!Buffer.from(certificate.subjectPublicKeyInfo).equals(Buffer.from(spki))) return 'for another key';
    if (certificate.notAfter.getTime() <= Date.now() + 86_400_000) return 'expires within a day';
    const has = new Set(sansOf(leaf));
    const missing = wantedSans.filter((s) => !has.has(s));
    return missing.length === 0 ? undefined : `names missing: ${missing.join(', ')}`;
  } catch {
    return 'unreadable';
  }
}

async function ensureCertificate(
  certFile: string,
  keyFile: string,
  ca: DevCa,
  commonName: string,
  profile: TlsProfile,
  log: Logger,
): Promise<void> {
  const { spki } = await ensureKey(keyFile);
  const wanted = [...(profile.dnsNames ?? []).map((n) => `DNS:${n}`), ...(profile.ipAddresses ?? []).map((ip) => `IP Address:${printedIp(ip)}`)];
  const reason = await staleReason(certFile, spki, ca, wanted);
  if (reason === undefined) return;
  const now = Date.now();
  const certificate = await issueEndEntityCertificate({
    ca,
    subjectPublicKeyInfo: spki,
    subject: { organization: 'seald demo', commonName },
    validity: { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 365 * 86_400_000) },
    tls: profile,
  });
  await writeAtomic(certFile, derToPem(certificate) + derToPem(ca.certificate));
  log.info({ certificate: certFile, commonName, names: [...(profile.dnsNames ?? []), ...(profile.ipAddresses ?? [])], reason }, 'issued demo TLS certificate');
}

/**
 * The demo's server and client certificates in `<data dir>/tls`, issued by the dev CA (kept when they still fit).
 * Returns the server's TLS configuration: its chain, its key, and the dev CA as the client CA.
 */
export async function ensureDemoTls(dataDir: string, ca: DevCa, listen: string, extraNames: readonly string[], log: Logger): Promise<TlsConfig> {
  const files = demoTlsFiles(dataDir);
  await mkdir(path.dirname(files.serverCert), { recursive: true, mode: 0o700 });
  const names = serverNames(listen, extraNames);
  await ensureCertificate(files.serverCert, files.serverKey, ca, names.dnsNames[0] ?? 'localhost', { usage: ['serverAuth'], ...names }, log);
  await ensureCertificate(files.clientCert, files.clientKey, ca, DEMO_CLIENT_COMMON_NAME, { usage: ['clientAuth'] }, log);
  return { cert: files.serverCert, key: files.serverKey, clientCa: files.ca };
}

/** True when the data directory holds the demo's TLS material (it has served, or will serve, TLS). */
export async function hasDemoTls(dataDir: string): Promise<boolean> {
  const files = demoTlsFiles(dataDir);
  return (await exists(files.serverCert)) && (await exists(files.serverKey));
}
