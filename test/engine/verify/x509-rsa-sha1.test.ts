/**
 * adbe.x509.rsa_sha1 (ISO 32000-1 §12.8.3.2; issue 17): /Contents a DER OCTET STRING holding the PKCS#1 v1.5 RSA
 * signature of the SHA-1 digest of the byte ranges, /Cert the signer's certificate (or an array, the signer's first).
 * Until now seald reported it UNSUPPORTED. Signed here by OpenSSL (`dgst -sha1 -sign`) and cross-checked with
 * `openssl pkeyutl -verify` over the digest of the ranges; intact it is judged like every SHA-1 signature (weak:
 * INDETERMINATE without a proof of existence before 2012-08-01, CRYPTO_CONSTRAINTS_FAILURE_NO_POE); its forged twins —
 * a byte changed under it, a signature by another key — are INVALID.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlv } from '../../../src/crypto/der-encode.ts';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { name, PdfString, type PdfObject } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { SignatureReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { createSoftwareFixture, type SoftwareFixture } from '../../crypto/software-signer.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendSignature, flipSignedByte, signatureContents } from './attack-kit.ts';

let sw: SoftwareFixture;
let other: SoftwareFixture;
let anchors: Uint8Array[];

beforeAll(async () => {
  sw = await createSoftwareFixture('RSA-2048', '/C=CN/O=Legacy Contracts/CN=Legacy RSA-SHA1');
  other = await createSoftwareFixture('RSA-2048', '/C=CN/O=Someone Else/CN=Other Key');
  anchors = pemToDer(fs.readFileSync(sw.caPemPath, 'utf8'));
});
afterAll(() => {
  for (const f of [sw, other]) if (f) fs.rmSync(f.dir, { recursive: true, force: true });
});

const verify = async (bytes: Uint8Array): Promise<SignatureReport> =>
  (await verifyDocument(bufferSource(bytes), { trustAnchors: anchors })).signatures[0]!;

/** An adbe.x509.rsa_sha1 signature by `key` (sw's by default), /Cert naming sw's certificate and its CA. */
async function signedRsaSha1(options: { key?: string; certArray?: boolean } = {}): Promise<{ pdf: Buffer; ranges: string; sig: string }> {
  const [ee] = pemToDer(fs.readFileSync(sw.eePemPath, 'utf8'));
  const [ca] = pemToDer(fs.readFileSync(sw.caPemPath, 'utf8'));
  const cert: PdfObject = options.certArray === false ? new PdfString(Buffer.from(ee!)) : [new PdfString(Buffer.from(ee!)), new PdfString(Buffer.from(ca!))];
  const out = await appendSignature(fs.readFileSync(await fixture('simple')), {
    field: 'Legacy', entries: { SubFilter: name('adbe.x509.rsa_sha1'), Cert: cert }, contentsBytes: 1024,
  });
  const { gap } = signatureContents(out);
  const ranges = path.join(sw.dir, `ranges-${Date.now()}-${Math.random().toString(16).slice(2)}.bin`);
  fs.writeFileSync(ranges, Buffer.concat([out.subarray(0, gap[0]), out.subarray(gap[1])]));
  const signature = execFileSync('openssl', ['dgst', '-sha1', '-sign', options.key ?? sw.eeKeyPath, '-binary', ranges]);
  const sig = `${ranges}.sig`;
  fs.writeFileSync(sig, signature);
  out.write(Buffer.from(tlv(0x04, signature)).toString('hex'), gap[0] + 1, 'latin1');
  return { pdf: out, ranges, sig };
}

describe('adbe.x509.rsa_sha1', () => {
  it('intact, /Cert an array: INTACT and TRUSTED, weak (SHA-1), as OpenSSL sees it', async () => {
    const { pdf, ranges, sig } = await signedRsaSha1();
    // OpenSSL's own check: the PKCS#1 signature over the SHA-1 of the ranges, with the certificate's key.
    const digest = `${ranges}.sha1`;
    fs.writeFileSync(digest, execFileSync('openssl', ['dgst', '-sha1', '-binary', ranges]));
    const ok = execFileSync('openssl', ['pkeyutl', '-verify', '-certin', '-inkey', sw.eePemPath, '-in', digest, '-sigfile', sig, '-pkeyopt', 'digest:sha1']).toString();
    expect(ok).toMatch(/Signature Verified Successfully/);
    const report = await verify(pdf);
    expect(report).toMatchObject({
      subFilter: 'adbe.x509.rsa_sha1', integrity: 'INTACT', trust: 'TRUSTED', weakAlgorithm: 'SHA-1', digestAlgorithm: 'SHA-1',
      signatureAlgorithm: 'sha1WithRSAEncryption', verdict: 'INDETERMINATE', subIndication: 'CRYPTO_CONSTRAINTS_FAILURE_NO_POE', changesAfter: 'NONE',
    });
    expect(report.signer?.subject).toMatch(/Legacy RSA-SHA1/);
  });

  it('/Cert a single string: the same', async () => {
    const report = await verify((await signedRsaSha1({ certArray: false })).pdf);
    expect([report.integrity, report.trust, report.weakAlgorithm]).toEqual(['INTACT', 'TRUSTED', 'SHA-1']);
  });

  it('forged twins: a byte changed under it is HASH_FAILURE, another key SIG_CRYPTO_FAILURE — both INVALID', async () => {
    const pdf = flipSignedByte((await signedRsaSha1()).pdf);
    const changed = await verify(pdf);
    expect([changed.integrity, changed.verdict, changed.subIndication]).toEqual(['DIGEST_MISMATCH', 'INVALID', 'HASH_FAILURE']);
    const wrongKey = await verify((await signedRsaSha1({ key: other.eeKeyPath })).pdf);
    expect([wrongKey.integrity, wrongKey.verdict, wrongKey.subIndication]).toEqual(['BAD_SIGNATURE', 'INVALID', 'SIG_CRYPTO_FAILURE']);
  });

  it('without /Cert: no signing certificate, INVALID', async () => {
    const out = await appendSignature(fs.readFileSync(await fixture('simple')), { field: 'Legacy', entries: { SubFilter: name('adbe.x509.rsa_sha1') }, contentsBytes: 1024 });
    const report = await verify(out);
    expect([report.integrity, report.subIndication]).toEqual(['SIGNER_CERT_MISMATCH', 'NO_SIGNING_CERTIFICATE_FOUND']);
  });
});
