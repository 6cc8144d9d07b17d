/**
 * Forged documents, one per published attack class (pdf-insecurity.org: USF, ISA, SWA, shadow attacks, certification
 * attacks) and per change the issue names, each built by code from real seald output (test/verify/attack-kit.ts). Every
 * verdict is checked precisely: which signature, which integrity finding, which change kind.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { PdfDict, PdfRef, PdfStream, PdfString, dict, name } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { PdfDocument } from '../../../src/pdf/document.ts';
import type { IncrementalWriter } from '../../../src/pdf/incremental.ts';
import type { SignatureReport, VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { createSoftwareFixture, type SoftwareFixture } from '../../crypto/software-signer.ts';
import { fixture } from '../../fixtures/index.ts';
import { addAnnotation, appendSignature, appendUpdate, firstContents, open, sealParts, signatureContents, stream } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let sw: SoftwareFixture;
let anchors: Uint8Array[];
let base: Buffer;
let sealed: Buffer;

beforeAll(async () => {
  sealer = await openSealer();
  sw = await createSoftwareFixture('EC-P256', '/C=CN/O=Certifier/CN=Certifier');
  anchors = [...sealer.anchors, ...pemToDer(fs.readFileSync(sw.caPemPath, 'utf8'))];
  base = fs.readFileSync(await fixture('simple'));
  sealed = await sealer.seal(base, 'org', { page: 1, x: 200, y: 200 });
});
afterAll(async () => {
  await sealer?.close();
  if (sw) fs.rmSync(sw.dir, { recursive: true, force: true });
});

async function verify(bytes: Uint8Array): Promise<VerificationReport> {
  return verifyDocument(bufferSource(bytes), { trustAnchors: anchors });
}

function sig(report: VerificationReport, field: string): SignatureReport {
  const s = report.signatures.find((x) => x.field === field);
  if (!s) throw new Error(`no signature ${field} in ${JSON.stringify(report.signatures.map((x) => x.field))}`);
  return s;
}

/** INVALID, the signature NOT_ALLOWED, with a not-allowed change of `kind` among its changes. */
/** An update whose trailer /Root points to a new catalog object, `catalog(doc, w)`. */
function repointRoot(bytes: Buffer, catalog: (doc: PdfDocument, w: IncrementalWriter) => PdfDict): Buffer {
  let newRoot = 0;
  const updated = appendUpdate(bytes, (doc, w) => {
    newRoot = w.add(catalog(doc, w)).num;
  });
  const text = updated.toString('latin1');
  const at = text.lastIndexOf('/Root ');
  const rootNum = open(bytes).catalogRef.num;
  return Buffer.from(text.slice(0, at) + text.slice(at).replace(`/Root ${rootNum} 0 R`, `/Root ${newRoot} 0 R`), 'latin1');
}

function expectNotAllowed(report: VerificationReport, field: string, kind: string): void {
  expect(report.verdict).toBe('INVALID');
  const s = sig(report, field);
  expect(s.changesAfter).toBe('NOT_ALLOWED');
  expect(s.verdict).toBe('INVALID');
  expect(s.changes.filter((c) => !c.allowed).map((c) => c.kind)).toContain(kind);
  expect(report.reasons).toContain(`signature "${field}": INVALID`);
}

it('the unattacked document is VALID (the baseline every attack starts from)', async () => {
  const report = await verify(sealed);
  expect(report.verdict).toBe('VALID');
});

