/**
 * Tolerances for quirky files that qpdf and poppler read, each on a generated fixture made like the real-world file
 * named in damaged-fixtures.ts: seald reads what the file holds (checked object by object against qpdf's reading of
 * the intact file) and a signature-shaped update on it passes qpdf --check, the input an exact prefix.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PdfDocument } from '../../src/pdf/document.ts';
import type { SealImage } from '../../src/pdf/image.ts';
import { centredMarkRect } from '../../src/pdf/placement.ts';
import { embedCms, prepareSignature } from '../../src/pdf/signature.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { fixture } from '../fixtures/index.ts';
import { qpdfCheck } from '../support/tools.ts';
import * as damage from './damaged-fixtures.ts';
import { differences, qpdfReading } from './qpdf-objects.ts';

const dir = await mkdtemp(join(tmpdir(), 'seald-tolerances-'));
const image: SealImage = { width: 1, height: 1, rgb: deflateSync(Buffer.from([255, 0, 0])), alpha: deflateSync(Buffer.from([255])) };

function update(bytes: Uint8Array, fieldName: string): Buffer {
  const doc = PdfDocument.open(bufferSource(bytes));
  const page = doc.page(1);
  const prepared = prepareSignature(doc, {
    fieldName,
    signingTime: new Date('2026-01-02T03:04:05Z'),
    contentsSize: 64,
    image,
    mark: { page, rect: centredMarkRect(page, { x: 100, y: 100, width: 50, height: 50 }) },
  });
  embedCms(prepared, Buffer.from('3003020101', 'hex'));
  return prepared.bytes;
}

describe('/Prev 0 in an update (DSS pades-5-signatures-and-1-document-timestamp.pdf)', () => {
  it('the objects the cut chain hides are found by recovery; the page tree reads; the update is clean', async () => {
    const simple = await readFile(await fixture('simple'));
    const intact = Buffer.concat([simple, update(simple, 'First')]);
    const cut = damage.prevZeroInUpdate(simple, (b) => update(b, 'First'));
    expect(cut.length).toBe(intact.length);

    // The strict reading loses the page tree, as qpdf's does ("0 pages"): the damage is real.
    expect(() => PdfDocument.open(bufferSource(cut), { recover: false }).pageCount).toThrow(/page tree|Count|damaged/);

    const doc = PdfDocument.open(bufferSource(cut));
    expect(doc.pageCount).toBe(1);
    const intactFile = join(dir, 'prev0-intact.pdf');
    await writeFile(intactFile, intact);
    expect(differences(doc, await qpdfReading(intactFile))).toEqual([]);
    expect(doc.repaired?.reason).toMatch(/\/Prev 0 ends the chain at an update that lists \d+ of \d+ objects/);

    const out = Buffer.concat([cut, update(cut, 'Second')]);
    const outFile = join(dir, 'prev0-updated.pdf');
    await writeFile(outFile, out);
    expect(out.subarray(0, cut.length).equals(cut)).toBe(true);
    const check = await qpdfCheck(outFile);
    expect(check.ok, check.output).toBe(true);
    expect([...PdfDocument.open(bufferSource(out), { recover: false }).fieldNames()].sort()).toEqual(['First', 'Second']);
  });

  it('/Prev 0 in a single-revision file stays on the fast path (the section lists every object)', async () => {
    const doc = PdfDocument.open(bufferSource(damage.prevZero(await readFile(await fixture('simple')))));
    expect(doc.xref.quirks).toEqual([]);
    expect(doc.pageCount).toBe(1);
    expect(doc.repaired).toBeUndefined();
  });
});
