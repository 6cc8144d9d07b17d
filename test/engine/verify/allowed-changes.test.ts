/**
 * Changes after a signature that are allowed, and their limits: seald's multi-page marks (/Stamp annotations named by
 * the signature's /Seald_Placement, in the signature's own revision), form filling, and FieldMDP locks.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { PdfDict, PdfRef, PdfString, dict, name } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { createSoftwareFixture, type SoftwareFixture } from '../../crypto/software-signer.ts';
import { fixture } from '../../fixtures/index.ts';
import { addAnnotation, appendSignature, appendUpdate } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let sw: SoftwareFixture;
let anchors: Uint8Array[];

beforeAll(async () => {
  sealer = await openSealer();
  sw = await createSoftwareFixture('EC-P256', '/C=CN/O=Second Party/CN=Second Party');
  anchors = [...sealer.anchors, ...pemToDer(fs.readFileSync(sw.caPemPath, 'utf8'))];
});
afterAll(async () => {
  await sealer?.close();
  if (sw) fs.rmSync(sw.dir, { recursive: true, force: true });
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: anchors });

describe('seald placement records and marks', () => {
  let sealed: Buffer;
  beforeAll(async () => {
    sealed = await sealer.seal(fs.readFileSync(await fixture('cjk-contract')), 'org', { page: 3, x: 200, y: 200 });
  });

  it('a later multi-page seal: its marks on other pages are allowed, its placement is reported', async () => {
    const multi = await appendSignature(sealed, {
      field: 'Multi', signer: sw.signer, page: 1, placement: { kind: 'MultiPage', pages: [1, 2, 3] },
      marks: [{ page: 2, rect: [450, 100, 550, 200] }, { page: 3, rect: [450, 400, 550, 500] }],
    });
    const report = await verify(multi);
    expect(report.verdict).toBe('VALID');
    expect(report.signatures.map((s) => [s.field, s.placement])).toEqual([
      ['Seal1', { kind: 'Position', pages: [3] }],
      ['Multi', { kind: 'MultiPage', pages: [1, 2, 3] }],
    ]);
    expect(report.signatures[0]!.changes.map((c) => [c.kind, c.allowed])).toEqual([
      ['signature-added', true],
      ['signature-widget-added', true],
      ['seal-mark-added', true],
      ['seal-mark-added', true],
    ]);
  });

  // Issue 17: without a certification an annotation after an approval signature is allowed and reported (ISO 32000-1
  // §12.8.2.2: P belongs to the certification signature; pyHanko, DSS and Acrobat agree). What these two tests keep is
  // that such a stamp is reported as an ordinary annotation, never as a seal's mark; one over the seal is not allowed.
  it('a mark on a page its placement does not name is an ordinary annotation, reported as one', async () => {
    const stray = await appendSignature(sealed, {
      field: 'Multi', signer: sw.signer, page: 1, placement: { kind: 'MultiPage', pages: [1, 2] },
      marks: [{ page: 3, rect: [450, 400, 550, 500] }],
    });
    const report = await verify(stray);
    expect(report.verdict).toBe('VALID');
    expect(report.signatures[0]!.changes.filter((c) => c.kind === 'annotation-added').map((c) => c.allowed)).toEqual([true]);
    expect(report.signatures[0]!.changes.map((c) => c.kind)).not.toContain('seal-mark-added');
  });

  it('a locked stamp in a revision without a signature is not a seal mark; over the seal it is not allowed', async () => {
    const beside = appendUpdate(sealed, (doc, w) => {
      addAnnotation(doc, w, 2, w.add(dict({ Type: name('Annot'), Subtype: name('Stamp'), F: 132, Rect: [100, 100, 200, 200] })));
    });
    expect((await verify(beside)).signatures[0]!.changes.map((c) => [c.kind, c.allowed])).toEqual([['annotation-added', true]]);
    const over = appendUpdate(sealed, (doc, w) => {
      addAnnotation(doc, w, 3, w.add(dict({ Type: name('Annot'), Subtype: name('Stamp'), F: 132, Rect: [190, 190, 260, 260] })));
    });
    const report = await verify(over);
    expect(report.signatures[0]!.changesAfter).toBe('NOT_ALLOWED');
    expect(report.signatures[0]!.changes.map((c) => c.kind)).toEqual(['overlay-on-signature']);
  });
});

describe('form filling and FieldMDP', () => {
  let form: Buffer;
  beforeAll(async () => {
    form = fs.readFileSync(await fixture('acroform'));
  });

  function fill(bytes: Buffer, field: string, value: string): Buffer {
    return appendUpdate(bytes, (doc, w) => {
      const af = doc.resolveDict(doc.catalog.get('AcroForm'))!;
      for (const f of doc.resolve(af.get('Fields')) as PdfRef[]) {
        const d = doc.resolveDict(f)!;
        if ((d.get('T') as PdfString).asText() === field) w.update(f, (d as PdfDict).clone().set('V', PdfString.text(value)));
      }
    });
  }

  it('filling in a field after a seal is allowed', async () => {
    const sealed = await sealer.seal(form, 'org', { page: 1, x: 400, y: 150 });
    const report = await verify(fill(sealed, 'amount', '13,000.00 EUR'));
    expect(report.verdict).toBe('VALID');
    expect(report.signatures[0]!.changes.map((c) => [c.kind, c.allowed])).toEqual([['form-field-filled', true]]);
  });

  it('but not a field a signature locked (FieldMDP), nor after a DocMDP P=1 certification', async () => {
    const locked = await appendSignature(form, {
      field: 'Approver', signer: sw.signer,
      entries: {
        Reference: [dict({ Type: name('SigRef'), TransformMethod: name('FieldMDP'), TransformParams: dict({ Type: name('TransformParams'), Action: name('Include'), Fields: [PdfString.text('amount')], V: name('1.2') }) })],
      },
    });
    const amount = await verify(fill(locked, 'amount', '99,999.00 EUR'));
    expect(amount.verdict).toBe('INVALID');
    expect(amount.signatures[0]!.changes).toEqual([
      { revision: 3, allowed: false, kind: 'form-field-filled', description: 'form field "amount" filled in (locked by signature "Approver")' },
    ]);
    expect((await verify(fill(locked, 'buyer', 'Other Buyer Ltd'))).verdict).toBe('VALID');

    const p1 = await appendSignature(form, { field: 'Certification', signer: sw.signer, docMdp: 1 });
    expect((await verify(fill(p1, 'buyer', 'Other Buyer Ltd'))).verdict).toBe('INVALID');
  });
});
