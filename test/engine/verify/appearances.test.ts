/**
 * Form filling that rewrites appearances (ISO 32000-1 §12.5.5, §12.7.3.3): a filler may regenerate the appearance of
 * the field it fills, even in place (the same stream object), but an appearance stream or an indirect /AP dictionary
 * that other widgets show is shared: rewriting it changes what those widgets show, which no field value explains
 * (pyHanko's form-filling rule and DSS's "undefined changes" refuse it too). Every redefined object is judged by every
 * place the signed revision refers to it from, however the update reached it — an xref table or an xref stream.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDict, PdfRef, PdfString, dict, name } from '../../../src/pdf/objects.ts';
import type { PdfDocument } from '../../../src/pdf/document.ts';
import type { IncrementalWriter } from '../../../src/pdf/incremental.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendUpdate, open, stream } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let form: Buffer;

beforeAll(async () => {
  sealer = await openSealer();
  form = fs.readFileSync(await fixture('acroform'));
});
afterAll(async () => {
  await sealer?.close();
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: sealer.anchors });
const kinds = (r: VerificationReport): [string, boolean][] => r.signatures[0]!.changes.map((c) => [c.kind, c.allowed]);

function fieldRef(doc: PdfDocument, field: string): PdfRef {
  const af = doc.resolveDict(doc.catalog.get('AcroForm'))!;
  return (doc.resolve(af.get('Fields')) as PdfRef[]).find((f) => (doc.resolveDict(f)!.get('T') as PdfString).asText() === field)!;
}
function widgetRef(doc: PdfDocument, field: string): PdfRef {
  return (doc.resolve(doc.resolveDict(fieldRef(doc, field))!.get('Kids')) as PdfRef[])[0]!;
}
const text = (s: string) => stream(`/Tx BMC BT /Helv 10 Tf 2 4 Td (${s}) Tj ET EMC`, { Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 200, 20] });

/** Before sealing: each listed field's widget shows `ap` (a stream ref, or an /AP dictionary ref). */
function withAppearances(bytes: Buffer, build: (doc: PdfDocument, w: IncrementalWriter) => Record<string, PdfRef | PdfDict>): Buffer {
  return appendUpdate(bytes, (doc, w) => {
    for (const [field, ap] of Object.entries(build(doc, w))) {
      const widget = widgetRef(doc, field);
      w.update(widget, doc.resolveDict(widget)!.clone().set('AP', ap));
    }
  });
}

/** The filling revision: the field's /V, and whatever else `extra` rewrites. */
function fill(bytes: Buffer, field: string, value: string, extra: (doc: PdfDocument, w: IncrementalWriter) => void): Buffer {
  return appendUpdate(bytes, (doc, w) => {
    const f = fieldRef(doc, field);
    w.update(f, doc.resolveDict(f)!.clone().set('V', PdfString.text(value)));
    extra(doc, w);
  });
}

describe('sound: the filled field regenerates its own appearance', () => {
  it('its own appearance stream rewritten in place is allowed', async () => {
    let own!: PdfRef;
    const prepared = withAppearances(form, (_doc, w) => ({ amount: dict({ N: (own = w.add(text('12,000.00 EUR'))) }) }));
    const sealed = await sealer.seal(prepared, 'org', { page: 1, x: 400, y: 150 });
    const report = await verify(fill(sealed, 'amount', '13,000.00 EUR', (_doc, w) => w.update(own, text('13,000.00 EUR'))));
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['form-field-filled', true], ['appearance-updated', true]]);
  });
});

