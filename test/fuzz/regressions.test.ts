/**
 * Every crash and hang the fuzzer (fuzz.test.ts) found, kept as a small generated document that reproduces it, with
 * the seed and iteration that found it. Each must now end in a typed refusal or a sound reading, quickly.
 */
import { describe, expect, it } from 'vitest';
import { SealdError } from '../../src/errors.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { exercise } from './target.ts';

/** A classic one-revision PDF of `objects` (object 1 first), its table written from the true offsets. */
function pdfOf(objects: string[], edit: (table: string) => string = (t) => t, size: number | string = objects.length + 1): Buffer {
  let body = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  let table = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) table += `${String(o).padStart(10, '0')} 00000 n \n`;
  body += edit(table);
  body += `trailer\n<< /Size ${size} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

const PAGE = ['<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>'];

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('fuzzer findings, kept', () => {
  it('seed 3132428359 iteration 1154: an xref row `0000001567 -0 n` no longer loops forever in readTable', async () => {
    const pdf = pdfOf(['<< /Type /Catalog /Pages 2 0 R >>', ...PAGE], (t) => t.replace(/(\n\d{10}) 00000 n \n$/, '$1 -0 n \n'));
    const started = performance.now();
    const strict = thrown(() => PdfDocument.open(bufferSource(pdf), { recover: false }));
    expect(strict).toBeInstanceOf(SealdError);
    expect((strict as SealdError).code).toBe('PDF_MALFORMED');
    // Recovery still reads the document: the objects are intact.
    expect(PdfDocument.open(bufferSource(pdf)).pageCount).toBe(1);
    expect(await exercise(pdf)).toEqual({ strict: 'refused', recovering: 'read', sealed: 'read' });
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('seed 3132428359 iteration 855: a UTF-16BE field name with an odd number of bytes reads, without a RangeError', async () => {
    // /T <FEFF0041 00> : a byte order mark, "A" and half a code unit.
    const pdf = pdfOf([
      '<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>',
      ...PAGE,
      '<< /FT /Tx /T <FEFF004100> /Rect [0 0 10 10] /Subtype /Widget /P 3 0 R >>',
    ]);
    const doc = PdfDocument.open(bufferSource(pdf));
    expect([...doc.fieldNames()]).toEqual(['A']);
    expect(await exercise(pdf)).toEqual({ strict: 'read', recovering: 'read', sealed: 'read' });
  });

  it('seed 20261202 iteration 16: a catalog whose /AcroForm object is missing, numbered where a seal numbers its own objects', async () => {
    // Object 4 (the AcroForm) is referenced and never defined; /Size 4: a seal's first new object would be number 4.
    const pdf = pdfOf(['<< /Type /Catalog /Pages 2 0 R /AcroForm 4 0 R >>', ...PAGE]);
    expect(await exercise(pdf)).toEqual({ strict: 'read', recovering: 'read', sealed: 'read' });
    // The seal wrote a new AcroForm (not object 4 over its own signature dictionary) that holds the new field.
    const { withSealdRevision } = await import('./corpus.ts');
    const sealed = PdfDocument.open(bufferSource(withSealdRevision(pdf)), { recover: false });
    expect([...sealed.fieldNames()]).toEqual(['Seald1']);
  });

  it('seed 3581494336 iteration 2820: a trailer /Size of 2^53 + 1 no longer gives two new objects one number', async () => {
    const pdf = pdfOf(['<< /Type /Catalog /Pages 2 0 R >>', ...PAGE], undefined, '9007199254740993');
    expect(PdfDocument.open(bufferSource(pdf)).size).toBe(4);
    expect(await exercise(pdf)).toEqual({ strict: 'read', recovering: 'read', sealed: 'read' });
  });

  it('seed 1969273042 iteration 6142: a page referred to with generation 10^20 is refused, not written with a RangeError', async () => {
    const { IncrementalWriter } = await import('../../src/pdf/incremental.ts');
    const { PdfRef } = await import('../../src/pdf/objects.ts');
    const doc = PdfDocument.open(bufferSource(pdfOf(['<< /Type /Catalog /Pages 2 0 R >>', ...PAGE])));
    const error = thrown(() => new IncrementalWriter(doc).update(new PdfRef(3, 1e20), null));
    expect(error).toBeInstanceOf(SealdError);
    expect((error as SealdError).code).toBe('PDF_MALFORMED');
    const { caseFor } = await import('./mutate.ts');
    const { seedCorpus } = await import('./corpus.ts');
    const found = caseFor(1969273042, 6142, await seedCorpus());
    expect(await exercise(found.bytes, found.password)).toMatchObject({ recovering: expect.stringMatching(/read|refused/) });
  });
});