describe('USF: universal signature forgery (missing or broken /ByteRange or /Contents)', () => {
  const cases: [string, Parameters<typeof appendSignature>[1], SignatureReport['integrity']][] = [
    ['no /ByteRange', { field: 'Forged', customByteRange: true }, 'BAD_BYTERANGE'],
    ['/ByteRange null', { field: 'Forged', customByteRange: true, entries: { ByteRange: null } }, 'BAD_BYTERANGE'],
    ['/ByteRange [0 0 0 0]', { field: 'Forged', customByteRange: true, entries: { ByteRange: [0, 0, 0, 0] } }, 'BAD_BYTERANGE'],
    ['/ByteRange of three ranges', { field: 'Forged', customByteRange: true, entries: { ByteRange: [0, 10, 20, 10, 40, 10] } }, 'BAD_BYTERANGE'],
    ['/ByteRange not from 0', { field: 'Forged', customByteRange: true, entries: { ByteRange: [5, 10, 20, 10] } }, 'BAD_BYTERANGE'],
    ['no /Contents', { field: 'Forged', customContents: true, customByteRange: true, entries: { ByteRange: [0, 100, 200, 300] } }, 'BAD_BYTERANGE'],
    ['/Contents null', { field: 'Forged', customContents: true, customByteRange: true, entries: { Contents: null, ByteRange: [0, 100, 200, 300] } }, 'BAD_BYTERANGE'],
    ['/Contents of zeros', { field: 'Forged' }, 'BAD_CMS'],
  ];
  for (const [title, shape, integrity] of cases) {
    it(title, async () => {
      const report = await verify(await appendSignature(base, shape));
      expect(report.verdict).toBe('INVALID');
      expect(sig(report, 'Forged')).toMatchObject({ integrity, verdict: 'INVALID' });
      expect(report.reasons).toContain('signature "Forged": INVALID');
    });
  }

  it('a real, trusted CMS copied from another document: DIGEST_MISMATCH', async () => {
    const { hex } = signatureContents(sealed);
    const report = await verify(await appendSignature(base, { field: 'Forged', contentsHex: hex }));
    expect(sig(report, 'Forged')).toMatchObject({ integrity: 'DIGEST_MISMATCH', verdict: 'INVALID' });
  });
});

describe('ISA: incremental saving attacks', () => {
  it('a revision with a new xref that replaces the page content', async () => {
    const attacked = appendUpdate(sealed, (doc, w) => {
      const page = doc.page(1);
      const content = w.add(stream('BT /F1 24 Tf 72 700 Td (Pay 1,000,000 to Mallory) Tj ET'));
      w.update(page.ref, page.dict.clone().set('Contents', content));
    });
    expectNotAllowed(await verify(attacked), 'Seal1', 'page-content-changed');
    expect(sig(await verify(attacked), 'Seal1').integrity).toBe('INTACT'); // the signed bytes themselves are untouched
  });

  it('an object redefined after %%EOF without a new xref', async () => {
    const contentsNum = firstContents(open(sealed));
    const text = 'BT /F1 24 Tf 72 700 Td (Pay Mallory) Tj ET';
    const attacked = Buffer.concat([sealed, Buffer.from(`${contentsNum} 0 obj\n<< /Length ${text.length} >>\nstream\n${text}\nendstream\nendobj\n`)]);
    expectNotAllowed(await verify(attacked), 'Seal1', 'unreferenced-bytes');
  });

  it('a long redefinition without xref (the file no longer ends in startxref): verified up to the last revision', async () => {
    const contentsNum = firstContents(open(sealed));
    const text = `BT /F1 24 Tf 72 700 Td (Pay Mallory) Tj ET ${'%'.repeat(2000)}`;
    const attacked = Buffer.concat([sealed, Buffer.from(`${contentsNum} 0 obj\n<< /Length ${text.length} >>\nstream\n${text}\nendstream\nendobj\n`)]);
    const report = await verify(attacked);
    expectNotAllowed(report, 'Seal1', 'damaged-tail');
    expect(report.reasons.some((r) => /damaged or truncated/.test(r))).toBe(true);
  });

  it('a redefinition followed by a copy of the old startxref and %%EOF', async () => {
    const contentsNum = firstContents(open(sealed));
    const startxref = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(sealed.toString('latin1'))![1];
    const text = 'BT /F1 24 Tf 72 700 Td (Pay Mallory) Tj ET';
    const attacked = Buffer.concat([
      sealed,
      Buffer.from(`${contentsNum} 0 obj\n<< /Length ${text.length} >>\nstream\n${text}\nendstream\nendobj\nstartxref\n${startxref}\n%%EOF\n`),
    ]);
    const report = await verify(attacked);
    expectNotAllowed(report, 'Seal1', 'unreferenced-bytes');
    expect(sig(report, 'Seal1').changes.map((c) => c.kind)).toContain('hidden-revision');
  });

  it('a revision whose /Prev skips the signed revision (the signature disappears from the chain)', async () => {
    const firstStartxref = /startxref\s+(\d+)\s+%%EOF/.exec(base.toString('latin1'))![1]!;
    const update = appendUpdate(sealed, (doc, w) => {
      const page = doc.page(1);
      w.update(page.ref, page.dict.clone().set('Contents', w.add(stream('BT /F1 24 Tf 72 700 Td (Pay Mallory) Tj ET'))));
    });
    const text = update.toString('latin1');
    const at = text.lastIndexOf('/Prev ');
    const skipping = Buffer.from(text.slice(0, at) + text.slice(at).replace(/\/Prev \d+/, `/Prev ${firstStartxref}`.padEnd(`/Prev ${sealed.length}`.length)), 'latin1');
    const report = await verify(skipping);
    expect(report.verdict).toBe('INVALID');
    expect(report.reasons.join(' ')).toMatch(/hides or rewrites revisions: a %%EOF at offset \d+ ends a revision that the cross-reference chain skips/);
  });
});

