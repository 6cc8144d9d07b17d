/**
 * The verifier on documents seald sealed after repairing them (issue 18, src/pdf/repaired-base.ts): the damaged
 * original is read by recovery and reported, the signed revision strictly, so the seal verifies VALID with a notice.
 * And the other side: repair never rescues damage in or after a signed revision, nor a forged marker.
 * Real seals on the embedded defaults' SoftHSM token; pdfsig agrees on the signature.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../../src/crypto/certificate.ts';
import { checkedSealDocument } from '../../src/engine/output-check.ts';
import { verifyDocument } from '../../src/engine/verify/verify.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import type { PdfRef } from '../../src/pdf/objects.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { fixture, type FixtureName } from '../fixtures/index.ts';
import { openOrgSeal, type OrgSeal } from '../engine/org-seal.ts';
import { pdfsig } from '../support/tools.ts';
import * as damage from './damaged-fixtures.ts';

let org: OrgSeal;
let anchors: Uint8Array[];

beforeAll(async () => {
  org = await openOrgSeal();
  anchors = pemToDer(fs.readFileSync(org.caPem, 'utf8'));
});

afterAll(async () => {
  await org?.close();
});

async function seal(input: Buffer): Promise<Buffer> {
  const outcome = await checkedSealDocument(bufferSource(input), org.seal, { page: 1, x: 100, y: 100 }, {});
  return Buffer.concat([input, outcome.appended]);
}

const verify = (bytes: Buffer) => verifyDocument(bufferSource(bytes), { trustAnchors: anchors });

/**
 * An attacker's revision after `signed`: page 1 gets new content, and the section lists every object with no /Prev,
 * as seald's section over a repaired original does, with the marker naming `claimedBase` as the original's end.
 */
