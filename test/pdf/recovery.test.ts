/**
 * Damaged and quirky files (issue 18): each class is made from a well-formed fixture (damaged-fixtures.ts), read by
 * seald through the fast path's tolerances or the recovery path, and checked against qpdf's own reading object by
 * object. Then a signature-shaped update is written on it: the original stays an exact prefix and qpdf --check finds
 * the result clean.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { fixture, type FixtureName } from '../fixtures/index.ts';
import { qpdfCheck } from '../support/tools.ts';
import { differences, qpdfReading } from './qpdf-objects.ts';
import * as damage from './damaged-fixtures.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { embedCms, prepareSignature } from '../../src/pdf/signature.ts';
import { centredMarkRect } from '../../src/pdf/placement.ts';
import type { SealImage } from '../../src/pdf/image.ts';
import { SealdError } from '../../src/errors.ts';

const dir = await mkdtemp(join(tmpdir(), 'seald-recovery-'));
const image: SealImage = {
  width: 1,
  height: 1,
  rgb: deflateSync(Buffer.from([255, 0, 0])),
  alpha: deflateSync(Buffer.from([255])),
};

/** A signature-shaped update (dummy CMS), as incremental.test.ts writes it. */
function update(bytes: Uint8Array): { doc: PdfDocument; section: Buffer } {
  const doc = PdfDocument.open(bufferSource(bytes));
  const page = doc.page(1);
  const prepared = prepareSignature(doc, {
    fieldName: 'Recovered1',
    signingTime: new Date('2026-01-02T03:04:05Z'),
    contentsSize: 64,
    image,
    mark: { page, rect: centredMarkRect(page, { x: 100, y: 100, width: 50, height: 50 }) },
  });
  embedCms(prepared, Buffer.from('3003020101', 'hex'));
  return { doc, section: prepared.bytes };
}


type Path = 'fast' | 'repaired';
interface Case {
  name: string;
  make: () => Promise<Buffer>;
  /** Which path reads it: the fast path's tolerances, or recovery (possibly entered on the first bad fetch). */
  path: Path;
  /**
   * The damage leaves every object intact but qpdf 11.3 cannot recover the file itself ("unable to find trailer
   * dictionary": it looks for the `trailer` keyword only), so seald's reading is compared with qpdf's reading of the
   * undamaged original, the cross-reference stream itself left out.
   */
  oracle?: FixtureName;
}

const of = (name: FixtureName, f: (b: Buffer) => Buffer) => async () => f(await readFile(await fixture(name)));

const CASES: Case[] = [
  { name: 'junk before %PDF (mail header)', make: of('cjk-contract', damage.junkPrefix), path: 'fast' },
  { name: 'junk before %PDF, xref stream', make: of('xref-stream', damage.junkPrefix), path: 'fast' },
  { name: '/Prev 0 in a single revision', make: of('simple', damage.prevZero), path: 'fast' },
  { name: '/Prev loop (the first trailer names the newest section)', make: of('simple', (b) => damage.prevLoop(b, (x) => update(x).section)), path: 'fast' },
  { name: 'subsection count one too high', make: of('simple', (b) => damage.subsectionMiscounted(b, 1)), path: 'fast' },
  { name: 'subsection count one too low', make: of('simple', (b) => damage.subsectionMiscounted(b, -1)), path: 'fast' },
  { name: 'entries 3 bytes past their objects', make: of('cjk-contract', (b) => damage.entriesOffBy(b, 3)), path: 'fast' },
  { name: 'entries 2 bytes before their objects', make: of('simple', (b) => damage.entriesOffBy(b, -2)), path: 'fast' },
  { name: 'LF→CRLF conversion of the whole file', make: of('cjk-contract', damage.lfToCrlf), path: 'repaired' },
  { name: 'entries of two objects swapped', make: of('simple', (b) => damage.entriesSwapped(b, 2, 7)), path: 'repaired' },
  { name: 'startxref missing', make: of('cjk-contract', damage.noStartxref), path: 'repaired' },
  { name: 'startxref pointing into the body', make: of('simple', damage.startxrefWrong), path: 'repaired' },
  { name: 'cut inside the last xref table', make: of('cjk-contract', damage.truncatedInXref), path: 'repaired', oracle: 'cjk-contract' },
  { name: 'linearized, first-page xref garbage', make: of('linearized', damage.linearizedBadFirstPageXref), path: 'repaired' },
  {
    name: 'xref stream data broken (object streams)',
    make: of('xref-stream', damage.xrefStreamBroken),
    path: 'repaired',
    oracle: 'xref-stream',
  },
  { name: 'junk before %PDF and startxref missing', make: of('simple', (b) => damage.junkPrefix(damage.noStartxref(b))), path: 'repaired' },
];