describe('SWA: signature wrapping', () => {
  it('objects hidden in the /Contents gap, reached by a new xref', async () => {
    // A signature with room to spare in /Contents (seald reserves exactly what its CMS needs, so none is left).
    const sealed = await appendSignature(base, { field: 'Seal1', signer: sw.signer });
    expect((await verify(sealed)).verdict).toBe('VALID');
    const { hex, gap } = signatureContents(sealed);
    const [b, c] = gap;
    const doc = open(sealed);
    const contentsNum = firstContents(doc);
    const text = 'BT /F1 24 Tf 72 700 Td (Pay Mallory) Tj ET';
    const evil = `\n${contentsNum} 0 obj\n<< /Length ${text.length} >>\nstream\n${text}\nendstream\nendobj\n`;
    // The signature dictionary is closed right after the shortened /Contents; the signed rest of it is commented out.
    const inGap = `<${hex}> >>\nendobj${evil}%`;
    expect(inGap.length).toBeLessThan(c - b);
    const wrapped = Buffer.from(sealed);
    wrapped.write(inGap.padEnd(c - b, ' '), b, 'latin1');
    const evilOffset = b + hex.length + 2 + ' >>\nendobj\n'.length;
    const xrefAt = wrapped.length;
    const startxref = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(sealed.toString('latin1'))![1];
    const tail =
      `xref\n${contentsNum} 1\n${String(evilOffset).padStart(10, '0')} 00000 n\r\n` +
      `trailer\n<< /Size ${doc.size} /Root ${doc.catalogRef} /Prev ${startxref} >>\nstartxref\n${xrefAt}\n%%EOF\n`;
    const attacked = Buffer.concat([wrapped, Buffer.from(tail)]);
    const report = await verify(attacked);
    expect(report.verdict).toBe('INVALID');
    expect(sig(report, 'Seal1')).toMatchObject({ integrity: 'BAD_BYTERANGE', verdict: 'INVALID' });
    expect(sig(report, 'Seal1').reasons.join(' ')).toMatch(/not exactly the \/Contents string/);
    expect(sig(report, 'Seal1').changes.map((c) => c.kind)).toContain('xref-points-outside-revision');
  });

  it('the signature dictionary rewritten in a later revision (its /Contents moved)', async () => {
    const attacked = appendUpdate(sealed, (doc, w) => {
      const af = doc.resolveDict(doc.catalog.get('AcroForm'))!;
      const widget = doc.resolveDict((doc.resolve(af.get('Fields')) as PdfRef[])[0])!;
      const sigRef = widget.get('V') as PdfRef;
      const moved = (doc.resolve(sigRef) as PdfDict).clone();
      moved.set('Contents', new PdfString(Buffer.from('3000', 'hex'), true));
      w.update(sigRef, moved);
    });
    const report = await verify(attacked);
    expectNotAllowed(report, 'Seal1', 'object-changed');
    expect(sig(report, 'Seal1').integrity).toBe('INTACT');
  });
});

