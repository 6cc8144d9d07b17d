/**
 * Certified seals (DocMDP, ISO 32000-2 §12.8.2.2) on the real SoftHSM token: pdfsig and qpdf judge the output,
 * seald's own refusal and verifier judge what comes after it. pdfsig 22.12 prints nothing about certification (no
 * line of its output names DocMDP), so qpdf's reading of the objects is the independent witness of the certification
 * itself: the catalog's /Perms /DocMDP names the field's signature dictionary, whose /Reference carries the DocMDP P. A P=1 document refuses a later seal and reports any later
 * revision as a change not allowed; a P=2 document takes a later single-mark seal and stays VALID.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealDocument, type Certify } from '../../src/engine/seal.ts';
import { verifyDocument } from '../../src/engine/verify/verify.ts';
import { pemToDer } from '../../src/crypto/certificate.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import { IncrementalWriter } from '../../src/pdf/incremental.ts';
import { dict, name, PdfString } from '../../src/pdf/objects.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { SealdError } from '../../src/errors.ts';
import { fixture } from '../fixtures/index.ts';
import { placementFixture } from '../fixtures/placement-fixtures.ts';
import { pdfsig, qpdfCheck } from '../support/tools.ts';
import { qpdfReading } from '../pdf/qpdf-objects.ts';
import { openOrgSeal, type OrgSeal } from './org-seal.ts';

let org: OrgSeal;
let onePage: Buffer;

beforeAll(async () => {
  org = await openOrgSeal();
  onePage = fs.readFileSync(await placementFixture('one-page'));
});

afterAll(async () => {
  await org?.close();
});

async function certify(input: Buffer, level: Certify | undefined, file: string): Promise<Buffer> {
  const out = await sealDocument(bufferSource(input), org.seal, { page: 1, x: 300, y: 400 }, level ? { certify: level } : {});
  const bytes = Buffer.concat([input, out.appended]);
  fs.writeFileSync(path.join(org.dir, file), bytes);
  return bytes;
}

function verify(bytes: Buffer) {
  return verifyDocument(bufferSource(bytes), { trustAnchors: pemToDer(fs.readFileSync(org.caPem, 'utf8')) });
}

async function refusal(p: Promise<unknown>): Promise<SealdError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SealdError);
  return error as SealdError;
}

describe('certified seals', () => {
  for (const [level, p] of [
    ['no-changes', 1],
    ['form-filling', 2],
  ] as const) {
    it(`--certify ${level}: DocMDP P=${p} in the signature and the catalog; pdfsig and qpdf accept it`, async () => {
      const bytes = await certify(onePage, level, `certified-${p}.pdf`);
      const file = path.join(org.dir, `certified-${p}.pdf`);
      expect((await qpdfCheck(file)).status).toBe('ok');
      expect(bytes.subarray(0, onePage.length).equals(onePage)).toBe(true);
      const report = await pdfsig(file, { trustCaPems: [org.caPem] });
      expect(report.signatures).toHaveLength(1);
      expect(report.signatures[0]!.signatureValid, report.raw).toBe(true);
      expect(report.signatures[0]!.coversWholeDocument).toBe(true);
      // qpdf: /Root → /Perms /DocMDP is the signature dictionary the field's /V names, with /Reference DocMDP P.
      type J = Record<string, unknown>;
      const q = await qpdfReading(file);
      // An entry is either a direct value or "N G R", the object qpdf lists under that key.
      const value = (entry: unknown): J => (typeof entry === 'string' ? (q.objects.get(entry) as { value: J }).value : (entry as J));
      const catalog = value((q.trailer as J)['/Root']);
      const sigRef = value(catalog['/Perms'])['/DocMDP'];
      const field = value((value(catalog['/AcroForm'])['/Fields'] as unknown[])[0]);
      expect(field['/V']).toBe(sigRef);
      const sig = value(sigRef);
      expect(sig['/Type']).toBe('/Sig');
      expect(sig['/Reference']).toEqual([
        { '/Type': '/SigRef', '/TransformMethod': '/DocMDP', '/TransformParams': { '/Type': '/TransformParams', '/P': p, '/V': '/1.2' } },
      ]);
      // seald's reader reads the same certification back.
      expect(PdfDocument.open(bufferSource(bytes)).docMdpPermission()).toBe(p);
    });
  }

  it('an ordinary seal makes no certification', async () => {
    const bytes = await certify(onePage, undefined, 'approval.pdf');
    expect(PdfDocument.open(bufferSource(bytes)).docMdpPermission()).toBeUndefined();
  });

  it('P=1: a later seal is refused before anything is signed; a later revision is a change not allowed', async () => {
    const certified = await certify(onePage, 'no-changes', 'p1.pdf');
    const error = await refusal(certify(certified, undefined, 'p1-then-seal.pdf'));
    expect(error.code).toBe('DOCUMENT_CERTIFIED_NO_CHANGES');
    expect(error.category).toBe('precondition');

    const clean = await verify(certified);
    expect(clean.verdict, clean.reasons.join('; ')).toBe('VALID');

    // A later revision written by hand: a text note on the page (an annotation, which only P=3 would allow).
    const doc = PdfDocument.open(bufferSource(certified));
    const w = new IncrementalWriter(doc);
    const page = doc.page(1);
    const note = w.add(dict({ Type: name('Annot'), Subtype: name('Text'), Rect: [50, 50, 70, 70], Contents: PdfString.text('later') }));
    const annots = doc.resolve(page.dict.get('Annots'));
    const updated = page.dict.clone();
    updated.set('Annots', [...(Array.isArray(annots) ? annots : []), note]);
    w.update(page.ref, updated);
    const changed = Buffer.concat([certified, w.write().bytes]);
    const report = await verify(changed);
    expect(report.verdict).toBe('INVALID');
    const sig = report.signatures[0]!;
    expect(sig.changesAfter).toBe('NOT_ALLOWED');
    expect(sig.changes.some((c) => !c.allowed && c.description.includes('DocMDP P=1'))).toBe(true);
  });

  it('P=2: a later single-mark seal is allowed and both stay VALID (pdfsig: both valid)', async () => {
    const certified = await certify(onePage, 'form-filling', 'p2.pdf');
    const out = await sealDocument(bufferSource(certified), org.seal, { page: 1, x: 150, y: 200 });
    const bytes = Buffer.concat([certified, out.appended]);
    const file = path.join(org.dir, 'p2-then-seal.pdf');
    fs.writeFileSync(file, bytes);
    const report = await verify(bytes);
    expect(report.verdict, JSON.stringify(report.signatures.map((s) => s.reasons))).toBe('VALID');
    expect(report.signatures.map((s) => s.changesAfter).sort()).toEqual(['ALLOWED', 'NONE']);
    const sig = await pdfsig(file, { trustCaPems: [org.caPem] });
    expect(sig.signatures.map((s) => s.signatureValid)).toEqual([true, true]);
    expect((await qpdfCheck(file)).status).toBe('ok');
  });

  it('refused on a document that already carries a signature, or is already certified', async () => {
    const signed = await certify(onePage, undefined, 'signed.pdf');
    const first = await refusal(certify(signed, 'form-filling', 'signed-then-certified.pdf'));
    expect(first.code).toBe('CERTIFICATION_NOT_FIRST');
    expect(first.category).toBe('precondition');
    expect(first.message).toContain('"Seal1"');

    const other = fs.readFileSync(await fixture('signed-by-other'));
    expect((await refusal(certify(other, 'no-changes', 'other-then-certified.pdf'))).code).toBe('CERTIFICATION_NOT_FIRST');

    const p2 = await certify(onePage, 'form-filling', 'p2-again.pdf');
    expect((await refusal(certify(p2, 'form-filling', 'p2-twice.pdf'))).code).toBe('DOCUMENT_ALREADY_CERTIFIED');
  });
});
