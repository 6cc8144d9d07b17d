/**
 * Legacy algorithms real e-contracts still carry (issue 17): an RSA signature with SHA-1 (made here by OpenSSL's
 * `cms -sign -md sha1`, independently of seald's CMS writer) verifies — integrity INTACT, the chain TRUSTED — and is
 * judged as DSS's default policy judges SHA-1: weak, acceptable only with a proof of existence before its sunset, so
 * without a time-stamp it is INDETERMINATE with CRYPTO_CONSTRAINTS_FAILURE_NO_POE, not UNSUPPORTED. A byte changed
 * under it is still a HASH_FAILURE.
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
import { appendSignature, signatureContents } from './attack-kit.ts';

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

/** A signature whose CMS OpenSSL makes over the byte ranges with `md`. */
async function signedByOpenssl(md: string, subFilter: string): Promise<Buffer> {
  const out = await appendSignature(fs.readFileSync(await fixture('simple')), { field: 'Legacy', entries: { SubFilter: name(subFilter) } });
  const { gap } = signatureContents(out);
  const data = path.join(sw.dir, `ranges-${md}.bin`);
  fs.writeFileSync(data, Buffer.concat([out.subarray(0, gap[0]), out.subarray(gap[1])]));
  const cms = execFileSync('openssl', ['cms', '-sign', '-binary', '-md', md, '-in', data, '-signer', sw.eePemPath, '-inkey', sw.eeKeyPath, '-outform', 'DER']);
  out.write(cms.toString('hex'), gap[0] + 1, 'latin1');
  return out;
}

describe('RSA with SHA-1', () => {
  it('verifies (INTACT, TRUSTED) and is INDETERMINATE for want of a proof of existence before SHA-1’s sunset', async () => {
    const report = await verify(await signedByOpenssl('sha1', 'adbe.pkcs7.detached'));
    const sig = report.signatures[0]!;
    expect(sig).toMatchObject({
      integrity: 'INTACT', trust: 'TRUSTED', digestAlgorithm: 'SHA-1', weakAlgorithm: 'SHA-1',
      verdict: 'INDETERMINATE', indication: 'INDETERMINATE', subIndication: 'CRYPTO_CONSTRAINTS_FAILURE_NO_POE',
    });
    expect(sig.reasons.join(' ')).toMatch(/SHA-1, a weak algorithm/);
  });

  it('a changed byte under it is a HASH_FAILURE, as with any digest', async () => {
    const bytes = await signedByOpenssl('sha1', 'adbe.pkcs7.detached');
    const at = bytes.indexOf('/Creator <') + 14; // a hex digit of the original's /Creator
    expect(at).toBeGreaterThan(14);
    bytes[at] = bytes[at]! ^ 0x01;
    const sig = (await verify(bytes)).signatures[0]!;
    expect([sig.integrity, sig.verdict, sig.subIndication]).toEqual(['DIGEST_MISMATCH', 'INVALID', 'HASH_FAILURE']);
  });

  it('the same signature with SHA-256 is VALID and not weak', async () => {
    const sig = (await verify(await signedByOpenssl('sha256', 'adbe.pkcs7.detached'))).signatures[0]!;
    expect(sig).toMatchObject({ integrity: 'INTACT', verdict: 'VALID', weakAlgorithm: null });
  });
});