describe('shadow attacks (content prepared before signing, switched on after)', () => {
  let prepared: Buffer;
  let shadowed: Buffer;
  let overlay: PdfRef;
  let shadowPages: PdfRef;

  beforeAll(async () => {
    prepared = appendUpdate(base, (doc, w) => {
      overlay = w.add(stream('q 1 1 1 rg 0 0 595 842 re f Q BT /F1 18 Tf 72 760 Td (Pay Mallory) Tj ET'));
      shadowPages = w.reserve();
      const page = doc.page(1);
      const shadowPage = w.add(page.dict.clone().set('Contents', overlay).set('Parent', shadowPages));
      w.update(shadowPages, dict({ Type: name('Pages'), Kids: [shadowPage], Count: 1 }));
    });
    shadowed = await sealer.seal(prepared, 'org', { page: 1, x: 200, y: 200 });
    expect((await verify(shadowed)).verdict).toBe('VALID');
  });

  it('hide: the page shows the prepared overlay', async () => {
    const attacked = appendUpdate(shadowed, (doc, w) => {
      const page = doc.page(1);
      w.update(page.ref, page.dict.clone().set('Contents', [page.dict.get('Contents')!, overlay]));
    });
    expectNotAllowed(await verify(attacked), 'Seal1', 'page-content-changed');
  });

  it('replace: a font object of the page is replaced', async () => {
    const attacked = appendUpdate(shadowed, (doc, w) => {
      const resources = doc.resolveDict(doc.page(1).dict.get('Resources'))!;
      const fonts = doc.resolveDict(resources.get('Font'))!;
      const fontRef = [...fonts.entries.values()].find((v) => v instanceof PdfRef) as PdfRef;
      w.update(fontRef, (doc.resolve(fontRef) as PdfDict).clone().set('BaseFont', name('Courier')));
    });
    expectNotAllowed(await verify(attacked), 'Seal1', 'object-changed');
  });

  it('hide-and-replace: a new catalog points at the prepared page tree', async () => {
    let newRoot = 0;
    const attacked = appendUpdate(shadowed, (doc, w) => {
      newRoot = w.add(doc.catalog.clone().set('Pages', shadowPages)).num;
    });
    const text = attacked.toString('latin1');
    const at = text.lastIndexOf('/Root ');
    const rootNum = open(shadowed).catalogRef.num;
    const repointed = Buffer.from(text.slice(0, at) + text.slice(at).replace(`/Root ${rootNum} 0 R`, `/Root ${newRoot} 0 R`), 'latin1');
    const report = await verify(repointed);
    expectNotAllowed(report, 'Seal1', 'root-repointed');
    expect(sig(report, 'Seal1').changes.map((c) => c.kind)).toContain('pages-changed');
  });
});

describe('certification attacks (DocMDP)', () => {
  const certified = (p: 1 | 2 | 3) => appendSignature(base, { field: 'Certification', docMdp: p, signer: sw.signer, rect: [72, 72, 172, 132] });

  it('a certified document on its own is VALID', async () => {
    expect((await verify(await certified(2))).verdict).toBe('VALID');
  });

  it('P=1: any later signature is not allowed', async () => {
    const attacked = await appendSignature(await certified(1), { field: 'Late', signer: sw.signer });
    const report = await verify(attacked);
    expectNotAllowed(report, 'Certification', 'signature-added');
    expect(sig(report, 'Late')).toMatchObject({ integrity: 'INTACT', verdict: 'VALID' });
  });

  it('P=2: a seald seal afterwards is allowed', async () => {
    const report = await verify(await sealer.seal(await certified(2), 'org', { page: 1, x: 300, y: 400 }));
    expect(report.verdict).toBe('VALID');
    expect(sig(report, 'Certification').changesAfter).toBe('ALLOWED');
  });

  it('P=2: an evil annotation (FreeText over the text) is not allowed', async () => {
    const attacked = appendUpdate(await certified(2), (doc, w) => {
      const annot = w.add(dict({ Type: name('Annot'), Subtype: name('FreeText'), Rect: [72, 700, 400, 740], Contents: PdfString.text('Pay Mallory'), DA: PdfString.text('/Helv 18 Tf 0 g') }));
      addAnnotation(doc, w, 1, annot);
    });
    expectNotAllowed(await verify(attacked), 'Certification', 'annotation-added');
  });

  it('P=2: a sneaky signature (a visible signature widget with no signature) is not allowed', async () => {
    const attacked = await appendSignature(await certified(2), { field: 'Sneaky', unsigned: true, rect: [72, 700, 400, 740] });
    expectNotAllowed(await verify(attacked), 'Certification', 'unsigned-signature-widget');
  });

  it('P=3: an annotation beside the seal is allowed; one over the seal is not', async () => {
    const doc3 = await certified(3);
    const beside = appendUpdate(doc3, (doc, w) => {
      addAnnotation(doc, w, 1, w.add(dict({ Type: name('Annot'), Subtype: name('Text'), Rect: [400, 700, 420, 720], Contents: PdfString.text('ok') })));
    });
    const allowed = await verify(beside);
    expect(allowed.verdict).toBe('VALID');
    expect(sig(allowed, 'Certification').changes.map((c) => [c.kind, c.allowed])).toEqual([['annotation-added', true]]);
    const over = appendUpdate(doc3, (doc, w) => {
      addAnnotation(doc, w, 1, w.add(dict({ Type: name('Annot'), Subtype: name('Square'), Rect: [60, 60, 180, 140], IC: [1, 1, 1] })));
    });
    expectNotAllowed(await verify(over), 'Certification', 'overlay-on-signature');
  });
});

