/**
 * Harmless habits of other writers found on EU DSS's validation files (issue 17), each beside the change it must not
 * excuse: iText marks the root page tree node with its version (/ITXT, pkcs7_sha1.pdf) — a /Rotate there turns every
 * page; an LTV update extends a /VRI entry's /Cert array in place (wrong-digest-algo.pdf): validation data; a
 * viewer names its comment icons in the catalog's /Names /AP tree (pades-signed-annot-added.pdf) — a /JavaScript
 * tree added beside it runs code; a writer re-points a page's /Resources (and /Contents) to new objects of the same
 * value in every update (SecCommerce, Signature-P-DE_SCI-4.pdf: 17 → 35 → 51) — a new dictionary with one font
 * swapped changes what the page shows.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDict, PdfRef, PdfStream, PdfString, dict, name } from '../../../src/pdf/objects.ts';
import type { IncrementalWriter } from '../../../src/pdf/incremental.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendUpdate, stream } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let original: Buffer;
beforeAll(async () => {
  sealer = await openSealer();
  original = fs.readFileSync(await fixture('simple'));
});
afterAll(async () => {
  await sealer?.close();
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: sealer.anchors });
const kinds = (r: VerificationReport): [string, boolean][] => r.signatures[0]!.changes.map((c) => [c.kind, c.allowed]);
const seal = (bytes: Buffer): Promise<Buffer> => sealer.seal(bytes, 'org', { page: 1, x: 200, y: 200 });

/** An update that sets `key` on the root page tree node. */
function onPagesRoot(bytes: Buffer, key: string, value: PdfString | number): Buffer {
  return appendUpdate(bytes, (doc, w) => {
    const ref = doc.catalog.get('Pages') as PdfRef;
    w.update(ref, (doc.resolveDict(ref) as PdfDict).clone().set(key, value));
  });
}

describe('a page tree node written again', () => {
  it("with iText's version mark (/ITXT): VALID, a writer-mark", async () => {
    const report = await verify(onPagesRoot(await seal(original), 'ITXT', PdfString.text('5.0.0')));
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['writer-mark', true]]);
  });

  it('with /Rotate, which every page inherits: INVALID', async () => {
    const report = await verify(onPagesRoot(await seal(original), 'Rotate', 90));
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toEqual([['page-tree-changed', false]]);
  });
});

describe("a /VRI entry's /Cert array extended in place", () => {
  let sealed: Buffer;
  let certs: PdfRef;
  beforeAll(async () => {
    const withDss = appendUpdate(original, (doc, w) => {
      certs = w.add([w.add(stream('certificate 1'))]);
      const vri = dict({ ['0123456789ABCDEF0123456789ABCDEF01234567']: dict({ Cert: certs }) });
      w.update(doc.catalogRef, doc.catalog.clone().set('DSS', w.add(dict({ Type: name('DSS'), VRI: w.add(vri) }))));
    });
    sealed = await seal(withDss);
  });

  it('by an LTV update: VALID, dss-updated', async () => {
    const extended = appendUpdate(sealed, (doc, w) => w.update(certs, [...(doc.resolve(certs) as PdfRef[]), w.add(stream('certificate 2'))]));
    const report = await verify(extended);
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['dss-updated', true]]);
  });
});

describe('the catalog /Names dictionary set after a seal', () => {
  const withNames = (bytes: Buffer, tree: 'AP' | 'JavaScript'): Buffer =>
    appendUpdate(bytes, (doc, w) => {
      const target = tree === 'AP' ? w.add(stream('0 g 0 0 24 24 re f')) : w.add(dict({ S: name('JavaScript'), JS: PdfString.text('app.alert(1)') }));
      const names = dict({ [tree]: dict({ Names: [PdfString.text('icon'), target] }) });
      w.update(doc.catalogRef, doc.catalog.clone().set('Names', w.add(names)));
    });

  it('with only an /AP tree (named annotation appearances): VALID, reported', async () => {
    const report = await verify(withNames(await seal(original), 'AP'));
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['annotation-appearances-named', true]]);
  });

  it('with a /JavaScript tree: INVALID', async () => {
    const report = await verify(withNames(await seal(original), 'JavaScript'));
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toEqual([['catalog-changed', false]]);
  });
});

