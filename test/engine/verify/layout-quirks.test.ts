/**
 * Revision layout on two shapes that fooled it (issue 17, bugs noted in the last round): bytes before `%PDF-`
 * (§7.5.2: offsets written in the file count from the header, so a trailer's /Prev does too, while seald counts
 * startxref from the file's first byte — a sound update was `xref-out-of-place`), and a `/Linearized` that an
 * update brings into a small file's first KiB (the original and that update were merged into one revision, as if
 * they were a linearized file's first-page and main sections, §F.3).
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfString, dict, name } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { fixture } from '../../fixtures/index.ts';
import { addAnnotation, appendUpdate } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';
import { rawUpdate } from './writer-kit.ts';

let sealer: Sealer;
beforeAll(async () => {
  sealer = await openSealer();
});
afterAll(async () => {
  await sealer?.close();
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: sealer.anchors });
const withNote = (bytes: Buffer): Buffer =>
  appendUpdate(bytes, (doc, w) => addAnnotation(doc, w, 1, w.add(dict({ Type: name('Annot'), Subtype: name('Text'), Rect: [450, 700, 470, 720], Contents: PdfString.text('checked') }))));

/** A one-page PDF of a few hundred bytes, laid out by hand (§7.5). */
function tinyPdf(): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>',
    '<< /Length 8 >>\nstream\n0 0 m S\nendstream',
  ];
  let out = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n\r\n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

describe('bytes before the %PDF- header', () => {
  it('a sealed file with a junk prefix, then a comment: the chain is sound, VALID', async () => {
    const prefixed = Buffer.concat([Buffer.from('JUNK BEFORE THE HEADER\n'.repeat(5)), fs.readFileSync(await fixture('simple'))]);
    const report = await verify(withNote(await sealer.seal(prefixed, 'org', { page: 1, x: 200, y: 200 })));
    expect(report.verdict).toBe('VALID');
    expect(report.signatures[0]!.changes.map((c) => [c.kind, c.allowed])).toEqual([['annotation-added', true]]);
  });
});

describe('a /Linearized that an update brings into the first KiB', () => {
  it('does not merge that update into the original: three revisions, VALID', async () => {
    const tiny = tinyPdf();
    expect(tiny.length).toBeLessThan(600);
    const updated = rawUpdate(tiny, { leading: (doc) => `${doc.size} 0 obj\n<< /Linearized 1 /L ${tiny.length} >>\nendobj\n` });
    expect(updated.subarray(0, 1024).toString('latin1')).toMatch(/\/Linearized\s/);
    const report = await verify(await sealer.seal(updated, 'org', { page: 1, x: 200, y: 200 }));
    expect(report.revisions).toBe(3);
    expect(report.signatures[0]!.revision).toBe(3);
    expect(report.verdict).toBe('VALID');
  });
});
