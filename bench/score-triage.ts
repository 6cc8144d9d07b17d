/**
 * A quick, reading-only pass over the score corpora (no token, no qpdf or pdfsig), to compare two versions of src/pdf:
 * which files open, which are repaired, which are refused and with what code. It runs seald's reading as a seal
 * does (open with recovery, DocMDP, page 1, the form's field names, a signature-shaped revision on page 1) but
 * signs nothing.
 *
 *   node --import tsx bench/score-triage.ts SRC_ROOT OUT.json DIR...
 *
 * SRC_ROOT is a tree holding `src/` (this checkout, or `git archive <commit> src | tar -x -C /tmp/old`, with a
 * node_modules link): run it on two versions and diff the JSON to find the files whose outcome changed, then give
 * those to bench/score-corpus.ts for the full check. Each file gets a fresh module state; a file that runs for more
 * than 60 s stops the pass (the full score's worker thread is what handles hangs).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, out, ...dirs] = process.argv.slice(2);
if (root === undefined || out === undefined || dirs.length === 0) {
  console.error('usage: node --import tsx bench/score-triage.ts SRC_ROOT OUT.json DIR...');
  process.exit(2);
}
const load = (p: string) => import(pathToFileURL(path.join(path.resolve(root), p)).href);
const { PdfDocument } = await load('src/pdf/document.ts');
const { bufferSource } = await load('src/pdf/source.ts');
const { prepareSignature } = await load('src/pdf/signature.ts');
const { SealdError } = await load('src/errors.ts');

const image = { width: 1, height: 1, rgb: Buffer.from('789c63f8cfc00000030101', 'hex'), alpha: Buffer.from('789cfb0f0001010100', 'hex') };
const results: Record<string, string> = {};
for (const dir of dirs) {
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (!statSync(file).isFile() || statSync(file).size > 100 * 1024 * 1024) continue;
    let outcome: string;
    try {
      const doc = PdfDocument.open(bufferSource(readFileSync(file)));
      doc.docMdpPermission();
      const page = doc.page(1);
      doc.fieldNames();
      prepareSignature(doc, {
        fieldName: 'Triage1',
        signingTime: new Date(0),
        contentsSize: 64,
        image,
        mark: { page, rect: [page.cropBox[0], page.cropBox[1], page.cropBox[0] + 1, page.cropBox[1] + 1] },
      });
      outcome = doc.repaired ? 'read, repaired' : 'read';
    } catch (error) {
      outcome = error instanceof SealdError ? `refused ${(error as { code: string }).code}` : `CRASHED ${(error as Error).name}: ${(error as Error).message.slice(0, 80)}`;
    }
    results[path.relative(process.cwd(), file)] = outcome;
  }
}
writeFileSync(out, JSON.stringify(results, null, 1));
const tally = new Map<string, number>();
for (const o of Object.values(results)) tally.set(o, (tally.get(o) ?? 0) + 1);
console.log([...tally].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}\t${k}`).join('\n'));