describe("the catalog's indirect /Extensions written again in place (pyHanko's extensions-update-indirect.pdf)", () => {
  const prepared = async (alsoNamedBy?: string): Promise<{ sealed: Buffer; ext: PdfRef }> => {
    let ext!: PdfRef;
    const withExt = appendUpdate(original, (doc, w) => {
      ext = w.add(dict({}));
      const catalog = doc.catalog.clone().set('Extensions', ext);
      if (alsoNamedBy !== undefined) catalog.set(alsoNamedBy, ext);
      w.update(doc.catalogRef, catalog);
    });
    return { sealed: await seal(withExt), ext };
  };
  const declare = (bytes: Buffer, ext: PdfRef): Buffer =>
    appendUpdate(bytes, (_doc, w) => w.update(ext, dict({ ISO_: [dict({ Type: name('DeveloperExtensions'), BaseVersion: name('2.0'), ExtensionLevel: 32002 })] })));

  it('reached only from /Extensions: metadata, VALID', async () => {
    const { sealed, ext } = await prepared();
    const report = await verify(declare(sealed, ext));
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['metadata-updated', true]]);
  });

  it('the same object also named by another catalog entry: INVALID', async () => {
    const { sealed, ext } = await prepared('DontOverrideMe');
    const report = await verify(declare(sealed, ext));
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toEqual([['object-changed', false]]);
  });
});

describe("a page's /Resources and /Contents re-pointed to new objects", () => {
  /** An update that re-points page 1's /Resources to a copy (edited by `edit`) and its /Contents to a re-encoded copy. */
  const repointed = (bytes: Buffer, edit: (resources: PdfDict, w: IncrementalWriter) => void = () => undefined): Buffer =>
    appendUpdate(bytes, (doc, w) => {
      const page = doc.page(1);
      const resources = doc.resolveDict(page.dict.get('Resources'))!.clone();
      edit(resources, w);
      const contents = doc.resolve(page.dict.get('Contents'));
      const updated = page.dict.clone().set('Resources', w.add(resources));
      // The same content, stored uncompressed in a new stream: equal by its decoded bytes.
      if (contents instanceof PdfStream) updated.set('Contents', w.add(new PdfStream(dict({}), doc.decode(contents))));
      w.update(page.ref, updated);
    });

  it('of the same value (a new, equal dictionary and stream): VALID, nothing changed', async () => {
    const sealed = await seal(original);
    const report = await verify(repointed(sealed));
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([]);
  });

  it('with one font swapped in the new dictionary: INVALID, page-resources-changed', async () => {
    const sealed = await seal(original);
    const report = await verify(repointed(sealed, (resources, w) => {
      resources.set('Font', dict({ F1: w.add(dict({ Type: name('Font'), Subtype: name('Type1'), BaseFont: name('Courier') })) }));
    }));
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toEqual([['page-resources-changed', false]]);
  });

  /** An update that writes page 1's /MediaBox as an indirect array holding `box`. */
  const mediaBoxMoved = (bytes: Buffer, box: (old: number[]) => number[]): Buffer =>
    appendUpdate(bytes, (doc, w) => {
      const page = doc.page(1);
      const old = (doc.resolve(page.dict.get('MediaBox')) as number[]).map(Number);
      w.update(page.ref, page.dict.clone().set('MediaBox', w.add(box(old))));
    });

  it('any page entry, not only these two: a /MediaBox moved into an equal indirect array is no change; a larger one is', async () => {
    const sealed = await seal(original);
    const same = await verify(mediaBoxMoved(sealed, (old) => old));
    expect(same.verdict).toBe('VALID');
    expect(kinds(same)).toEqual([]);
    const larger = await verify(mediaBoxMoved(sealed, ([x0, y0, x1, y1]) => [x0!, y0!, x1! + 100, y1!]));
    expect(larger.verdict).toBe('INVALID');
    expect(kinds(larger)).toEqual([['page-changed', false]]);
  });
});
