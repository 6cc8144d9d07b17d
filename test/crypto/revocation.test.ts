/**
 * OCSP and CRL fetching against OpenSSL's responder and `openssl ca -gencrl` (test/support/test-revocation.ts), for
 * certificates the dev CA issues with AIA / CRL distribution point URLs on 127.0.0.1.
 */
import { webcrypto } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Certificate, derToPem } from '../../src/crypto/certificate.ts';
import { createDevCa, issueEndEntityCertificate, type DevCa } from '../../src/crypto/dev-ca.ts';
import { checkOcspResponse, crlUrls, fetchCrl, fetchOcsp, ocspUrls } from '../../src/crypto/revocation.ts';
import { SealdError } from '../../src/errors.ts';
import { startTestRevocation, type TestRevocation } from '../support/test-revocation.ts';

let dir: string;
let ca: DevCa;
let caCert: Certificate;
let responder: TestRevocation;

async function newCertificate(commonName: string): Promise<Uint8Array> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const der = await issueEndEntityCertificate({
    ca,
    subjectPublicKeyInfo: new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey)),
    subject: { country: 'CN', organization: 'revocation test', commonName },
    validity: { notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86_400_000) },
    revocation: { ocspUrl: responder.ocspUrl, crlUrl: responder.crlUrl },
  });
  await responder.issue(der);
  return der;
}

async function failure(promise: Promise<unknown>): Promise<SealdError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SealdError);
  return error as SealdError;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-revocation-'));
  ca = await createDevCa();
  caCert = Certificate.from(ca.certificate);
  fs.writeFileSync(path.join(dir, 'ca.pem'), derToPem(ca.certificate));
  fs.writeFileSync(path.join(dir, 'ca.key.pem'), derToPem(ca.privateKeyPkcs8, 'PRIVATE KEY'));
  responder = await startTestRevocation({
    dir: path.join(dir, 'responder'),
    ca: { certPem: path.join(dir, 'ca.pem'), keyPem: path.join(dir, 'ca.key.pem') },
  });
});

afterAll(async () => {
  await responder?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('revocation', () => {
  it('reads the OCSP and CRL URLs the dev CA puts in a certificate', async () => {
    const cert = Certificate.from(await newCertificate('urls'));
    expect(ocspUrls(cert)).toEqual([responder.ocspUrl]);
    expect(crlUrls(cert)).toEqual([responder.crlUrl]);
    expect(ocspUrls(caCert)).toEqual([]);
  });

  it('gets good, then revoked, from both OCSP and the CRL', async () => {
    const der = await newCertificate('good then revoked');
    const cert = Certificate.from(der);
    const ocsp = await fetchOcsp(cert, caCert, responder.ocspUrl, { timeoutMs: 5000 });
    expect(ocsp.status).toBe('good');
    expect(ocsp.nextUpdate!.getTime()).toBeGreaterThan(Date.now());
    const crl = await fetchCrl(cert, caCert, responder.crlUrl, { timeoutMs: 5000 });
    expect(crl.status).toBe('good');

    const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    await responder.revoke(der, at);
    const revoked = await fetchOcsp(cert, caCert, responder.ocspUrl, { timeoutMs: 5000 });
    expect(revoked.status).toBe('revoked');
    expect(revoked.revokedAt?.getTime()).toBe(at.getTime());
    const revokedCrl = await fetchCrl(cert, caCert, responder.crlUrl, { timeoutMs: 5000 });
    expect(revokedCrl.status).toBe('revoked');
    expect(revokedCrl.revokedAt?.getTime()).toBe(at.getTime());
  });

  it('refuses a tampered or misdirected OCSP response', async () => {
    const cert = Certificate.from(await newCertificate('tamper'));
    const other = Certificate.from(await newCertificate('other'));
    const answer = await fetchOcsp(cert, caCert, responder.ocspUrl, { timeoutMs: 5000 });
    expect(() => checkOcspResponse(answer.der, other, caCert, new Date())).toThrow(/not about this certificate/);
    // Change a digit of producedAt (the first GeneralizedTime, tag 0x18 length 15) in the signed ResponseData.
    const tampered = Uint8Array.from(answer.der);
    const at = Buffer.from(tampered).indexOf(Buffer.from([0x18, 0x0f]));
    expect(at).toBeGreaterThan(0);
    tampered[at + 5] = tampered[at + 5] === 0x31 ? 0x32 : 0x31;
    expect(() => checkOcspResponse(tampered, cert, caCert, new Date())).toThrow(/not signed by the issuer/);
    // Stale: the responder said it is good for an hour (-nmin 60); two hours later it is out of date.
    expect(() => checkOcspResponse(answer.der, cert, caCert, new Date(Date.now() + 2 * 3600_000))).toThrow(/expired/);
  });

  it('reports a responder that is down, slow or talking nonsense', async () => {
    const cert = Certificate.from(await newCertificate('faults'));
    try {
      responder.behaviour = 'garbage';
      expect((await failure(fetchOcsp(cert, caCert, responder.ocspUrl, { timeoutMs: 5000 }))).code).toBe('OCSP_BAD_RESPONSE');
      expect((await failure(fetchCrl(cert, caCert, responder.crlUrl, { timeoutMs: 5000 }))).code).toBe('CRL_BAD');
      responder.behaviour = 'down';
      const down = await failure(fetchOcsp(cert, caCert, responder.ocspUrl, { timeoutMs: 5000 }));
      expect(down.category).toBe('unavailable');
      expect(down.code).toBe('OCSP_UNREACHABLE');
      responder.behaviour = { slowMs: 1500 };
      const slow = await failure(fetchOcsp(cert, caCert, responder.ocspUrl, { timeoutMs: 300 }));
      expect(slow.category).toBe('deadline');
    } finally {
      responder.behaviour = 'ok';
    }
  });
});
