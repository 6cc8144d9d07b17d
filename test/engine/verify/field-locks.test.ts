/**
 * Several signatures in one document (issue 17): each is judged on its own — one whose digest does not match is
 * INVALID while the others keep their verdicts; FieldMDP locks (ISO 32000-1 §12.8.2.4, Include / Exclude / All) on a
 * parent field reach its children, on a child they leave its siblings free; a /Lock /P (ISO 32000-2 §12.7.5.5) acts
 * like a certification from the revision it is signed in; a certification with P=2 followed by approval signatures
 * and form filling is VALID throughout.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { PdfDict, PdfRef, PdfString, dict, name, type PdfObject } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { PdfDocument } from '../../../src/pdf/document.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { createSoftwareFixture, type SoftwareFixture } from '../../crypto/software-signer.ts';
import { fixture } from '../../fixtures/index.ts';
import { addAnnotation, addField, appendSignature, appendUpdate, signatureContents } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let sw: SoftwareFixture;
let anchors: Uint8Array[];
/** The acroform fixture plus a parent field "party" with two text children, "party.name" and "party.city". */
let form: Buffer;

beforeAll(async () => {
  sealer = await openSealer();
  sw = await createSoftwareFixture('EC-P256', '/C=CN/O=Second Party/CN=Second Party');
  anchors = [...sealer.anchors, ...pemToDer(fs.readFileSync(sw.caPemPath, 'utf8'))];
  form = appendUpdate(fs.readFileSync(await fixture('acroform')), (doc, w) => {
    const parent = w.reserve();
    const kid = (t: string, y: number): PdfRef =>
      w.add(dict({ Type: name('Annot'), Subtype: name('Widget'), FT: name('Tx'), T: PdfString.text(t), Parent: parent, Rect: [72, y, 272, y + 20], P: doc.page(1).ref, F: 4 }));
    const kids = [kid('name', 600), kid('city', 570)];
    w.update(parent, dict({ T: PdfString.text('party'), Kids: kids }));
    addAnnotation(doc, w, 1, ...kids);
    addField(doc, w, parent);
  });
});
afterAll(async () => {
  await sealer?.close();
  if (sw) fs.rmSync(sw.dir, { recursive: true, force: true });
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: anchors });
const byField = (r: VerificationReport, field: string) => r.signatures.find((s) => s.field === field)!;

/** Fill the field with this fully qualified name (a top-level field or a kid of one). */
function fill(bytes: Buffer, qualified: string, value: string): Buffer {
  return appendUpdate(bytes, (doc, w) => {
    const found = findField(doc, qualified);
    if (!found) throw new Error(`no field ${qualified}`);
    w.update(found.ref, found.dict.clone().set('V', PdfString.text(value)));
  });
}

function findField(doc: PdfDocument, qualified: string): { ref: PdfRef; dict: PdfDict } | undefined {
  const walk = (list: PdfObject | undefined, prefix: string): { ref: PdfRef; dict: PdfDict } | undefined => {
    const arr = doc.resolve(list);
    for (const f of Array.isArray(arr) ? arr : []) {
      const d = doc.resolveDict(f);
      if (!(f instanceof PdfRef) || !d) continue;
      const t = d.get('T');
      const full = t instanceof PdfString ? (prefix ? `${prefix}.${t.asText()}` : t.asText()) : prefix;
      if (full === qualified) return { ref: f, dict: d };
      const inner = walk(d.get('Kids'), full);
      if (inner) return inner;
    }
    return undefined;
  };
  return walk(doc.resolveDict(doc.catalog.get('AcroForm'))?.get('Fields'), '');
}

const fieldMdp = (action: string, fields?: string[]) => ({
  Reference: [dict({
    Type: name('SigRef'), TransformMethod: name('FieldMDP'),
    TransformParams: dict({ Type: name('TransformParams'), Action: name(action), V: name('1.2'), ...(fields ? { Fields: fields.map((f) => PdfString.text(f)) } : {}) }),
  })],
});

describe('one bad signature does not colour the others', () => {
  it('a signature whose digest does not match is INVALID; the seal after it stays VALID', async () => {
    const other = await sealer.seal(fs.readFileSync(await fixture('simple')), 'org', { page: 1, x: 200, y: 200 });
    const bad = await appendSignature(form, { field: 'Broken', contentsHex: signatureContents(other).hex });
    const both = await sealer.seal(bad, 'org', { page: 1, x: 400, y: 150 }, 'Good');
    const report = await verify(both);
    expect(byField(report, 'Broken')).toMatchObject({ integrity: 'DIGEST_MISMATCH', verdict: 'INVALID' });
    expect(byField(report, 'Good')).toMatchObject({ integrity: 'INTACT', trust: 'TRUSTED', changesAfter: 'NONE', verdict: 'VALID' });
    expect(report.verdict).toBe('INVALID');
    expect(report.reasons).toEqual(['signature "Broken": INVALID']);
  });
});

