/**
 * Well-formed CMS in shapes PAdES forbids (issue 17; EU DSS's pades-enveloping-cms.pdf and pdf-double-signer-info.pdf,
 * which DSS reports as "not an ETSI PDF signature": INDETERMINATE / FORMAT_FAILURE): an enveloping SignedData (the
 * signed bytes in eContent) and a SignedData with two SignerInfos. RFC 5652 allows both; ISO 32000-1 §12.8.3.3.1 and
 * ETSI EN 319 142-1 §6.3 do not. Before this change seald called both BAD_CMS (INVALID), a false alarm on an intact
 * signature. Each is made by OpenSSL (`cms -sign -nodetach` over the ranges; `cms -sign` with two -signer) and
 * cross-checked by `openssl cms -verify`; each has a forged twin — a byte changed under it — that stays INVALID.
 * Beside them, a SignerInfo signed with RSASSA-PSS (RFC 4056; DSS's Signature-P-DE_SCI-4.pdf, UNSUPPORTED before):
 * made by OpenSSL with `-keyopt rsa_padding_mode:pss`, verified; its signature value altered, SIG_CRYPTO_FAILURE.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { name } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { SignatureReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { createSoftwareFixture, type SoftwareFixture } from '../../crypto/software-signer.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendSignature, flipSignedByte, signatureContents } from './attack-kit.ts';

let one: SoftwareFixture;
let two: SoftwareFixture;
let anchors: Uint8Array[];

beforeAll(async () => {
  one = await createSoftwareFixture('RSA-2048', '/C=LU/O=Shapes/CN=First Signer');
  two = await createSoftwareFixture('EC-P256', '/C=LU/O=Shapes/CN=Second Signer');
  anchors = [...pemToDer(fs.readFileSync(one.caPemPath, 'utf8')), ...pemToDer(fs.readFileSync(two.caPemPath, 'utf8'))];
});
afterAll(() => {
  for (const f of [one, two]) if (f) fs.rmSync(f.dir, { recursive: true, force: true });
});

const verify = async (bytes: Uint8Array): Promise<SignatureReport> =>
  (await verifyDocument(bufferSource(bytes), { trustAnchors: anchors })).signatures[0]!;

/** An adbe.pkcs7.detached signature whose CMS OpenSSL makes with `args` over the byte ranges (file `ranges`). */
async function signedBy(label: string, args: (ranges: string) => string[]): Promise<{ pdf: Buffer; cms: string; ranges: string }> {
  const out = await appendSignature(fs.readFileSync(await fixture('simple')), {
    field: 'Shape', entries: { SubFilter: name('adbe.pkcs7.detached') }, contentsBytes: 32768,
  });
  const { gap } = signatureContents(out);
  const ranges = path.join(one.dir, `${label}.ranges`);
  fs.writeFileSync(ranges, Buffer.concat([out.subarray(0, gap[0]), out.subarray(gap[1])]));
  const cms = execFileSync('openssl', ['cms', '-sign', '-binary', '-md', 'sha256', '-in', ranges, ...args(ranges), '-outform', 'DER']);
  expect(cms.length * 2).toBeLessThan(gap[1] - gap[0] - 2);
  const cmsFile = `${ranges}.p7`;
  fs.writeFileSync(cmsFile, cms);
  out.write(cms.toString('hex'), gap[0] + 1, 'latin1');
  return { pdf: out, cms: cmsFile, ranges };
}

describe('an enveloping CMS (eContent = the signed bytes)', () => {
  const make = () => signedBy('enveloping', () => ['-nodetach', '-signer', one.eePemPath, '-inkey', one.eeKeyPath]);

  it('intact: not BAD_CMS but INDETERMINATE / FORMAT_FAILURE, "not a PAdES signature", its integrity checked', async () => {
    const { pdf, cms, ranges } = await make();
    // OpenSSL recovers exactly the ranges from the CMS it made and verifies it.
    const recovered = execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-in', cms, '-CAfile', one.caPemPath, '-purpose', 'any', '-binary']);
    expect(recovered.equals(fs.readFileSync(ranges))).toBe(true);
    const sig = await verify(pdf);
    expect(sig).toMatchObject({ integrity: 'INTACT', trust: 'TRUSTED', verdict: 'INDETERMINATE', indication: 'INDETERMINATE', subIndication: 'FORMAT_FAILURE', level: null });
    expect(sig.formatFailure).toMatch(/not a PAdES signature: the CMS envelops the signed bytes/);
    expect(sig.reasons).toContain(sig.formatFailure);
  });

  it('forged twin: a byte changed under it is HASH_FAILURE, INVALID', async () => {
    const sig = await verify(flipSignedByte((await make()).pdf));
    expect([sig.integrity, sig.verdict, sig.subIndication]).toEqual(['DIGEST_MISMATCH', 'INVALID', 'HASH_FAILURE']);
  });
});

