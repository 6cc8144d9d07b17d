/**
 * Relative placement (an anchor of the page as displayed plus margins) on the real SoftHSM token, judged by poppler's
 * renderer: on every page of the rotated fixture (/Rotate 0, 90, 180, 270) and of the cropped one (a /CropBox offset
 * from the /MediaBox, rotated 0, 90, 270), the seal's red pixels lie where the test computes them from the displayed
 * page sizes alone (DISPLAYED_SIZES), and nowhere else; pdfsig and qpdf accept the output.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealDocument } from '../../src/engine/seal.ts';
import type { Anchor, Length, RelativePlacement } from '../../src/engine/placements.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { DISPLAYED_SIZES, placementFixture } from '../fixtures/placement-fixtures.ts';
import { pdfsig, qpdfCheck, redBounds, redPixels, renderPage, type RectPts } from '../support/tools.ts';
import { openOrgSeal, type OrgSeal } from './org-seal.ts';

const SEAL = 119; // the org seal's default size in points (square)
const DPI = 72;
let org: OrgSeal;
let referenceInset: RectPts;

beforeAll(async () => {
  org = await openOrgSeal();
  // How the seal's red drawing sits inside its mark: sealed at a known position on an unrotated page.
  const input = fs.readFileSync(await placementFixture('one-page'));
  const out = await sealDocument(bufferSource(input), org.seal, { page: 1, x: 300, y: 400 });
  const file = path.join(org.dir, 'reference.pdf');
  fs.writeFileSync(file, Buffer.concat([input, out.appended]));
  const b = redBounds(await renderPage(file, 1, DPI))!;
  referenceInset = { x: b.x - (300 - SEAL / 2), y: b.y - (400 - SEAL / 2), w: b.w, h: b.h };
});

afterAll(async () => {
  await org?.close();
});

const mm = (v: number): Length => ({ value: v, unit: 'mm' });
const pt = (v: number): Length => ({ value: v, unit: 'pt' });
const pc = (v: number): Length => ({ value: v, unit: '%' });

/** The mark's lower-left corner on a w × h displayed page, computed here from the anchor's meaning alone. */
function expectedCorner(anchor: Anchor, mx: Length, my: Length, w: number, h: number): [number, number] {
  const toPt = (l: Length, extent: number) => (l.unit === 'mm' ? (l.value * 72) / 25.4 : l.unit === '%' ? (l.value * extent) / 100 : l.value);
  const x = toPt(mx, w);
  const y = toPt(my, h);
  const col = anchor.includes('left') ? 'l' : anchor.includes('right') ? 'r' : 'm';
  const row = anchor.startsWith('top') ? 't' : anchor.startsWith('bottom') ? 'b' : 'm';
  const x0 = col === 'l' ? x : col === 'r' ? w - x - SEAL : w / 2 + x - SEAL / 2;
  const y0 = row === 'b' ? y : row === 't' ? h - y - SEAL : h / 2 + y - SEAL / 2;
  return [x0, y0];
}

const CASES: [Anchor, Length, Length][] = [
  ['bottom-right', mm(20), mm(15)],
  ['top-left', pc(10), pc(5)],
  ['centre', pt(0), pt(0)],
  ['top', pt(-30), pt(15)],
  ['left', mm(5), pt(40)],
];

describe('relative placement on rotated and cropped pages', () => {
  for (const fixtureName of ['rotations', 'cropped'] as const) {
    for (const [anchor, marginX, marginY] of CASES) {
      it(`${fixtureName}: ${anchor} with margins ${marginX.value}${marginX.unit}, ${marginY.value}${marginY.unit}`, async () => {
        const input = fs.readFileSync(await placementFixture(fixtureName));
        const placement: RelativePlacement = { kind: 'relative', pages: 'all', anchor, marginX, marginY };
        const out = await sealDocument(bufferSource(input), org.seal, placement);
        const file = path.join(org.dir, `relative-${fixtureName}-${anchor}.pdf`);
        fs.writeFileSync(file, Buffer.concat([input, out.appended]));
        const sizes = DISPLAYED_SIZES[fixtureName];
        expect(out.pages).toEqual(sizes.map((_, i) => i + 1));
        for (const [i, [w, h]] of sizes.entries()) {
          const img = await renderPage(file, i + 1, DPI);
          expect([img.widthPts, img.heightPts].map(Math.round)).toEqual([w, h].map(Math.round));
          const [x0, y0] = expectedCorner(anchor, marginX, marginY, w, h);
          const want = { x: x0 + referenceInset.x, y: y0 + referenceInset.y, w: referenceInset.w, h: referenceInset.h };
          const got = redBounds(img);
          expect(got, `page ${i + 1}: no seal drawn`).toBeDefined();
          for (const k of ['x', 'y', 'w', 'h'] as const) {
            expect(Math.abs(got![k] - want[k]), `page ${i + 1} ${k}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`).toBeLessThan(2);
          }
          // Every red pixel of the page is in the expected mark: nothing drawn elsewhere.
          const red = redPixels(img, { x: x0 - 1, y: y0 - 1, w: SEAL + 2, h: SEAL + 2 });
          expect(red.outside, `page ${i + 1}`).toBe(0);
        }
        expect((await qpdfCheck(file)).status).toBe('ok');
        const report = await pdfsig(file, { trustCaPems: [org.caPem] });
        expect(report.signatures.map((s) => s.signatureValid)).toEqual([true]);
        expect(report.signatures[0]!.coversWholeDocument).toBe(true);
      });
    }
  }

  it('-1 is the last page; a single page is recorded as a position placement', async () => {
    const input = fs.readFileSync(await placementFixture('rotations'));
    const out = await sealDocument(bufferSource(input), org.seal, { kind: 'relative', pages: '-1', anchor: 'bottom-right', marginX: mm(10), marginY: mm(10) });
    expect(out.pages).toEqual([4]);
    expect(Buffer.from(out.appended).toString('latin1')).toContain('/Kind /Position');
  });

  it('a mark that does not fit the displayed page is refused with BAD_PLACEMENT, naming the page size', async () => {
    const input = fs.readFileSync(await placementFixture('cropped'));
    // Page 1 of the cropped fixture is 400 pt across: 80% from the left leaves 80 pt, less than the 119 pt seal.
    const e = (await sealDocument(bufferSource(input), org.seal, { kind: 'relative', pages: '1', anchor: 'left', marginX: pc(80) }).then(
      () => ({}),
      (err: unknown) => err,
    )) as { code?: string; message?: string };
    expect(e.code).toBe('BAD_PLACEMENT');
    expect(e.message).toContain('400×500 pt');
  });
});