describe('forged: the filling revision rewrites an appearance other widgets show', () => {
  it('an appearance stream shared with another field’s widget', async () => {
    let shared!: PdfRef;
    const prepared = withAppearances(form, (_doc, w) => {
      shared = w.add(text('12,000.00 EUR'));
      return { amount: dict({ N: shared }), buyer: dict({ N: shared }) };
    });
    const sealed = await sealer.seal(prepared, 'org', { page: 1, x: 400, y: 150 });
    const report = await verify(fill(sealed, 'amount', '13,000.00 EUR', (_doc, w) => w.update(shared, text('Mallory Ltd'))));
    expect(report.verdict).toBe('INVALID');
    expect(report.signatures[0]!.changesAfter).toBe('NOT_ALLOWED');
    expect(kinds(report)).toContainEqual(['shared-appearance-changed', false]);
  });

  it('an indirect /AP dictionary shared with another field’s widget', async () => {
    let ap!: PdfRef;
    const prepared = withAppearances(form, (_doc, w) => {
      ap = w.add(dict({ N: w.add(text('12,000.00 EUR')) }));
      return { amount: ap, buyer: ap };
    });
    const sealed = await sealer.seal(prepared, 'org', { page: 1, x: 400, y: 150 });
    const report = await verify(fill(sealed, 'amount', '13,000.00 EUR', (_doc, w) => w.update(ap, dict({ N: w.add(text('Mallory Ltd')) }))));
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toContainEqual(['shared-appearance-changed', false]);
  });

  it('an appearance stream that a page also draws as a form XObject', async () => {
    let shared!: PdfRef;
    const prepared = appendUpdate(withAppearances(form, (_doc, w) => ({ amount: dict({ N: (shared = w.add(text('12,000.00 EUR'))) }) })), (doc, w) => {
      const page = doc.page(1);
      const resources = (doc.resolveDict(page.dict.get('Resources')) ?? new PdfDict()).clone();
      resources.set('XObject', dict({ Fx: shared }));
      w.update(page.ref, page.dict.clone().set('Resources', resources));
    });
    const sealed = await sealer.seal(prepared, 'org', { page: 1, x: 400, y: 150 });
    const report = await verify(fill(sealed, 'amount', '13,000.00 EUR', (_doc, w) => w.update(shared, text('13,000.00 EUR'))));
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toContainEqual(['shared-appearance-changed', false]);
  });

  it('the shared stream redefined through an xref stream of the filling update (a table file otherwise)', async () => {
    let shared!: PdfRef;
    const prepared = withAppearances(form, (_doc, w) => {
      shared = w.add(text('12,000.00 EUR'));
      return { amount: dict({ N: shared }), buyer: dict({ N: shared }) };
    });
    const sealed = await sealer.seal(prepared, 'org', { page: 1, x: 400, y: 150 });
    // The legitimate-looking fill, by seald's writer (an xref table) ...
    const filled = fill(sealed, 'amount', '13,000.00 EUR', () => {});
    // ... then, by hand, an update whose only cross-reference section is an xref stream that redefines the shared
    // appearance: no table lists it, and nothing but the xref stream's /Index names it.
    const doc = open(filled);
    const size = Math.max(doc.xref.entries.size, ...[...doc.xref.entries.keys()].map((n) => n + 1));
    const start = filled.length;
    const body = `${shared.num} 0 obj\n<< /Type /XObject /Subtype /Form /BBox [0 0 200 20] /Length 49 >>\nstream\n/Tx BMC BT /Helv 10 Tf 2 4 Td (Mallory) Tj ET EMC\nendstream\nendobj\n`;
    const xrefOffset = start + Buffer.byteLength(body, 'latin1');
    const rows = Buffer.alloc(12);
    rows.writeUInt8(1, 0); rows.writeUInt32BE(start, 1); rows.writeUInt8(0, 5);
    rows.writeUInt8(1, 6); rows.writeUInt32BE(xrefOffset, 7); rows.writeUInt8(0, 11);
    const head = `${size} 0 obj\n<< /Type /XRef /Size ${size + 1} /Index [${shared.num} 1 ${size} 1] /W [1 4 1] /Root ${doc.catalogRef.num} 0 R /Prev ${doc.xref.startxref} /Length 12 >>\nstream\n`;
    const tail = `\nendstream\nendobj\nstartxref\n${xrefOffset}\n%%EOF\n`;
    expect(Buffer.byteLength('/Tx BMC BT /Helv 10 Tf 2 4 Td (Mallory) Tj ET EMC', 'latin1')).toBe(49);
    const attacked = Buffer.concat([filled, Buffer.from(body + head, 'latin1'), rows, Buffer.from(tail, 'latin1')]);
    expect(open(attacked).resolve(shared)).toBeDefined();
    const report = await verify(attacked);
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toContainEqual(['shared-appearance-changed', false]);
  });
});