describe('damaged and quirky files', () => {
  for (const c of CASES) {
    it(`${c.name}: read as qpdf reads it (${c.path} path), updated into a file qpdf finds clean`, async () => {
      const bytes = await c.make();
      const file = join(dir, `${c.name.replace(/\W+/g, '-')}.pdf`);
      await writeFile(file, bytes);
      const doc = PdfDocument.open(bufferSource(bytes));
      const qpdf = await qpdfReading(c.oracle ? await fixture(c.oracle) : file);
      expect(differences(doc, qpdf, { skipXrefStreams: c.oracle !== undefined })).toEqual([]);
      expect(doc.pageCount).toBeGreaterThan(0);
      if (c.path === 'fast') expect(doc.repaired).toBeUndefined();
      else expect(doc.repaired?.reason).toMatch(/damaged/);

      const { doc: before, section } = update(bytes);
      const out = Buffer.concat([bytes, section]);
      const outFile = file.replace(/\.pdf$/, '.updated.pdf');
      await writeFile(outFile, out);
      expect(out.subarray(0, bytes.length).equals(bytes)).toBe(true);
      const tail = section.toString('latin1');
      if (before.repaired) {
        // Self-sufficient: every object listed; /Prev only to an original chain that still reads.
        expect(tail.includes('/Prev')).toBe(before.xref.repaired!.prevSection !== undefined);
      }
      const check = await qpdfCheck(outFile);
      expect(check.ok, check.output).toBe(true);

      const again = PdfDocument.open(bufferSource(out));
      expect(again.repaired).toBeUndefined();
      expect(again.fieldNames()).toContain('Recovered1');
      expect(again.pageCount).toBe(doc.pageCount);
    });
  }
});

describe('the fast path is unchanged for well-formed files', () => {
  for (const name of ['simple', 'cjk-contract', 'xref-stream', 'linearized', 'hybrid', 'acroform', 'signed-by-other', 'rotated'] as const) {
    it(`${name}: not repaired, every object read from the chain`, async () => {
      const doc = PdfDocument.open(bufferSource(await readFile(await fixture(name))));
      expect(differences(doc, await qpdfReading(await fixture(name)))).toEqual([]);
      expect(doc.repaired).toBeUndefined();
      expect(doc.offsetsMissed).toBe(false);
      expect(doc.xref.quirks).toEqual([]);
      expect(doc.xref.headerOffset).toBe(0);
    });
  }
});

describe('what cannot be recovered is refused clearly and quickly', () => {
  const refuse = (bytes: Buffer) => {
    const started = performance.now();
    let err: unknown;
    try {
      PdfDocument.open(bufferSource(bytes));
    } catch (e) {
      err = e;
    }
    return { err: err as SealdError, ms: performance.now() - started };
  };

  it('8 MiB of garbage after a %PDF header: PDF_UNRECOVERABLE', () => {
    const { err, ms } = refuse(damage.garbage(8 * 1024 * 1024));
    expect(err).toBeInstanceOf(SealdError);
    expect(err.code).toBe('PDF_UNRECOVERABLE');
    expect(err.category).toBe('invalid-input');
    expect(err.message).toMatch(/damaged beyond repair: .*no document catalog.*re-export/);
    expect(ms).toBeLessThan(5000);
  });

  it('200,000 object headers and no catalog: PDF_UNRECOVERABLE, one linear pass', () => {
    const { err, ms } = refuse(damage.manyHeaders(200_000));
    expect(err.code).toBe('PDF_UNRECOVERABLE');
    expect(err.message).toMatch(/200000 objects/);
    expect(ms).toBeLessThan(10_000);
  });

  it('a file cut in its body stays PDF_TRUNCATED (a seal must not certify half a document)', async () => {
    const { err } = refuse(await readFile(await fixture('truncated')));
    expect(err.code).toBe('PDF_TRUNCATED');
  });
});