describe('appended revisions the issue names', () => {
  it('adds a page', async () => {
    const attacked = appendUpdate(sealed, (doc, w) => {
      const pagesRef = doc.catalog.get('Pages') as PdfRef;
      const pages = doc.resolveDict(pagesRef)!;
      const extra = w.add(dict({ Type: name('Page'), Parent: pagesRef, MediaBox: [0, 0, 595, 842], Contents: w.add(stream('BT /F1 12 Tf 72 700 Td (Annex: pay Mallory) Tj ET')) }));
      w.update(pagesRef, pages.clone().set('Kids', [...(doc.resolve(pages.get('Kids')) as PdfRef[]), extra]).set('Count', 2));
    });
    const report = await verify(attacked);
    expectNotAllowed(report, 'Seal1', 'pages-changed');
    expect(sig(report, 'Seal1').changes.map((c) => c.kind)).toContain('page-tree-changed');
  });

  it('swaps the seal drawing itself (an image XObject, or the form of paths a vector seal is drawn as)', async () => {
    const { image } = sealParts(sealed);
    let subtype: string | undefined;
    const attacked = appendUpdate(sealed, (doc, w) => {
      const old = doc.resolve(image) as PdfStream;
      subtype = old.dict.name('Subtype');
      w.update(
        image,
        subtype === 'Image'
          ? new PdfStream(old.dict.clone().set('Filter', null).set('Width', 1).set('Height', 1).set('SMask', null), Buffer.from([0, 0, 0]))
          : new PdfStream(old.dict.clone().set('Filter', null), Buffer.from('0 0 1 rg 0 0 10 10 re f', 'latin1')),
      );
    });
    // The embedded org seal is an SVG now: drawn as a form XObject (pdf/svg-seal.ts).
    expect(subtype).toBe('Form');
    expectNotAllowed(await verify(attacked), 'Seal1', 'form-replaced');
  });

  it('overlays an annotation over the seal', async () => {
    const { rect } = sealParts(sealed);
    const attacked = appendUpdate(sealed, (doc, w) => {
      const ap = w.add(stream('1 1 1 rg 0 0 200 200 re f', { Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 200, 200] }));
      addAnnotation(doc, w, 1, w.add(dict({ Type: name('Annot'), Subtype: name('Square'), Rect: rect, F: 4, AP: dict({ N: ap }) })));
    });
    expectNotAllowed(await verify(attacked), 'Seal1', 'overlay-on-signature');
  });

  // Until issue 17's last round every re-pointed /Root was an attack and this fixture re-pointed it to an unchanged
  // copy. A writer that writes the catalog anew in each update (DSS's pades-ocsp-sign-cert.pdf) made that a false
  // alarm: the new catalog is now compared with the old one by value (changes.ts). The forged case is a copy whose
  // /Pages is another node (same pages, a tree the signer never saw), or which gains an /OpenAction.
  it('re-points /Root to a copy of the catalog with a changed /Pages, or a new /OpenAction: root-repointed', async () => {
    const pagesChanged = repointRoot(sealed, (doc, w) => doc.catalog.clone().set('Pages', w.add(doc.resolveDict(doc.catalog.get('Pages'))!.clone())));
    const report = await verify(pagesChanged);
    expectNotAllowed(report, 'Seal1', 'root-repointed');
    expect(sig(report, 'Seal1').changes.filter((c) => !c.allowed).map((c) => c.description)).toContain('catalog entry /Pages re-pointed');
    const openAction = repointRoot(sealed, (doc, w) => {
      const js = w.add(dict({ S: name('JavaScript'), JS: PdfString.text('app.alert(1)') }));
      return doc.catalog.clone().set('OpenAction', js);
    });
    expectNotAllowed(await verify(openAction), 'Seal1', 'root-repointed');
  });

  it('sound twin: /Root re-pointed to an unchanged copy, or one that only adds /DSS: catalog-moved, allowed, VALID', async () => {
    const copy = await verify(repointRoot(sealed, (doc) => doc.catalog.clone()));
    expect(copy.verdict).toBe('VALID');
    expect(sig(copy, 'Seal1').changes.map((c) => [c.kind, c.allowed])).toEqual([['catalog-moved', true]]);
    const withDss = await verify(repointRoot(sealed, (doc, w) => doc.catalog.clone().set('DSS', w.add(dict({ Certs: [] })))));
    expect(withDss.verdict).toBe('VALID');
    expect(sig(withDss, 'Seal1').changes.map((c) => [c.kind, c.allowed])).toEqual([['catalog-moved', true], ['dss-updated', true]]);
  });

  it('a truncated file: INVALID, the surviving signature reports the damage', async () => {
    const two = await sealer.seal(sealed, 'personal', { page: 1, x: 400, y: 200 });
    const report = await verify(two.subarray(0, two.length - 300));
    expectNotAllowed(report, 'Seal1', 'damaged-tail');
    expect(report.signatures.map((s) => s.field)).toEqual(['Seal1']);
    expect(report.lastRevisionCovered).toBe(false);
    const cutInFirst = await verify(sealed.subarray(0, sealed.length - 300));
    expect(cutInFirst.verdict).toBe('INVALID');
    expect(cutInFirst.reasons.join(' ')).toMatch(/no signatures|damaged or truncated/);
  });
});

