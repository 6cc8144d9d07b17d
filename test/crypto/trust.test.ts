/**
 * Trust in the signer: validity at the claimed signing time, and revocation from a CRL carried in the document's DSS
 * (added in a later revision, as LTV tools do: an allowed change). Certificates and the CRL are made by openssl.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../../src/crypto/certificate.ts';
import { PdfStream, PdfString, dict } from '../../src/pdf/objects.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import type { VerificationReport } from '../../src/engine/verify/report.ts';
import { verifyDocument } from '../../src/engine/verify/verify.ts';
import { opensslOk } from './openssl.ts';
import { createSoftwareFixture, type SoftwareFixture } from './software-signer.ts';
import { fixture } from '../fixtures/index.ts';
import { appendSignature, appendUpdate } from '../engine/verify/attack-kit.ts';

let sw: SoftwareFixture;
let anchors: Uint8Array[];
let base: Buffer;

beforeAll(async () => {
  sw = await createSoftwareFixture('EC-P256', '/C=CN/O=Revoked Ltd/CN=Revoked Signer');
  anchors = pemToDer(fs.readFileSync(sw.caPemPath, 'utf8'));
  base = fs.readFileSync(await fixture('simple'));
});
afterAll(() => {
  if (sw) fs.rmSync(sw.dir, { recursive: true, force: true });
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: anchors });
const claimed = (date: string) => ({ M: new PdfString(Buffer.from(date, 'latin1')) });

describe('validity at the claimed signing time', () => {
  it('a signature claiming a time after the certificate expired: EXPIRED, INDETERMINATE', async () => {
    const report = await verify(await appendSignature(base, { field: 'Late', signer: sw.signer, entries: claimed("D:20990101000000+00'00'") }));
    expect(report.signatures[0]).toMatchObject({ integrity: 'INTACT', trust: 'EXPIRED', verdict: 'INDETERMINATE', claimedSigningTime: '2099-01-01T00:00:00.000Z' });
    expect(report.signatures[0]!.reasons.join(' ')).toMatch(/expired on .* before at the claimed signing time/);
    expect(report.verdict).toBe('INDETERMINATE');
  });

  it('a signature claiming a time before the certificate existed: NOT_YET_VALID', async () => {
    const report = await verify(await appendSignature(base, { field: 'Early', signer: sw.signer, entries: claimed("D:20000101120000+08'00'") }));
    expect(report.signatures[0]).toMatchObject({ trust: 'NOT_YET_VALID', claimedSigningTime: '2000-01-01T04:00:00.000Z' });
  });

  it('a valid claimed time is TRUSTED, flagged as unproven', async () => {
    const report = await verify(await appendSignature(base, { field: 'Now', signer: sw.signer }));
    expect(report.verdict).toBe('VALID');
    expect(report.signatures[0]!.reasons).toContain('validity checked at the claimed signing time (/M), which no timestamp proves');
  });
});

describe('revocation from the DSS', () => {
  it('a CRL in a later DSS that revoked the signer before the signature: REVOKED, INVALID; the DSS itself is allowed', async () => {
    const p = (name: string) => path.join(sw.dir, name);
    fs.writeFileSync(p('ca.cnf'), `[ca]\ndefault_ca = d\n[d]\ndatabase = ${p('index.txt')}\ncrlnumber = ${p('crlnumber')}\ndefault_md = sha256\ndefault_crl_days = 30\n`);
    fs.writeFileSync(p('index.txt'), '');
    fs.writeFileSync(p('crlnumber'), '01\n');
    const ca = ['-config', p('ca.cnf'), '-keyfile', p('ca.key'), '-cert', p('ca.pem')];
    await opensslOk(['ca', ...ca, '-revoke', p('ee.pem')]);
    await opensslOk(['ca', ...ca, '-gencrl', '-out', p('crl.pem')]);
    await opensslOk(['crl', '-in', p('crl.pem'), '-outform', 'DER', '-out', p('crl.der')]);
    await new Promise((r) => setTimeout(r, 1100)); // the signature's /M (seconds) after the revocation date
    const signed = await appendSignature(base, { field: 'Revoked', signer: sw.signer });
    expect((await verify(signed)).verdict).toBe('VALID'); // nothing in the document says it is revoked yet

    const withDss = appendUpdate(signed, (doc, w) => {
      const crl = w.add(new PdfStream(dict({}), fs.readFileSync(p('crl.der'))));
      const caCert = w.add(new PdfStream(dict({}), anchors[0]!));
      w.update(doc.catalogRef, doc.catalog.clone().set('DSS', dict({ CRLs: [crl], Certs: [caCert] })));
    });
    const report = await verify(withDss);
    expect(report.signatures[0]).toMatchObject({ integrity: 'INTACT', trust: 'REVOKED', changesAfter: 'ALLOWED', verdict: 'INVALID' });
    expect(report.signatures[0]!.changes.map((c) => [c.kind, c.allowed])).toEqual([['dss-updated', true]]);
    expect(report.signatures[0]!.reasons.join(' ')).toMatch(/revoked on .* \(CRL\)/);
    expect(report.verdict).toBe('INVALID');
  });
});
