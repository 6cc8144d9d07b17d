import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Certificate,
  certificatePublicKeyInfo,
  checkCertificateValidAt,
  derToPem,
  describeCertificate,
  pemToDer,
} from '../../src/crypto/certificate.ts';
import { publicKeyParameters } from '../../src/crypto/key-parameters.ts';
import { SealdError } from '../../src/errors.ts';
import { opensslOk } from './openssl.ts';
import { createSoftwareFixture, type SoftwareFixture } from './software-signer.ts';

describe('certificate helpers', () => {
  let rsa: SoftwareFixture;
  let ec: SoftwareFixture;

  beforeAll(async () => {
    rsa = await createSoftwareFixture('RSA-2048');
    // openssl -subj: '\\+' is a literal plus, a bare '+' starts another attribute of the same (multi-valued) RDN.
    ec = await createSoftwareFixture('EC-P256', '/C=CN/O=A, B \\+ C/CN=#lead;trail\\ /OU=x+CN=y');
  });

  afterAll(async () => {
    for (const fx of [rsa, ec]) if (fx) await rm(fx.dir, { recursive: true, force: true });
  });

  it('describes a certificate with a Chinese UTF8String subject as RFC 4514', async () => {
    const der = rsa.signer.certificates[0]!;
    const d = describeCertificate(der);
    expect(d.subject).toBe('CN=张三,O=示例商贸有限公司,C=CN');
    expect(d.issuer).toBe('CN=Test Root,O=Test,C=CN');
    expect(d.organization).toBe('示例商贸有限公司');
    expect(d.commonName).toBe('张三');
    expect(d.keyAlgorithm).toBe('RSASSA-PKCS1-v1_5');
    const { stdout } = await opensslOk(['x509', '-in', rsa.eePemPath, '-noout', '-serial', '-startdate', '-enddate', '-dates']);
    const serial = /serial=([0-9A-F]+)/.exec(stdout)![1]!;
    expect(d.serialNumber.replace(/^0+/, '')).toBe(serial.toLowerCase().replace(/^0+/, ''));
    const notAfter = new Date(/notAfter=(.+)/.exec(stdout)![1]!);
    const notBefore = new Date(/notBefore=(.+)/.exec(stdout)![1]!);
    expect(d.notAfter.getTime()).toBe(notAfter.getTime());
    expect(d.notBefore.getTime()).toBe(notBefore.getTime());
  });

  it('escapes RFC 4514 special characters and joins multi-valued RDNs with +', async () => {
    const d = describeCertificate(ec.signer.certificates[0]!);
    expect(d.subject).toBe('CN=y+OU=x,CN=\\#lead\\;trail\\ ,O=A\\, B \\+ C,C=CN');
    expect(d.keyAlgorithm).toBe('ECDSA');
    expect(d.commonName).toBe('#lead;trail ');
    // Same escaping as OpenSSL's RFC 2253 rendering. Only the order inside the multi-valued RDN differs, which
    // RFC 4514 §2.2 leaves open (OpenSSL reverses it; seald keeps the DER SET order).
    const { stdout } = await opensslOk(['x509', '-in', ec.eePemPath, '-noout', '-subject', '-nameopt', 'RFC2253']);
    expect(stdout.trim()).toBe(`subject=OU=x+CN=y,${d.subject.slice(d.subject.indexOf(',') + 1)}`);
  });

  it('reads every certificate of a PEM bundle in order, and writes PEM openssl reads back', async () => {
    const bundle = `junk before\n${await readFile(rsa.eePemPath, 'utf8')}\n${await readFile(rsa.caPemPath, 'utf8')}trailer`;
    const ders = pemToDer(bundle);
    expect(ders).toHaveLength(2);
    expect(Buffer.from(ders[0]!).equals(Buffer.from(rsa.signer.certificates[0]!))).toBe(true);
    expect(Buffer.from(ders[1]!).equals(Buffer.from(rsa.signer.certificates[1]!))).toBe(true);
    const pem = derToPem(ders[0]!);
    expect(pem.split('\n').every((line) => line.length <= 64)).toBe(true);
    const path = join(rsa.dir, 'roundtrip.pem');
    await writeFile(path, pem);
    const { stdoutBytes } = await opensslOk(['x509', '-in', path, '-outform', 'DER']);
    expect(stdoutBytes.equals(Buffer.from(ders[0]!))).toBe(true);
  });

  it('checks validity at a time, naming the subject and the dates', () => {
    const der = rsa.signer.certificates[0]!;
    const { notBefore, notAfter } = describeCertificate(der);
    expect(() => checkCertificateValidAt(der, new Date())).not.toThrow();
    const late = (() => {
      try {
        checkCertificateValidAt(der, new Date(notAfter.getTime() + 1000));
      } catch (e) {
        return e;
      }
    })();
    expect(late).toBeInstanceOf(SealdError);
    expect(late).toMatchObject({ category: 'precondition', code: 'CERT_EXPIRED' });
    expect((late as Error).message).toContain('CN=张三,O=示例商贸有限公司,C=CN');
    expect((late as Error).message).toContain(notAfter.toISOString());
    expect(() => checkCertificateValidAt(der, new Date(notBefore.getTime() - 1000))).toThrow(
      expect.objectContaining({ code: 'CERT_NOT_YET_VALID' }),
    );
  });

  it('extracts the SubjectPublicKeyInfo and its parameters', async () => {
    const spki = certificatePublicKeyInfo(rsa.signer.certificates[0]!);
    const { stdoutBytes } = await opensslOk(['pkey', '-in', rsa.eeKeyPath, '-pubout', '-outform', 'DER']);
    expect(Buffer.from(spki).equals(stdoutBytes)).toBe(true);
    expect(publicKeyParameters(spki)).toEqual({ algorithm: 'RSASSA-PKCS1-v1_5', modulusBytes: 256 });
    expect(publicKeyParameters(certificatePublicKeyInfo(ec.signer.certificates[0]!))).toEqual({
      algorithm: 'ECDSA',
      namedCurve: 'prime256v1',
      fieldBytes: 32,
      orderBits: 256,
    });
  });

  it('the Certificate model reads what openssl reads: validity, CA flag, key usage, issuer, and the chain signature', async () => {
    const [leafDer, caDer] = rsa.signer.certificates as [Uint8Array, Uint8Array];
    expect(caDer).toBeDefined();
    const leaf = Certificate.from(leafDer);
    const ca = Certificate.from(caDer);
    expect(Certificate.from(leafDer)).toBe(leaf); // decoded once per array
    const { stdout } = await opensslOk(['x509', '-in', rsa.eePemPath, '-noout', '-startdate', '-enddate', '-ext', 'basicConstraints,keyUsage']);
    expect(leaf.notBefore.getTime()).toBe(new Date(/notBefore=(.*)/.exec(stdout)![1]!).getTime());
    expect(leaf.notAfter.getTime()).toBe(new Date(/notAfter=(.*)/.exec(stdout)![1]!).getTime());
    expect(leaf.isCA).toBe(/CA:TRUE/.test(stdout));
    expect(ca.isCA).toBe(true);
    if (/Digital Signature/.test(stdout)) expect(leaf.keyUsage?.(0)).toBe(true);
    expect(Buffer.from(leaf.issuerName.bytes).equals(Buffer.from(ca.subjectName.bytes))).toBe(true);
    expect(leaf.isIssuedBy(ca)).toBe(true);
    expect(ca.isIssuedBy(leaf)).toBe(false);
    const tampered = new Uint8Array(leafDer);
    tampered[Buffer.from(tampered).indexOf(Buffer.from('Test Root')) + 1] ^= 0x20; // the issuer Name inside tbsCertificate
    expect(Certificate.from(tampered).verifySignedBy(ca)).toBe(false);
    expect(() => Certificate.from(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toThrow(expect.objectContaining({ code: 'BAD_CERTIFICATE' }));
  });
});
