/**
 * Signature shapes other writers make that the verifier must accept: a signature dictionary written direct inside its
 * field (ISO 32000-1 §12.7.4.5: /V may be direct; the /ByteRange gap is then inside the field object).
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import { createSoftwareFixture, type SoftwareFixture } from '../../crypto/software-signer.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendSignature, appendUpdate } from './attack-kit.ts';
import type { PdfDocument } from '../../../src/pdf/document.ts';
import type { IncrementalWriter } from '../../../src/pdf/incremental.ts';
import { PdfDict, PdfRef, dict, name } from '../../../src/pdf/objects.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let sw: SoftwareFixture;
let anchors: Uint8Array[];
let base: Buffer;

beforeAll(async () => {
  sealer = await openSealer();
  sw = await createSoftwareFixture('EC-P256', '/C=CN/O=Direct/CN=Direct');
  anchors = [...sealer.anchors, ...pemToDer(fs.readFileSync(sw.caPemPath, 'utf8'))];
  base = fs.readFileSync(await fixture('simple'));
});
afterAll(async () => {
  await sealer?.close();
  if (sw) fs.rmSync(sw.dir, { recursive: true, force: true });
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: anchors });

it('a signature dictionary direct inside its field: INTACT and VALID, reported once', async () => {
  const direct = await appendSignature(base, { field: 'Direct', signer: sw.signer, direct: true });
  const report = await verify(direct);
  expect(report.signatures.map((s) => [s.field, s.integrity, s.verdict])).toEqual([['Direct', 'INTACT', 'VALID']]);
  expect(report.verdict).toBe('VALID');
});

it('then sealed by seald: both VALID, the direct one reported once', async () => {
  const direct = await appendSignature(base, { field: 'Direct', signer: sw.signer, direct: true });
  const report = await verify(await sealer.seal(direct, 'org', { page: 1, x: 100, y: 400 }));
  expect(report.signatures.map((s) => [s.field, s.integrity, s.changesAfter, s.verdict])).toEqual([
    ['Direct', 'INTACT', 'ALLOWED', 'VALID'],
    ['Seal1', 'INTACT', 'NONE', 'VALID'],
  ]);
});

it('a direct signature whose bytes changed is DIGEST_MISMATCH', async () => {
  const direct = await appendSignature(base, { field: 'Direct', signer: sw.signer, direct: true });
  const at = direct.indexOf('/M (D:', base.length) + 7;
  direct[at] = direct[at] === 0x31 ? 0x32 : 0x31;
  const report = await verify(direct);
  expect(report.signatures.map((s) => [s.field, s.integrity, s.verdict])).toEqual([['Direct', 'DIGEST_MISMATCH', 'INVALID']]);
});

it('a second signature filled into a field that was already empty in the signed revision: allowed', async () => {
  const withEmpty = await appendSignature(base, { field: 'Second', unsigned: true, rect: [0, 0, 0, 0] });
  const first = await appendSignature(withEmpty, { field: 'First', signer: sw.signer });
  const report = await verify(await appendSignature(first, { field: 'Second', signer: sw.signer, existing: true }));
  expect(report.signatures.map((s) => [s.field, s.integrity, s.verdict])).toEqual([['First', 'INTACT', 'VALID'], ['Second', 'INTACT', 'VALID']]);
  expect(report.signatures[0]!.changes.map((c) => [c.kind, c.allowed])).toEqual([['signature-added', true], ['signature-field-signed', true]]);
  expect(report.verdict).toBe('VALID');
});

it('signing an empty field may lock its widget (/F 4 → 132, as pyHanko does); other field entries may not change', async () => {
  const withEmpty = await appendSignature(base, { field: 'Second', unsigned: true, rect: [0, 0, 0, 0] });
  const first = await appendSignature(withEmpty, { field: 'First', signer: sw.signer });
  const locked = await verify(await appendSignature(first, { field: 'Second', signer: sw.signer, existing: true, fieldEntries: { F: 132 } }));
  expect(locked.verdict).toBe('VALID');
  expect(locked.signatures[0]!.changes.map((c) => [c.kind, c.allowed])).toEqual([['signature-added', true], ['signature-field-signed', true]]);
  const moved = await verify(await appendSignature(first, { field: 'Second', signer: sw.signer, existing: true, fieldEntries: { F: 132, Rect: [100, 100, 300, 200] } }));
  expect(moved.verdict).toBe('INVALID');
});

it('/AcroForm /DR that only gains a font is allowed; one that re-points an existing font name is not', async () => {
  const font = (base14: string) => dict({ Type: name('Font'), Subtype: name('Type1'), BaseFont: name(base14) });
  const setDr = (bytes: Buffer, fonts: (doc: PdfDocument, w: IncrementalWriter, old: PdfDict | undefined) => PdfDict) =>
    appendUpdate(bytes, (doc, w) => {
      const ref = doc.catalog.get('AcroForm') as PdfRef;
      const af = doc.resolveDict(ref)!;
      const old = doc.resolveDict(doc.resolveDict(af.get('DR'))?.get('Font'));
      w.update(ref, af.clone().set('DR', dict({ Font: fonts(doc, w, old) })));
    });
  const signed = await appendSignature(setDr(await appendSignature(base, { field: 'Empty', unsigned: true, rect: [0, 0, 0, 0] }), (_d, w) => dict({ Helv: w.add(font('Helvetica')) })), { field: 'First', signer: sw.signer });
  const grown = await verify(setDr(signed, (_d, w, old) => old!.clone().set('ZaDb', w.add(font('ZapfDingbats')))));
  expect(grown.verdict).toBe('VALID');
  expect(grown.signatures[0]!.changes.map((c) => [c.kind, c.allowed])).toEqual([['form-resources-added', true]]);
  const repointed = await verify(setDr(signed, (_d, w) => dict({ Helv: w.add(font('Courier')) })));
  expect(repointed.verdict).toBe('INVALID');
  expect(repointed.signatures[0]!.changes.map((c) => [c.kind, c.allowed])).toEqual([['acroform-changed', false]]);
});

it("a signature field whose widget is a separate kid with no /Parent back (pyHanko's separate-annots-kids-indir.pdf): its widget is the signature's", async () => {
  const first = await appendSignature(base, { field: 'First', signer: sw.signer, separateKid: true });
  const report = await verify(await appendSignature(first, { field: 'Second', signer: sw.signer, separateKid: true, rect: [300, 200, 400, 260] }));
  expect(report.verdict).toBe('VALID');
  expect(report.signatures[0]!.changes.map((c) => [c.kind, c.allowed])).toEqual([['signature-added', true], ['signature-widget-added', true]]);
});
