/**
 * Signature time-stamps (CAdES signature-time-stamp, RFC 3161 Appendix A; ETSI EN 319 122-1 §5.3): the token's
 * messageImprint must be the hash of the signature value of the SignerInfo that carries it (RFC 3161 §2.4.2). A token
 * copied from another signature of the same document is genuine, correctly signed by a trusted TSA — and proves
 * nothing about this signature. Tokens come from OpenSSL's TSA (test/support/test-tsa.ts) issued by the dev CA.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { TsaClient } from '../../../src/crypto/tsa-client.ts';
import type { SignatureReport, VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import { createSoftwareFixture, type SoftwareFixture } from '../../crypto/software-signer.ts';
import { fixture } from '../../fixtures/index.ts';
import { startTestTsa, type TestTsa } from '../../support/test-tsa.ts';
import { appendSignature } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';
import { withSigningCertificates, type EssAttribute } from './token-kit.ts';

let sealer: Sealer;
let sw: SoftwareFixture;
let tsa: TestTsa;
let client: TsaClient;
let anchors: Uint8Array[];
let base: Buffer;

beforeAll(async () => {
  sealer = await openSealer();
  sw = await createSoftwareFixture('EC-P256', '/C=CN/O=Stamped/CN=Stamped');
  const ca = path.join(sealer.dataDir, 'ca');
  tsa = await startTestTsa({ dir: path.join(sealer.dataDir, 'tsa'), ca: { certPem: path.join(ca, 'dev-ca.pem'), keyPem: path.join(ca, 'dev-ca.key.pem') } });
  client = new TsaClient({ endpoints: [{ url: tsa.url }], timeoutMs: 5000 });
  anchors = [...sealer.anchors, ...pemToDer(fs.readFileSync(sw.caPemPath, 'utf8'))];
  base = fs.readFileSync(await fixture('simple'));
});
afterAll(async () => {
  await tsa?.close();
  await sealer?.close();
  if (sw) fs.rmSync(sw.dir, { recursive: true, force: true });
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: anchors });
const sig = (r: VerificationReport, field: string): SignatureReport => r.signatures.find((s) => s.field === field)!;

it('a signature time-stamp over this signature value: B-T, the time proven', async () => {
  const stamped = await appendSignature(base, { field: 'A', signer: sw.signer, timestamp: async (imprint) => (await client.timestamp(imprint)).der });
  const report = await verify(stamped);
  expect(report.verdict).toBe('VALID');
  expect(sig(report, 'A')).toMatchObject({ level: 'B-T', signatureTimestamp: 'VERIFIED', verdict: 'VALID' });
  expect(sig(report, 'A').timestampTime).not.toBeNull();
});

it('a time-stamp token copied from another signature of the same document: the time-stamp FAILED, the signature not VALID', async () => {
  let copied: Uint8Array | undefined;
  const first = await appendSignature(base, {
    field: 'A', signer: sw.signer,
    timestamp: async (imprint) => (copied = (await client.timestamp(imprint)).der),
  });
  const forged = await appendSignature(first, { field: 'B', signer: sw.signer, timestamp: async () => copied! });
  const report = await verify(forged);
  const b = sig(report, 'B');
  // The token is genuine and its TSA trusted, but its messageImprint is the hash of A's signature value, not B's.
  expect(b).toMatchObject({ integrity: 'INTACT', timestampTime: null, level: 'B-B', signatureTimestamp: 'FAILED', verdict: 'INDETERMINATE' });
  expect(b.reasons.some((r) => /time-stamp.*messageImprint/.test(r))).toBe(true);
  // A keeps its own, sound time-stamp; the overall verdict is the worst of the two.
  expect(sig(report, 'A')).toMatchObject({ level: 'B-T', signatureTimestamp: 'VERIFIED', verdict: 'VALID' });
  expect(report.verdict).toBe('INDETERMINATE');
  expect(report.reasons).toContain('signature "B": INDETERMINATE');
});

describe('the signing-certificate attributes of a signature time-stamp (RFC 2634 §5.4, RFC 5035 §3, ETSI EN 319 122-1 §5.2.2.3)', () => {
  /** A signature whose time-stamp token the TSA re-issued with these signing-certificate attributes. */
  const stampedWith = (attributes: EssAttribute[]) => {
    const tsaDir = path.join(sealer.dataDir, 'tsa');
    const cert = pemToDer(fs.readFileSync(path.join(tsaDir, 'tsa.pem'), 'utf8'))[0]!;
    const key = fs.readFileSync(path.join(tsaDir, 'tsa.key'), 'utf8');
    return appendSignature(base, {
      field: 'A', signer: sw.signer,
      timestamp: async (imprint) => withSigningCertificates((await client.timestamp(imprint)).der, cert, key, attributes),
    });
  };
  const stamp = async (attributes: EssAttribute[]): Promise<SignatureReport> => sig(await verify(await stampedWith(attributes)), 'A');

  it('one v2, one v1, or a v1 and a v2 naming the same TSA certificate (DSS PAdES-LT.pdf, accepted by DSS): the token verifies, B-T', async () => {
    for (const kinds of [['v2'], ['v1'], ['v1', 'v2']] as const) {
      const a = await stamp(kinds.map((kind) => ({ kind })));
      expect(a, kinds.join()).toMatchObject({ signatureTimestamp: 'VERIFIED', level: 'B-T', verdict: 'VALID' });
    }
  });

  it('one type twice, or a v1 and a v2 naming different certificates: the signing certificate is not identified, the time-stamp FAILED', async () => {
    const twice = await stamp([{ kind: 'v2' }, { kind: 'v2' }]);
    expect(twice).toMatchObject({ integrity: 'INTACT', signatureTimestamp: 'FAILED', timestampTime: null, level: 'B-B', verdict: 'INDETERMINATE', subIndication: 'SIG_CONSTRAINTS_FAILURE' });
    expect(twice.reasons.some((r) => /2 signing-certificate-v2 attributes.*not identified/.test(r))).toBe(true);
    const disagreeing = await stamp([{ kind: 'v1', names: sw.signer.certificates[0]! }, { kind: 'v2' }]);
    expect(disagreeing.signatureTimestamp).toBe('FAILED');
    expect(disagreeing.reasons.some((r) => /signing-certificate names another certificate/.test(r))).toBe(true);
  });
});