describe('hostile input: an answer with a reason, never a crash or a hang', () => {
  it('not a PDF, an encrypted PDF, garbage', async () => {
    expect((await verify(fs.readFileSync(await fixture('not-a-pdf')))).verdict).toBe('INVALID');
    expect((await verify(fs.readFileSync(await fixture('encrypted')))).verdict).toBe('INDETERMINATE');
    expect((await verify(Buffer.from('%PDF-1.7\n' + 'x'.repeat(5000)))).verdict).toBe('INVALID');
  });

  it('a /Prev loop, a page tree cycle, nesting beyond the parser’s depth', async () => {
    // An update whose /Prev points at itself.
    const loop = Buffer.concat([sealed, Buffer.from(`xref\n0 0\ntrailer\n<< /Size 3 /Root 1 0 R /Prev ${sealed.length} >>\nstartxref\n${sealed.length}\n%%EOF\n`)]);
    const looped = await verify(loop);
    expect(looped.verdict).toBe('INVALID');
    expect(looped.reasons.join(' ')).toMatch(/loops/);
    const cycle = appendUpdate(sealed, (doc, w) => {
      const pagesRef = doc.catalog.get('Pages') as PdfRef;
      w.update(pagesRef, doc.resolveDict(pagesRef)!.clone().set('Kids', [pagesRef]));
    });
    expectNotAllowed(await verify(cycle), 'Seal1', 'pages-changed');
    const deep = appendUpdate(sealed, (doc, w) => {
      const page = doc.page(1);
      let nested: PdfDict | number[] = [1];
      for (let i = 0; i < 400; i++) nested = [nested as never];
      w.update(page.ref, page.dict.clone().set('Deep', nested as never));
    });
    const deepReport = await verify(deep);
    expect(deepReport.verdict).toBe('INVALID');
  });

  it('the object limit stops the analysis with INDETERMINATE', async () => {
    const report = await verifyDocument(bufferSource(sealed), { trustAnchors: anchors, limits: { maxObjects: 3 } });
    expect(report.verdict).toBe('INDETERMINATE');
    expect(report.reasons[0]).toMatch(/more than 3 objects/);
  });
});
