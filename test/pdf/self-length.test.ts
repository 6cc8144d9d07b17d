/**
 * A stream whose /Length is a reference to the stream itself (pdf.js's test/pdfs/poppler-91414-0-53.pdf, found by
 * bench/score-corpus.ts): `6 0 obj << /Length 6 0 R >> stream`, reached here as the page tree's /Count. Reading
 * object 6 reads its /Length, which is object 6, and so on until the stack overflows: a RangeError escapes instead of
 * a SealdError, so the server answers INTERNAL and the verifier calls the file "cannot be analysed".
 *
 * The fix is in src/pdf/document.ts: getObject notices an object already being loaded and reads it as null, so
 * /Length is unusable and the stream malformed.
 */
import { describe, expect, it } from 'vitest';
import { SealdError } from '../../src/errors.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import { pageCount } from '../../src/pdf/page-tree.ts';
import { bufferSource } from '../../src/pdf/source.ts';

/** A one-page file whose page tree /Count is object 6, a stream whose /Length is 6 0 R. */
function selfLengthPdf(): Uint8Array {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 6 0 R >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>',
    '<< /Length 0 >>\nstream\n\nendstream',
    '<< >>',
    '<< /Length 6 0 R >>\nstream\n2\nendstream',
  ];
  let body = '%PDF-1.5\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) body += `${String(o).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

describe('a stream whose /Length refers to itself', () => {
  it('is a SealdError (PDF_MALFORMED), not a stack overflow', () => {
    const doc = PdfDocument.open(bufferSource(selfLengthPdf()));
    let thrown: unknown;
    try {
      pageCount(doc);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SealdError);
  });
});
