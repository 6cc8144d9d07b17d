/**
 * The shadow attack "replace" through a form field (issue 17; EU DSS's dss-2236/replace.pdf, Mladenov et al., "Vulnerability
 * Report: Attacks bypassing the signature validation in PDF", 2021): the field is signed holding its final value
 * behind a blank appearance, and a later update redraws the appearance so that the value shows. No value changed, so
 * it passed as form filling; a field's appearance redrawn for an unchanged value is now not allowed. Filling in a
 * new value (and drawing it) stays allowed.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDict, PdfRef, PdfString, dict, name } from '../../../src/pdf/objects.ts';
import type { PdfDocument } from '../../../src/pdf/document.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendUpdate, stream } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let signed: Buffer;

/** The field `amount` of the form fixture, its reference and dictionary. */
function amountField(doc: PdfDocument): [PdfRef, PdfDict] {
  const af = doc.resolveDict(doc.catalog.get('AcroForm'))!;
  for (const f of doc.resolve(af.get('Fields')) as PdfRef[]) {
    const d = doc.resolveDict(f)!;
    if ((d.get('T') as PdfString).asText() === 'amount') return [f, d];
  }
  throw new Error('the form fixture has no field "amount"');
}

/** An update that sets the field's appearance (and, when given, its value). */
function draw(bytes: Buffer, text: string, value?: string): Buffer {
  return appendUpdate(bytes, (doc, w) => {
    const [ref, d] = amountField(doc);
    const shown = text === '' ? '' : `/Tx BMC BT /Helv 10 Tf 2 4 Td (${text}) Tj ET EMC`;
    const ap = w.add(stream(shown, { Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 150, 20] }));
    const next = d.clone().set('AP', dict({ N: ap }));
    if (value !== undefined) next.set('V', PdfString.text(value));
    w.update(ref, next);
  });
}

beforeAll(async () => {
  sealer = await openSealer();
  // Signed with the value already in the field, shown blank.
  const prepared = draw(fs.readFileSync(await fixture('acroform')), '', '99,999.00 EUR');
  signed = await sealer.seal(prepared, 'org', { page: 1, x: 400, y: 150 });
});
afterAll(async () => {
  await sealer?.close();
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: sealer.anchors });
const kinds = (r: VerificationReport): [string, boolean][] => r.signatures[0]!.changes.map((c) => [c.kind, c.allowed]);

describe('a form field whose appearance changes after the seal', () => {
  it('redrawn to show the value it was signed with: INVALID (shadow attack "replace")', async () => {
    const report = await verify(draw(signed, '99,999.00 EUR'));
    expect(report.verdict).toBe('INVALID');
    expect(report.signatures[0]!.changes).toEqual([
      { revision: 4, allowed: false, kind: 'appearance-redrawn', description: 'the appearance of form field "amount" was redrawn although its value did not change' },
    ]);
  });

  it('filled in with a new value and drawn: allowed form filling', async () => {
    const report = await verify(draw(signed, '12,000.00 EUR', '12,000.00 EUR'));
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['form-field-filled', true]]);
  });
});