function forgedRevision(signed: Buffer, claimedBase: number): Buffer {
  const doc = PdfDocument.open(bufferSource(signed));
  const page = doc.page(1);
  const parent = page.dict.get('Parent') as PdfRef;
  const size = doc.size;
  let tail = '\n';
  const offset = () => signed.length + Buffer.byteLength(tail, 'latin1');
  const content = 'BT /F1 24 Tf 72 700 Td (Pay 1,000,000 to Mallory) Tj ET';
  const contentOffset = offset();
  tail += `${size} 0 obj\n<< /Length ${content.length} >>\nstream\n${content}\nendstream\nendobj\n`;
  const pageOffset = offset();
  tail += `${page.ref.num} ${page.ref.gen} obj\n<< /Type /Page /Parent ${parent.num} ${parent.gen} R /MediaBox [0 0 595 842] /Contents ${size} 0 R >>\nendobj\n`;
  const row = (at: number, gen = 0) => `${String(at).padStart(10, '0')} ${String(gen).padStart(5, '0')} n\r\n`;
  const rows = new Map<number, string>();
  for (const [num, e] of doc.xref.entries) if (e.type === 'offset') rows.set(num, row(e.offset, e.gen));
  rows.set(size, row(contentOffset));
  rows.set(page.ref.num, row(pageOffset, page.ref.gen));
  const xrefOffset = offset();
  tail += `xref\n0 ${size + 1}\n`;
  for (let n = 0; n <= size; n++) tail += rows.get(n) ?? '0000000000 65535 f\r\n';
  tail += `trailer\n<< /Size ${size + 1} /Root ${doc.catalogRef.num} 0 R /Seald_RepairedBase ${claimedBase} >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return Buffer.concat([signed, Buffer.from(tail, 'latin1')]);
}

const REPAIRED: [string, FixtureName, (b: Buffer) => Buffer, 'with /Prev' | 'no /Prev'][] = [
  ['startxref missing', 'cjk-contract', damage.noStartxref, 'no /Prev'],
  ['entries of two objects swapped', 'simple', (b) => damage.entriesSwapped(b, 2, 7), 'with /Prev'],
  ['xref stream data broken (object streams)', 'xref-stream', damage.xrefStreamBroken, 'no /Prev'],
  ['LF→CRLF conversion', 'cjk-contract', damage.lfToCrlf, 'no /Prev'],
  // The original's own %%EOF markers and sections lie anywhere before its end (qpdf's minimal-linearize-pass1.pdf).
  ['linearized, first-page xref garbage', 'linearized', damage.linearizedBadFirstPageXref, 'no /Prev'],
];

describe('verify reads an original that seald repaired before sealing it', () => {
  for (const [name, source, make, prev] of REPAIRED) {
    it(`${name} (${prev}): VALID, the repair reported, the signature on revision 2 covering the whole file`, async () => {
      const input = make(fs.readFileSync(await fixture(source)));
      const sealed = await seal(input);
      expect(sealed.toString('latin1', input.length).includes('/Prev')).toBe(prev === 'with /Prev');
      const report = await verify(sealed);
      expect(report.verdict, report.reasons.join('; ')).toBe('VALID');
      expect(report.revisions).toBe(2);
      expect(report.repairedOriginal).toEqual({ revisions: 1, end: input.length, reason: expect.stringMatching(/damaged/) });
      expect(report.reasons.at(-1)).toMatch(/^the original \(revision 1, signed by none\) was damaged and is read by repairing it: /);
      expect(report.signatures).toHaveLength(1);
      expect(report.signatures[0]).toMatchObject({ revision: 2, integrity: 'INTACT', coversWholeDocument: true, changesAfter: 'NONE' });

      const file = path.join(org.dir, `${source}-${prev.replace(/\W/g, '')}.pdf`);
      fs.writeFileSync(file, sealed);
      const independent = await pdfsig(file);
      expect(independent.signatures.map((s) => s.signatureValid)).toEqual([true]);

      // A second seal on top reads strictly (nothing left to repair) and keeps both valid.
      const twice = await seal(sealed);
      const again = await verify(twice);
      expect(again.verdict, again.reasons.join('; ')).toBe('VALID');
      expect(again.repairedOriginal?.revisions).toBe(1);
      expect(again.signatures.map((s) => s.revision)).toEqual([2, 3]);
    });
  }

  it('a clean document says nothing of a repair', async () => {
    const report = await verify(await seal(fs.readFileSync(await fixture('simple'))));
    expect(report.verdict).toBe('VALID');
    expect(report.repairedOriginal).toBeUndefined();
  });
});

describe('repair never rescues damage in or after a signed revision', () => {
  it('a forged revision with a broken table after a signed one: INVALID, nothing repaired', async () => {
    const signed = await seal(fs.readFileSync(await fixture('simple')));
    const forged = damage.startxrefWrong(forgedRevision(signed, signed.length));
    const report = await verify(forged);
    expect(report.verdict).toBe('INVALID');
    expect(report.repairedOriginal).toBeUndefined();
  });

  it('a forged revision whose marker names the signed document as the "original": INVALID (the base holds a signature)', async () => {
    const signed = await seal(fs.readFileSync(await fixture('simple')));
    const report = await verify(forgedRevision(signed, signed.length));
    expect(report.verdict).toBe('INVALID');
    expect(report.repairedOriginal).toBeUndefined();
  });

  it('a forged revision whose marker names the unsigned original: the signed revision ends at no revision, INVALID', async () => {
    const original = fs.readFileSync(await fixture('simple'));
    const signed = await seal(original);
    const report = await verify(forgedRevision(signed, original.length));
    expect(report.verdict).toBe('INVALID');
    expect(report.signatures[0]?.integrity === 'INTACT' && report.signatures[0]?.verdict === 'VALID').toBe(false);
  });

  it('damage inside a signed revision, then repaired by a second seal: the first signature INVALID, nothing read by repair', async () => {
    // The table of seald's signed revision edited after signing (every row 3 bytes off): the bytes it signed changed.
    const damaged = damage.entriesOffBy(await seal(fs.readFileSync(await fixture('simple'))), 3);
    const resealed = await seal(damaged);
    expect(resealed.toString('latin1', damaged.length)).toContain(`/Seald_RepairedBase ${damaged.length}`);
    const report = await verify(resealed);
    expect(report.verdict).toBe('INVALID');
    expect(report.repairedOriginal).toBeUndefined();
    expect(report.signatures[0]).toMatchObject({ revision: 2, verdict: 'INVALID', integrity: 'DIGEST_MISMATCH' });
  });
});
