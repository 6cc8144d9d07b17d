/**
 * adbe.pkcs7.sha1 (ISO 32000-1 §12.8.3.3.1, still in Chinese e-contracts and EU DSS's pkcs7_sha1.pdf; issue 17): the
 * CMS encapsulates the SHA-1 digest of the byte ranges and signs that content. seald called every such signature
 * BAD_CMS ("the CMS encapsulates content"). Made here by OpenSSL (`cms -sign -nodetach` over the 20-byte digest), with
 * and without signed attributes; OpenSSL's own `cms -verify` recovers the digest, which `openssl dgst -sha1` of the
 * ranges must equal. Intact, it is judged like any SHA-1 signature (weak: INDETERMINATE without a proof of existence
 * before the sunset); a changed byte, or a digest of other bytes, is a HASH_FAILURE.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { name } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { createSoftwareFixture, type SoftwareFixture } from '../../crypto/software-signer.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendSignature, flipSignedByte, signatureContents } from './attack-kit.ts';

let sw: SoftwareFixture;
let anchors: Uint8Array[];

beforeAll(async () => {
  sw = await createSoftwareFixture('RSA-2048', '/C=CN/O=Legacy Signer/CN=Legacy Signer');
  anchors = pemToDer(fs.readFileSync(sw.caPemPath, 'utf8'));
});
afterAll(() => {
  if (sw) fs.rmSync(sw.dir, { recursive: true, force: true });
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: anchors });

/** An adbe.pkcs7.sha1 signature; `digestOf` picks the bytes whose SHA-1 the CMS encapsulates (the ranges by default). */
async function signedSha1(options: { noattr?: boolean; digestOf?: (ranges: Buffer) => Buffer } = {}): Promise<{ pdf: Buffer; cms: string; ranges: string }> {
  const out = await appendSignature(fs.readFileSync(await fixture('simple')), { field: 'Legacy', entries: { SubFilter: name('adbe.pkcs7.sha1') } });
  const { gap } = signatureContents(out);
  const ranges = path.join(sw.dir, `ranges-${options.noattr ? 'noattr' : 'attr'}.bin`);
  const rangeBytes = Buffer.concat([out.subarray(0, gap[0]), out.subarray(gap[1])]);
  fs.writeFileSync(ranges, rangeBytes);
  const digestFile = `${ranges}.sha1`;
  fs.writeFileSync(digestFile, execFileSync('openssl', ['dgst', '-sha1', '-binary'], { input: (options.digestOf ?? ((r) => r))(rangeBytes) }));
  const cms = execFileSync('openssl', [
    'cms', '-sign', '-nodetach', '-binary', '-md', 'sha256', ...(options.noattr ? ['-noattr'] : []),
    '-in', digestFile, '-signer', sw.eePemPath, '-inkey', sw.eeKeyPath, '-outform', 'DER',
  ]);
  const cmsFile = `${ranges}.p7`;
  fs.writeFileSync(cmsFile, cms);
  out.write(cms.toString('hex'), gap[0] + 1, 'latin1');
  return { pdf: out, cms: cmsFile, ranges };
}

describe('adbe.pkcs7.sha1', () => {
  it('with signed attributes: INTACT and TRUSTED, weak (SHA-1), as OpenSSL sees it', async () => {
    const { pdf, cms, ranges } = await signedSha1();
    const recovered = execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-in', cms, '-CAfile', sw.caPemPath, '-purpose', 'any', '-binary']);
    expect(recovered.equals(execFileSync('openssl', ['dgst', '-sha1', '-binary', ranges]))).toBe(true);
    const sig = (await verify(pdf)).signatures[0]!;
    expect(sig).toMatchObject({
      subFilter: 'adbe.pkcs7.sha1', integrity: 'INTACT', trust: 'TRUSTED', weakAlgorithm: 'SHA-1',
      verdict: 'INDETERMINATE', subIndication: 'CRYPTO_CONSTRAINTS_FAILURE_NO_POE',
    });
  });

  it('without signed attributes (the signature over the digest itself): INTACT', async () => {
    const sig = (await verify((await signedSha1({ noattr: true })).pdf)).signatures[0]!;
    expect([sig.integrity, sig.trust, sig.weakAlgorithm]).toEqual(['INTACT', 'TRUSTED', 'SHA-1']);
  });

  it('a byte changed under it, or the digest of other bytes: HASH_FAILURE', async () => {
    const pdf = flipSignedByte((await signedSha1()).pdf);
    const changed = (await verify(pdf)).signatures[0]!;
    expect([changed.integrity, changed.verdict, changed.subIndication]).toEqual(['DIGEST_MISMATCH', 'INVALID', 'HASH_FAILURE']);
    const other = (await verify((await signedSha1({ digestOf: (r) => Buffer.concat([r, Buffer.from('x')]) })).pdf)).signatures[0]!;
    expect(other.integrity).toBe('DIGEST_MISMATCH');
  });
});
