import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificatePublicKeyInfo, derToPem, describeCertificate } from '../../src/crypto/certificate.ts';
import { createDevCa, issueEndEntityCertificate, type DevCa } from '../../src/crypto/dev-ca.ts';
import { openssl, opensslOk } from './openssl.ts';

describe('development CA', () => {
  let dir: string;
  let ca: DevCa;
  let caPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seald-devca-'));
    ca = await createDevCa();
    caPath = join(dir, 'ca.pem');
    await writeFile(caPath, derToPem(ca.certificate));
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('creates a self-signed EC P-256 CA with the RFC 5280 CA extensions', async () => {
    const d = describeCertificate(ca.certificate);
    expect(d.subject).toBe('CN=seald Development CA,O=seald demo,C=CN');
    expect(d.issuer).toBe(d.subject);
    expect(d.keyAlgorithm).toBe('ECDSA');
    const { stdout } = await opensslOk(['x509', '-in', caPath, '-noout', '-text']);
    expect(stdout).toMatch(/X509v3 Basic Constraints: critical\s*\n\s*CA:TRUE, pathlen:0/);
    expect(stdout).toMatch(/X509v3 Key Usage: critical\s*\n\s*Certificate Sign, CRL Sign/);
    expect(stdout).toContain('X509v3 Subject Key Identifier');
    expect(stdout).toContain('ASN1 OID: prime256v1');
    const self = await openssl(['verify', '-CAfile', caPath, caPath]);
    expect(self.stdout).toContain(': OK');
    // The PKCS#8 key is readable by openssl and matches the certificate.
    const keyPath = join(dir, 'ca.key.pem');
    await writeFile(keyPath, derToPem(ca.privateKeyPkcs8, 'PRIVATE KEY'));
    const { stdoutBytes } = await opensslOk(['pkey', '-in', keyPath, '-pubout', '-outform', 'DER']);
    expect(stdoutBytes.equals(Buffer.from(certificatePublicKeyInfo(ca.certificate)))).toBe(true);
  });

  it.each(['rsa', 'ec'] as const)('issues an end-entity certificate for a %s key that openssl verifies', async (kind) => {
    const keys =
      kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = new Uint8Array(keys.publicKey.export({ type: 'spki', format: 'der' }));
    const notBefore = new Date(Date.now() - 86_400_000);
    const notAfter = new Date(Date.now() + 2 * 365 * 86_400_000);
    const der = await issueEndEntityCertificate({
      ca,
      subjectPublicKeyInfo: spki,
      subject: { country: 'CN', organization: '示例商贸有限公司', commonName: '示例商贸有限公司 电子印章' },
      validity: { notBefore, notAfter },
    });
    const path = join(dir, `ee-${kind}.pem`);
    await writeFile(path, derToPem(der));
    const verified = await openssl(['verify', '-CAfile', caPath, path]);
    expect(verified.stdout.trim()).toBe(`${path}: OK`);
    const d = describeCertificate(der);
    expect(d.subject).toBe('CN=示例商贸有限公司 电子印章,O=示例商贸有限公司,C=CN');
    expect(d.issuer).toBe('CN=seald Development CA,O=seald demo,C=CN');
    expect(Math.floor(d.notBefore.getTime() / 1000)).toBe(Math.floor(notBefore.getTime() / 1000));
    expect(Buffer.from(certificatePublicKeyInfo(der)).equals(Buffer.from(spki))).toBe(true);
    const { stdout } = await opensslOk(['x509', '-in', path, '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus']);
    expect(stdout).toMatch(/X509v3 Key Usage: critical\s*\n\s*Digital Signature, Non Repudiation/);
    expect(stdout).toMatch(/X509v3 Basic Constraints: critical\s*\n\s*CA:FALSE/);
    const ski = /X509v3 Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(
      (await opensslOk(['x509', '-in', caPath, '-noout', '-text'])).stdout,
    )![1];
    expect(stdout).toMatch(new RegExp(`X509v3 Authority Key Identifier:\\s*\\n\\s*(keyid:)?${ski}`));
    const asn1 = await opensslOk(['asn1parse', '-in', path]);
    expect(asn1.stdout).toMatch(/UTF8STRING\s*:示例商贸有限公司 电子印章|UTF8STRING/);
    expect(asn1.stdout).toMatch(/PRINTABLESTRING\s*:CN/);
  });
});
