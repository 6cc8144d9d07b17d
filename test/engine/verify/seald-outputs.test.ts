/**
 * Every seald output verifies VALID: each fixture sealed once, twice and three times through the real engine on a real
 * SoftHSM token, then verified by src/verify and, independently, by poppler's pdfsig, which must agree on each
 * signature's integrity and coverage. A byte flipped in a signed range makes the document INVALID and names the
 * signature.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferSource } from '../../../src/pdf/source.ts';
import { pemToDer } from '../../../src/crypto/certificate.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { fixture, FIXTURE_FACTS, otherSignerCaPem, OTHER_SIGNER_FIELD, type FixtureName } from '../../fixtures/index.ts';
import { pdfsig } from '../../support/tools.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let outDir: string;

beforeAll(async () => {
  sealer = await openSealer();
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-verify-out-'));
});
afterAll(async () => {
  await sealer?.close();
  fs.rmSync(outDir, { recursive: true, force: true });
});

const MATRIX: FixtureName[] = ['simple', 'cjk-contract', 'xref-stream', 'linearized', 'hybrid', 'acroform', 'rotated', 'pages-300', 'signed-by-other'];

async function verify(bytes: Uint8Array, anchors = sealer.anchors): Promise<VerificationReport> {
  return verifyDocument(bufferSource(bytes), { trustAnchors: anchors });
}

describe('seald outputs verify VALID, and pdfsig agrees on integrity', () => {
  for (const name of MATRIX) {
    it(name, async () => {
      const facts = FIXTURE_FACTS[name];
      const before = facts.signatures ?? 0;
      const pages = facts.pages ?? 1;
      const otherCa = name === 'signed-by-other' ? pemToDer(fs.readFileSync(await otherSignerCaPem(), 'utf8')) : [];
      let current: Buffer = fs.readFileSync(await fixture(name));
      const steps: ['org' | 'personal', number][] = [['org', 1], ['personal', pages], ['org', Math.min(2, pages)]];
      for (const [i, [sealId, page]] of steps.entries()) {
        current = await sealer.seal(current, sealId, { page, x: 150 + 100 * i, y: 200 });
        const report = await verify(current, [...sealer.anchors, ...otherCa]);
        expect(report.verdict, JSON.stringify(report.reasons)).toBe('VALID');
        expect(report.signatures).toHaveLength(before + i + 1);
        expect(report.lastRevisionCovered).toBe(true);
        const last = report.signatures.find((s) => s.field === `Seal${i + 1}`)!;
        expect(last).toMatchObject({ integrity: 'INTACT', trust: 'TRUSTED', coversWholeDocument: true, changesAfter: 'NONE', verdict: 'VALID' });
        expect(last.revision).toBe(report.revisions);
        for (const s of report.signatures.filter((x) => x !== last)) {
          expect(s.changesAfter).toBe('ALLOWED');
          expect(s.changes.every((c) => c.allowed && ['signature-added', 'signature-widget-added'].includes(c.kind))).toBe(true);
        }
      }

      // pdfsig, independently: the same integrity and coverage for every signature.
      const file = path.join(outDir, `${name}.pdf`);
      fs.writeFileSync(file, current);
      const ours = await verify(current, [...sealer.anchors, ...otherCa]);
      const theirs = await pdfsig(file);
      expect(theirs.signatures).toHaveLength(ours.signatures.length);
      for (const s of ours.signatures) {
        const p = theirs.signatures.find((x) => x.fieldName === s.field)!;
        expect(p, s.field).toBeDefined();
        expect(p.signatureValid).toBe(s.integrity === 'INTACT');
        expect(p.coversWholeDocument).toBe(s.coversWholeDocument);
      }
    });
  }

  it('the fixture signed by pdfsig itself: INTACT, but UNTRUSTED by seald’s anchors (INDETERMINATE), as pdfsig says', async () => {
    const file = await fixture('signed-by-other');
    const report = await verify(fs.readFileSync(file));
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]).toMatchObject({
      field: OTHER_SIGNER_FIELD, integrity: 'INTACT', trust: 'UNTRUSTED', verdict: 'INDETERMINATE',
      subFilter: 'adbe.pkcs7.detached', coversWholeDocument: true, revision: 2,
    });
    expect(report.verdict).toBe('INDETERMINATE');
    const theirs = await pdfsig(file);
    expect(theirs.signatures[0]!.signatureValid).toBe(true);
    const trusted = await verify(fs.readFileSync(file), pemToDer(fs.readFileSync(await otherSignerCaPem(), 'utf8')));
    expect(trusted.verdict).toBe('VALID');
  });
});

describe('one flipped byte', () => {
  it('in the original content: every signature over it is DIGEST_MISMATCH and named', async () => {
    const input = fs.readFileSync(await fixture('simple'));
    const two = await sealer.seal(await sealer.seal(input, 'org', { page: 1, x: 200, y: 200 }), 'personal', { page: 1, x: 400, y: 200 });
    const at = two.indexOf('/Creator <') + 14; // a hex digit inside the document information's /Creator string
    expect(at).toBeGreaterThan(14);
    expect(at).toBeLessThan(input.length);
    const flipped = Buffer.from(two);
    flipped[at] = flipped[at]! ^ 0x01;
    const report = await verify(flipped);
    expect(report.verdict).toBe('INVALID');
    expect(report.signatures.map((s) => s.integrity)).toEqual(['DIGEST_MISMATCH', 'DIGEST_MISMATCH']);
    expect(report.reasons).toContain('signature "Seal1": INVALID');
    expect(report.reasons).toContain('signature "Seal2": INVALID');
    expect(await pdfsigAgrees(flipped, report)).toBe(true);
  });

  it('in the last revision only: that signature is named, the earlier one stays INTACT', async () => {
    const input = fs.readFileSync(await fixture('simple'));
    const one = await sealer.seal(input, 'org', { page: 1, x: 200, y: 200 });
    const two = await sealer.seal(one, 'personal', { page: 1, x: 400, y: 200 });
    const at = two.indexOf('/M (D:', one.length) + 7; // a digit of the second signature's /M
    const flipped = Buffer.from(two);
    flipped[at] = flipped[at] === 0x31 ? 0x32 : 0x31;
    const report = await verify(flipped);
    expect(report.verdict).toBe('INVALID');
    expect(report.signatures.map((s) => [s.field, s.integrity])).toEqual([['Seal1', 'INTACT'], ['Seal2', 'DIGEST_MISMATCH']]);
    expect(report.reasons).toEqual(['signature "Seal2": INVALID']);
    expect(await pdfsigAgrees(flipped, report)).toBe(true);
  });
});

describe('seald multi-mark seals', () => {
  it('a cross-page seal then a multi-page seal verify VALID, each reporting its kind and pages', async () => {
    const input = fs.readFileSync(await fixture('cjk-contract'));
    const cross = await sealer.seal(input, 'org', { kind: 'cross-page', pages: 'all' });
    const both = await sealer.seal(cross, 'personal', { kind: 'multi-page', pages: '1-2', x: 300, y: 150 });
    const report = await verify(both);
    expect(report.verdict).toBe('VALID');
    const pages = report.signatures[0]!.placement?.pages ?? [];
    expect(report.signatures.map((s) => [s.field, s.placement?.kind, s.changesAfter])).toEqual([
      ['Seal1', 'CrossPage', 'ALLOWED'],
      ['Seal2', 'MultiPage', 'NONE'],
    ]);
    expect(pages.length).toBeGreaterThan(1);
    expect(report.signatures[1]!.placement?.pages).toEqual([1, 2]);
    expect(await pdfsigAgrees(both, report)).toBe(true);
  });
});

async function pdfsigAgrees(bytes: Uint8Array, report: VerificationReport): Promise<boolean> {
  const file = path.join(outDir, `flipped-${Math.random().toString(36).slice(2)}.pdf`);
  fs.writeFileSync(file, bytes);
  const theirs = await pdfsig(file);
  return report.signatures.every((s) => theirs.signatures.find((p) => p.fieldName === s.field)?.signatureValid === (s.integrity === 'INTACT'));
}