describe('a SignedData with two SignerInfos', () => {
  const make = () => signedBy('two-signers', () => ['-signer', one.eePemPath, '-inkey', one.eeKeyPath, '-signer', two.eePemPath, '-inkey', two.eeKeyPath]);

  it('intact: INDETERMINATE / FORMAT_FAILURE, the first SignerInfo checked', async () => {
    const { pdf, cms, ranges } = await make();
    // OpenSSL verifies both SignerInfos against both CAs, and prints two.
    const cas = path.join(one.dir, 'both-cas.pem');
    fs.writeFileSync(cas, fs.readFileSync(one.caPemPath, 'utf8') + fs.readFileSync(two.caPemPath, 'utf8'));
    execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-in', cms, '-content', ranges, '-CAfile', cas, '-purpose', 'any', '-binary', '-out', '/dev/null'], { stdio: 'pipe' });
    const info = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', cms]).toString();
    expect(info.match(/d\.issuerAndSerialNumber/g)).toHaveLength(2);
    const sig = await verify(pdf);
    expect(sig).toMatchObject({ integrity: 'INTACT', trust: 'TRUSTED', verdict: 'INDETERMINATE', subIndication: 'FORMAT_FAILURE' });
    expect(sig.signer?.subject).toMatch(/(First|Second) Signer/); // the first in the DER SET OF, whichever sorts first
    expect(sig.formatFailure).toMatch(/2 SignerInfos/);
  });

  it('forged twin: a byte changed under it is HASH_FAILURE, INVALID', async () => {
    const sig = await verify(flipSignedByte((await make()).pdf));
    expect([sig.integrity, sig.verdict, sig.subIndication]).toEqual(['DIGEST_MISMATCH', 'INVALID', 'HASH_FAILURE']);
  });
});

it('the detached single-signer CMS OpenSSL makes the same way stays a plain signature (no format failure)', async () => {
  const { pdf } = await signedBy('plain', () => ['-signer', one.eePemPath, '-inkey', one.eeKeyPath]);
  const sig = await verify(pdf);
  expect(sig).toMatchObject({ integrity: 'INTACT', trust: 'TRUSTED', verdict: 'VALID', level: 'B-B' });
  expect(sig.formatFailure).toBeUndefined();
});

describe('an RSASSA-PSS SignerInfo (RFC 4056)', () => {
  const make = () => signedBy('pss', () => ['-signer', one.eePemPath, '-inkey', one.eeKeyPath, '-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:32']);

  it('verifies: INTACT, VALID, signatureAlgorithm RSASSA-PSS (OpenSSL verifies it too)', async () => {
    const { pdf, cms, ranges } = await make();
    execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-in', cms, '-content', ranges, '-CAfile', one.caPemPath, '-purpose', 'any', '-binary', '-out', '/dev/null'], { stdio: 'pipe' });
    expect(execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', cms]).toString()).toMatch(/rsassaPss/);
    expect(await verify(pdf)).toMatchObject({ integrity: 'INTACT', signatureAlgorithm: 'RSASSA-PSS', trust: 'TRUSTED', verdict: 'VALID' });
  });

  it('forged twin: the signature value altered is SIG_CRYPTO_FAILURE, INVALID', async () => {
    const { pdf } = await make();
    const { hex, gap } = signatureContents(pdf);
    // The signature OCTET STRING ends OpenSSL's CMS (no unsigned attributes): flip its last byte.
    const last = gap[0] + 1 + hex.length - 2;
    pdf.write((parseInt(pdf.toString('latin1', last, last + 2), 16) ^ 0x01).toString(16).padStart(2, '0'), last, 'latin1');
    const sig = await verify(pdf);
    expect([sig.integrity, sig.verdict, sig.subIndication]).toEqual(['BAD_SIGNATURE', 'INVALID', 'SIG_CRYPTO_FAILURE']);
  });
});
