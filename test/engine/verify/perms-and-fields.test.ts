/**
 * What the catalog's /Perms says and how fields hold signatures (issue 17): the certification level (DocMDP P) of a
 * certification signature and the /Perms entry naming it, in the JSON report, the CLI's table and the Verify RPC; a
 * usage rights signature (/Perms /UR3, ISO 32000-1 §12.8.2.3) that no field holds, reported with the rights it grants
 * and not judged; two fields whose /V is one signature dictionary (DSS's signature-referenced-from-multiple-fields.pdf),
 * reported under both names and judged once.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { PdfString, dict, name } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { humanReport } from '../../../src/cli/commands/verify.ts';
import { verifyResponse } from '../../../src/server/verify-handler.ts';
import { createSoftwareFixture, type SoftwareFixture } from '../../crypto/software-signer.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendSignature, appendUpdate } from './attack-kit.ts';

let sw: SoftwareFixture;
let anchors: Uint8Array[];
let original: Buffer;
beforeAll(async () => {
  sw = await createSoftwareFixture('EC-P256', '/C=CN/O=Perms Signer/CN=Perms Signer');
  anchors = pemToDer(fs.readFileSync(sw.caPemPath, 'utf8'));
  original = fs.readFileSync(await fixture('simple'));
});
afterAll(() => {
  if (sw) fs.rmSync(sw.dir, { recursive: true, force: true });
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: anchors });

describe('a certification signature', () => {
  it('reports its DocMDP level and the /Perms entry, in JSON, CLI and RPC', async () => {
    const report = await verify(await appendSignature(original, { field: 'Certifier', signer: sw.signer, docMdp: 2 }));
    expect(report.verdict).toBe('VALID');
    expect(report.signatures[0]).toMatchObject({ field: 'Certifier', certificationLevel: 2, perms: 'DocMDP' });
    expect(humanReport('doc.pdf', report)).toMatch(/certification\s+│?\s*DocMDP P=2 \(form filling and signing\)/);
    const rpc = verifyResponse(report).signatures[0]!;
    expect([rpc.certificationLevel, rpc.perms]).toEqual([2, 'DocMDP']);
  });

  it('an approval signature has neither', async () => {
    const report = await verify(await appendSignature(original, { field: 'Approver', signer: sw.signer }));
    expect(report.signatures[0]!.certificationLevel).toBeUndefined();
    expect(verifyResponse(report).signatures[0]!.certificationLevel).toBe(0);
  });
});

describe('a usage rights signature (/Perms /UR3)', () => {
  it('is found and reported with the rights it grants, and judges nothing', async () => {
    const enabled = appendUpdate(original, (doc, w) => {
      const ur3 = w.add(dict({
        Type: name('Sig'), Filter: name('Adobe.PPKLite'), SubFilter: name('adbe.pkcs7.detached'), Name: PdfString.text('Reader extensions'),
        Reference: [dict({ Type: name('SigRef'), TransformMethod: name('UR3'), TransformParams: dict({ Type: name('TransformParams'), V: name('2.2'), Form: [name('FillIn')], Annots: [name('Create'), name('Delete')] }) })],
      }));
      w.update(doc.catalogRef, doc.catalog.clone().set('Perms', dict({ UR3: ur3 })));
    });
    const report = await verify(await appendSignature(enabled, { field: 'Approver', signer: sw.signer }));
    expect(report.verdict).toBe('VALID');
    expect(report.usageRights).toEqual([{ entry: 'UR3', permissions: ['Annots: Create, Delete', 'Form: FillIn'], subFilter: 'adbe.pkcs7.detached', name: 'Reader extensions' }]);
    expect(report.reasons.join(' ')).toContain('a usage rights signature (/Perms /UR3, "Reader extensions") enables in its vendor\'s reader: Annots: Create, Delete; Form: FillIn');
    expect(verifyResponse(report).usageRights).toEqual(['UR3: Annots: Create, Delete; Form: FillIn']);
    expect(report.signatures.map((s) => s.field)).toEqual(['Approver']);
  });
});

describe('two fields with one signature dictionary', () => {
  it('are one signature, judged once, reported under both names', async () => {
    const report = await verify(await appendSignature(original, { field: 'Main', alsoField: 'Copy', signer: sw.signer }));
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]).toMatchObject({ field: 'Main', otherFields: ['Copy'], integrity: 'INTACT', verdict: 'VALID' });
    expect(report.signatures[0]!.reasons).toContain('the same signature dictionary is also the value of field "Copy": one signature, judged once');
    expect(verifyResponse(report).signatures[0]!.otherFields).toEqual(['Copy']);
  });
});
