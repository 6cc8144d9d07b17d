/**
 * /AcroForm /DR re-pointed after a seal (issue 17; PDFBox re-points /DR /XObject /FRM at every signature it adds:
 * EU DSS's PAdES-LT.pdf, lt-short.pdf and the 25-signature cookbook file were INVALID). /DR only feeds appearances a
 * viewer draws later (ISO 32000-1 §12.7.3.3): allowed — unless /NeedAppearances tells the viewer to redraw every
 * field from it, when a re-pointed font would change what signed fields show.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDict, dict, name } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendUpdate, stream } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let sealed: Buffer;
beforeAll(async () => {
  sealer = await openSealer();
  const withDr = setDr(fs.readFileSync(await fixture('acroform')), '', false);
  sealed = await sealer.seal(withDr, 'org', { page: 1, x: 400, y: 150 });
});
afterAll(async () => {
  await sealer?.close();
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: sealer.anchors });
const kinds = (r: VerificationReport): [string, boolean][] => r.signatures[0]!.changes.map((c) => [c.kind, c.allowed]);

/** An update that points /DR /XObject /FRM at a new form (as PDFBox does), optionally setting /NeedAppearances. */
function setDr(bytes: Buffer, drawing: string, needAppearances: boolean): Buffer {
  return appendUpdate(bytes, (doc, w) => {
    const ref = doc.catalog.get('AcroForm');
    const af = (doc.resolveDict(ref) as PdfDict).clone();
    af.set('DR', dict({ XObject: dict({ FRM: w.add(stream(drawing, { Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 1, 1] })) }) }));
    if (needAppearances) af.set('NeedAppearances', true);
    if (ref && typeof ref === 'object' && 'num' in ref) w.update(ref, af);
    else w.update(doc.catalogRef, doc.catalog.clone().set('AcroForm', af));
  });
}

describe('/AcroForm /DR re-pointed after a seal', () => {
  it('is allowed and reported', async () => {
    const report = await verify(setDr(sealed, '0 g', false));
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['form-resources-changed', true]]);
  });

  it('but not when the viewer is told to redraw every field from it (/NeedAppearances)', async () => {
    const report = await verify(setDr(sealed, '0 g', true));
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toEqual(expect.arrayContaining([['acroform-changed', false]]));
  });
});
