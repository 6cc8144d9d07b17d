/**
 * The bench's own building blocks (the bench itself is not part of the suite): the corpus is reproducible from its
 * seed and qpdf finds its files sound; the streamed huge-PDF writer makes a file poppler and qpdf open; the pdfsig
 * verdict parser reads the last signature; the percentile is nearest-rank.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureCorpus, writeHugePdf } from '../../bench/corpus.ts';
import { median, percentile } from '../../bench/measure.ts';
import { lastSignatureVerdict } from '../../bench/verify.ts';

const run = promisify(execFile);
const dirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'seald-bench-test-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('bench corpus', () => {
  it('is the same bytes for the same seed, and every file passes qpdf --check', async () => {
    const options = { seed: 7, small: 2, medium: 1, variants: 2, huge: false };
    const [a, b] = [await scratch(), await scratch()];
    const first = await ensureCorpus(a, options);
    const second = await ensureCorpus(b, options);
    expect(first.map((f) => f.file)).toEqual(second.map((f) => f.file));
    expect(first.map((f) => f.kind).sort()).toEqual(['linearized', 'linearized', 'medium', 'objstm', 'objstm', 'pages-300', 'scan-50mb', 'small', 'small']);
    for (const f of first) {
      expect(await sha256(path.join(a, f.file)), f.file).toBe(await sha256(path.join(b, f.file)));
      await run('qpdf', ['--check', path.join(a, f.file)]);
    }
    const scan = first.find((f) => f.kind === 'scan-50mb')!;
    expect(scan.bytes).toBeGreaterThan(50 * 1024 * 1024);
  }, 120_000);

  it('writes a streamed PDF of the asked size that qpdf and pdfinfo open', async () => {
    const file = path.join(await scratch(), 'huge.pdf');
    await writeHugePdf(file, 30 * 1024 * 1024, 1);
    await run('qpdf', ['--check', file]);
    const { stdout } = await run('pdfinfo', [file]);
    expect(stdout).toMatch(/Pages:\s+3\b/);
  }, 60_000);
});

describe('bench measures', () => {
  it('reads the verdict on the last signature pdfsig lists', () => {
    const two = [
      'Digital Signature Info of: x.pdf',
      'Signature #1:',
      '  - Signature Validation: Signature is Valid.',
      '  - Total document signed',
      'Signature #2:',
      '  - Not total document signed',
      '  - Signature Validation: Digest Mismatch.',
    ].join('\n');
    expect(lastSignatureVerdict(two)).toEqual({ valid: false, whole: false, text: 'Digest Mismatch.' });
    expect(lastSignatureVerdict(two.split('Signature #2:')[0]!)).toEqual({ valid: true, whole: true, text: 'Signature is Valid.' });
    expect(lastSignatureVerdict("File 'x.pdf' does not contain any signatures")).toMatchObject({ valid: false });
  });

  it('takes nearest-rank percentiles and medians', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});