describe('FieldMDP locks on a parent and on a child field', () => {
  it('Include naming the parent: a child is locked', async () => {
    const locked = await appendSignature(form, { field: 'Approver', signer: sw.signer, entries: fieldMdp('Include', ['party']) });
    const report = await verify(fill(locked, 'party.name', 'Mallory'));
    expect(byField(report, 'Approver').changes).toEqual([
      { revision: 4, allowed: false, kind: 'form-field-filled', description: 'form field "party.name" filled in (locked by signature "Approver")' },
    ]);
    expect(report.verdict).toBe('INVALID');
    expect((await verify(fill(locked, 'buyer', 'Other Buyer Ltd'))).verdict).toBe('VALID');
  });

  it('Include naming one child: its sibling stays free', async () => {
    const locked = await appendSignature(form, { field: 'Approver', signer: sw.signer, entries: fieldMdp('Include', ['party.name']) });
    expect((await verify(fill(locked, 'party.name', 'Mallory'))).verdict).toBe('INVALID');
    expect((await verify(fill(locked, 'party.city', 'Hangzhou'))).verdict).toBe('VALID');
  });

  it('Exclude naming the parent: its children free, every other field locked', async () => {
    const locked = await appendSignature(form, { field: 'Approver', signer: sw.signer, entries: fieldMdp('Exclude', ['party']) });
    expect((await verify(fill(locked, 'party.city', 'Hangzhou'))).verdict).toBe('VALID');
    expect((await verify(fill(locked, 'buyer', 'Other Buyer Ltd'))).verdict).toBe('INVALID');
  });

  it('All: every field locked, a later signature still allowed', async () => {
    const locked = await appendSignature(form, { field: 'Approver', signer: sw.signer, entries: fieldMdp('All') });
    expect((await verify(fill(locked, 'party.city', 'Hangzhou'))).verdict).toBe('INVALID');
    const sealed = await verify(await sealer.seal(locked, 'org', { page: 1, x: 400, y: 150 }));
    expect(sealed.verdict).toBe('VALID');
  });

  it('a /Lock with /P 1 on the signed field: nothing after it is allowed, not even a signature', async () => {
    const locked = await appendSignature(form, {
      field: 'Approver', signer: sw.signer,
      entries: { Reference: [dict({ Type: name('SigRef'), TransformMethod: name('FieldMDP'), TransformParams: dict({ Type: name('TransformParams'), Action: name('Include'), Fields: [], P: 1, V: name('1.2') }) })] },
    });
    expect((await verify(locked)).verdict).toBe('VALID');
    const report = await verify(await sealer.seal(locked, 'org', { page: 1, x: 400, y: 150 }));
    expect(byField(report, 'Approver').changesAfter).toBe('NOT_ALLOWED');
    expect(byField(report, 'Approver').changes[0]!.description).toMatch(/field lock of "Approver" sets DocMDP P=1/);
  });
});

describe('a certification with P=2, then approval signatures', () => {
  it('two approvals and a form field filled: every signature VALID', async () => {
    const certified = await appendSignature(form, { field: 'Certification', signer: sw.signer, docMdp: 2, rect: [72, 72, 172, 132] });
    const first = await sealer.seal(certified, 'org', { page: 1, x: 400, y: 150 }, 'Approval1');
    const second = await appendSignature(first, { field: 'Approval2', signer: sw.signer, rect: [200, 72, 300, 132] });
    const report = await verify(fill(second, 'party.city', 'Hangzhou'));
    expect(report.signatures.map((s) => [s.field, s.verdict, s.changesAfter])).toEqual([
      ['Certification', 'VALID', 'ALLOWED'],
      ['Approval1', 'VALID', 'ALLOWED'],
      ['Approval2', 'VALID', 'ALLOWED'],
    ]);
    expect(byField(report, 'Certification').changes.map((c) => c.kind)).toEqual([
      'signature-added', 'signature-widget-added', 'signature-added', 'signature-widget-added', 'form-field-filled',
    ]);
  });
});
