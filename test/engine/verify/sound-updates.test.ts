/**
 * Sound documents that the earlier, stricter analysis flagged (issue 17): later revisions a reader's software writes
 * after an approval signature when no certification restricts it (ISO 32000-1 §12.8.2.2: DocMDP P belongs to the
 * certification signature). pyHanko, EU DSS and Acrobat accept each and report it; so does seald. The protections
 * that stay: an annotation over the seal, a certification's P.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDict, PdfRef, PdfString, dict, name } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { fixture } from '../../fixtures/index.ts';
import { addAnnotation, appendUpdate, stream } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let sealed: Buffer;

beforeAll(async () => {
  sealer = await openSealer();
  sealed = await sealer.seal(fs.readFileSync(await fixture('simple')), 'org', { page: 1, x: 200, y: 200 });
});
afterAll(async () => {
  await sealer?.close();
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: sealer.anchors });
const kinds = (r: VerificationReport): [string, boolean][] => r.signatures[0]!.changes.map((c) => [c.kind, c.allowed]);
const note = (rect: number[]) => dict({ Type: name('Annot'), Subtype: name('Text'), Rect: rect, Contents: PdfString.text('checked') });

describe('annotations after an approval signature (no certification)', () => {
  let commented: Buffer;
  let noteRef: PdfRef;
  beforeAll(() => {
    commented = appendUpdate(sealed, (doc, w) => addAnnotation(doc, w, 1, (noteRef = w.add(note([450, 700, 470, 720])))));
  });

  it('added beside the seal: allowed', async () => {
    const report = await verify(commented);
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['annotation-added', true]]);
  });

  it('then modified, then removed: allowed', async () => {
    const modified = appendUpdate(commented, (doc, w) => w.update(noteRef, (doc.resolve(noteRef) as PdfDict).clone().set('Contents', PdfString.text('re-checked'))));
    expect(kinds(await verify(modified))).toEqual([['annotation-added', true], ['annotation-modified', true]]);
    const removed = appendUpdate(modified, (doc, w) => {
      const page = doc.page(1);
      const annots = doc.resolve(page.dict.get('Annots')) as PdfRef[];
      const kept = annots.filter((a) => a.num !== noteRef.num);
      if (page.dict.get('Annots') instanceof PdfRef) w.update(page.dict.get('Annots') as PdfRef, kept);
      else w.update(page.ref, page.dict.clone().set('Annots', kept));
    });
    const report = await verify(removed);
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['annotation-added', true], ['annotation-modified', true], ['annotation-removed', true]]);
  });

  it('but one moved over the seal is not (the overlay attack)', async () => {
    const moved = appendUpdate(commented, (doc, w) => w.update(noteRef, (doc.resolve(noteRef) as PdfDict).clone().set('Rect', [190, 190, 260, 260])));
    const report = await verify(moved);
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toContainEqual(['overlay-on-signature', false]);
  });
});

describe('metadata and catalog descriptions', () => {
  it('XMP /Metadata added, then rewritten in place; /Info updated', async () => {
    let xmp!: PdfRef;
    const withXmp = appendUpdate(sealed, (doc, w) => {
      xmp = w.add(stream('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>', { Type: name('Metadata'), Subtype: name('XML') }));
      w.update(doc.catalogRef, doc.catalog.clone().set('Metadata', xmp));
    });
    expect(kinds(await verify(withXmp))).toEqual([['metadata-updated', true]]);
    const rewritten = appendUpdate(withXmp, (doc, w) => {
      w.update(xmp, stream('<x:xmpmeta xmlns:x="adobe:ns:meta/"><!-- edited --></x:xmpmeta>', { Type: name('Metadata'), Subtype: name('XML') }));
      const info = doc.trailer.get('Info');
      if (info instanceof PdfRef) w.update(info, (doc.resolveDict(info) ?? new PdfDict()).clone().set('Title', PdfString.text('Contract, final')));
    });
    const report = await verify(rewritten);
    expect(report.verdict).toBe('VALID');
    expect(kinds(report).every(([k, ok]) => k === 'metadata-updated' && ok)).toBe(true);
  });

  it('/Version and /Extensions added to the catalog', async () => {
    const report = await verify(appendUpdate(sealed, (doc, w) => {
      w.update(doc.catalogRef, doc.catalog.clone().set('Version', name('1.7')).set('Extensions', dict({ ADBE: dict({ BaseVersion: name('1.7'), ExtensionLevel: 8 }) })));
    }));
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['metadata-updated', true], ['metadata-updated', true]]);
  });

  it('but /OpenAction added to the catalog stays not allowed', async () => {
    const report = await verify(appendUpdate(sealed, (doc, w) => {
      w.update(doc.catalogRef, doc.catalog.clone().set('OpenAction', dict({ S: name('JavaScript'), JS: PdfString.text('app.alert(1)') })));
    }));
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toEqual([['catalog-changed', false]]);
  });
});

it('/Tabs set on a page: allowed', async () => {
  const report = await verify(appendUpdate(sealed, (doc, w) => {
    const page = doc.page(1);
    w.update(page.ref, page.dict.clone().set('Tabs', name('S')));
  }));
  expect(report.verdict).toBe('VALID');
  expect(kinds(report)).toEqual([['page-tab-order', true]]);
});

it('tagged PDF: a comment and its structure element (/K, /ParentTree, /ParentTreeNextKey) added: allowed', async () => {
  let root!: PdfRef;
  let kids!: PdfRef;
  let parentTree!: PdfRef;
  const tagged = appendUpdate(fs.readFileSync(await fixture('simple')), (doc, w) => {
    root = w.reserve();
    kids = w.add([]);
    const doc0 = w.add(dict({ Type: name('StructElem'), S: name('Document'), P: root, K: kids }));
    parentTree = w.add(dict({ Nums: [] }));
    w.update(kids, [w.add(dict({ Type: name('StructElem'), S: name('P'), P: doc0, Pg: doc.page(1).ref, K: 0 }))]);
    w.update(root, dict({ Type: name('StructTreeRoot'), K: doc0, ParentTree: parentTree, ParentTreeNextKey: 0 }));
    w.update(doc.catalogRef, doc.catalog.clone().set('StructTreeRoot', root).set('MarkInfo', dict({ Marked: true })));
  });
  const signed = await sealer.seal(tagged, 'org', { page: 1, x: 200, y: 200 });
  const commented = appendUpdate(signed, (doc, w) => {
    const annot = w.add(note([450, 700, 470, 720]).set('StructParent', 0));
    addAnnotation(doc, w, 1, annot);
    const element = w.add(dict({ Type: name('StructElem'), S: name('Annot'), P: (doc.resolveDict(root)!.get('K') as PdfRef), Pg: doc.page(1).ref, K: dict({ Type: name('OBJR'), Obj: annot }) }));
    w.update(kids, [...(doc.resolve(kids) as PdfRef[]), element]);
    w.update(parentTree, dict({ Nums: [0, element] }));
    w.update(root, doc.resolveDict(root)!.clone().set('ParentTreeNextKey', 1));
  });
  const report = await verify(commented);
  expect(report.verdict).toBe('VALID');
  expect(kinds(report).every(([, ok]) => ok)).toBe(true);
  expect(kinds(report).map(([k]) => k)).toEqual(expect.arrayContaining(['annotation-added', 'structure-updated']));
});
