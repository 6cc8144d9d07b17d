/**
 * Two bypasses of revision splitting that another mainstream validator fixed as security issues in 2026 (issue 17):
 *   - a later revision that starts with a linearization dictionary (ISO 32000-1 Annex F), so that a validator which
 *     recognises "a linearized file" by it takes the forged update for part of a fresh original;
 *   - `%%EOF` markers placed inside an update's trailer area, so that a validator that splits revisions at `%%EOF`
 *     cuts the file where the attacker wants.
 * seald lays the cross-reference chain onto the `%%EOF`s (src/pdf/revisions.ts) and decides linearization from the
 * file's first bytes only, so each forged file must come out INVALID, with the forged change named; a sound update
 * beside each shows the rule does not cry wolf.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfRef, dict, name } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { fixture } from '../../fixtures/index.ts';
import { firstContents, stream } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';
import { rawUpdate } from './writer-kit.ts';

let sealer: Sealer;
let sealed: Buffer;
let linearizedSealed: Buffer;

beforeAll(async () => {
  sealer = await openSealer();
  sealed = await sealer.seal(fs.readFileSync(await fixture('simple')), 'org', { page: 1, x: 200, y: 200 });
  linearizedSealed = await sealer.seal(fs.readFileSync(await fixture('linearized')), 'org', { page: 1, x: 200, y: 200 });
});
afterAll(async () => {
  await sealer?.close();
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: sealer.anchors });
const kinds = (r: VerificationReport): string[] => r.signatures[0]!.changes.map((c) => c.kind);
const forgedContent = stream('BT /F1 24 Tf 72 700 Td (Forged after signing) Tj ET');

/** A linearization parameter dictionary (Annex F, Table F.1) claiming the whole file, as the update's first object. */
function linearizationDict(length: number) {
  return dict({ Linearized: 1, L: length, H: [0, 0], O: 1, E: 0, N: 1, T: 0 });
}

describe('an update that appends a linearization dictionary', () => {
  for (const [label, base] of [['a plain original', () => sealed], ['a linearized original', () => linearizedSealed]] as const) {
    it(`with a content change, on ${label}: INVALID, the update still a revision of its own`, async () => {
      const bytes = base();
      const forged = rawUpdate(bytes, {
        objects: (doc) => [
          [new PdfRef(doc.size, 0), linearizationDict(bytes.length + 2000)],
          [new PdfRef(firstContents(doc), 0), forgedContent],
        ],
      });
      const before = await verify(bytes);
      const report = await verify(forged);
      expect(report.revisions).toBe(before.revisions + 1);
      expect(report.verdict).toBe('INVALID');
      expect(report.signatures[0]!.coversWholeDocument).toBe(false);
      expect(kinds(report)).toContain('page-content-changed');
    });
  }

  it('alone (an unreferenced new object): changes nothing shown, VALID', async () => {
    const report = await verify(rawUpdate(sealed, { objects: (doc) => [[new PdfRef(doc.size, 0), linearizationDict(sealed.length + 500)]] }));
    expect(report.verdict).toBe('VALID');
    expect(report.revisions).toBe(3);
  });
});

describe('%%EOF markers inside an update’s trailer area', () => {
  it('a %%EOF between the trailer and startxref: INVALID (a revision the chain does not account for)', async () => {
    const forged = rawUpdate(sealed, { objects: (doc) => [[new PdfRef(firstContents(doc), 0), forgedContent]], beforeStartxref: '%%EOF\n' });
    const report = await verify(forged);
    expect(report.verdict).toBe('INVALID');
    // Cut at the false marker, the update reads as revision 2 again; the real marker ends a revision nothing chains.
    expect(kinds(report)).toEqual(expect.arrayContaining(['xref-out-of-place', 'hidden-revision']));
    expect(report.reasons.join(' ')).toMatch(/hides or rewrites revisions/);
  });

  it('even when the update itself only adds a comment: the trick alone is INVALID', async () => {
    const forged = rawUpdate(sealed, {
      objects: (doc) => [[new PdfRef(doc.size, 0), dict({ Type: name('Annot'), Subtype: name('Text'), Rect: [450, 700, 470, 720] })]],
      beforeStartxref: '%%EOF\n%%EOF\n',
    });
    const report = await verify(forged);
    expect(report.verdict).toBe('INVALID');
    expect(report.reasons.join(' ')).toMatch(/hides or rewrites revisions: .*a %%EOF at offset \d+ ends a revision that the cross-reference chain skips/);
  });

  it('a %%EOF in a comment before the update’s cross-reference section: INVALID', async () => {
    const forged = rawUpdate(sealed, {
      leading: () => '%%EOF\n',
      objects: (doc) => [[new PdfRef(firstContents(doc), 0), forgedContent]],
    });
    const report = await verify(forged);
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toEqual(expect.arrayContaining(['page-content-changed', 'hidden-revision']));
  });

  it('the same update without the markers is judged on its content alone', async () => {
    const report = await verify(rawUpdate(sealed, { objects: (doc) => [[new PdfRef(firstContents(doc), 0), forgedContent]] }));
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toEqual(['page-content-changed']);
  });
});
