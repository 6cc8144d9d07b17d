/**
 * @signpdf peer (bench/package.json, installed apart from seald: `npm install --prefix bench`): per document, read it,
 * add a plain placeholder (@signpdf/placeholder-plain, which rewrites the document's trailer area itself), sign with
 * the bench key from the PKCS#12 (@signpdf/signer-p12, node-forge; a P12Signer per document, as one P12Signer
 * signs only once: its second sign fails with "Too few bytes to parse DER"), write. No visible seal: the plain placeholder
 * has no image appearance. Documents run `--concurrency` at a time, though signing is synchronous JavaScript.
 *
 * The packages are imported by name at run time, so seald's typecheck does not need them installed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { forEachConcurrent, type RunResult } from '../measure.ts';
import { runnerArgs } from './list.ts';

interface PlaceholderPlain {
  plainAddPlaceholder(input: { pdfBuffer: Buffer; reason: string; contactInfo: string; name: string; location: string; widgetRect?: number[] }): Buffer;
}
interface SignPdf {
  default: { sign(pdf: Buffer, signer: unknown): Promise<Buffer> };
}
interface SignerP12 {
  P12Signer: new (p12: Buffer, options: { passphrase: string }) => unknown;
}

const load = (name: string): Promise<unknown> => import(name);
const { plainAddPlaceholder } = (await load('@signpdf/placeholder-plain')) as PlaceholderPlain;
const signpdf = ((await load('@signpdf/signpdf')) as SignPdf).default;
const { P12Signer } = (await load('@signpdf/signer-p12')) as SignerP12;

const { items, concurrency, values } = await runnerArgs(['p12', 'password']);
const p12 = await readFile(String(values.p12));
let bytes = 0;
let failures = 0;
const notes: string[] = [];
const started = process.hrtime.bigint();
await forEachConcurrent(items, concurrency, async (item) => {
  try {
    const pdf = await readFile(item.input);
    const withPlaceholder = plainAddPlaceholder({ pdfBuffer: pdf, reason: 'seald bench', contactInfo: '', name: 'seald bench', location: '', widgetRect: [400, 90, 519, 209] });
    await writeFile(item.output, await signpdf.sign(withPlaceholder, new P12Signer(p12, { passphrase: String(values.password) })));
    bytes += pdf.length;
  } catch (error) {
    failures++;
    if (notes.length < 3) notes.push(`${path.basename(item.input)}: ${(error as Error).message.slice(0, 160)}`);
  }
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const result: RunResult = { docs: items.length, bytes, seconds, failures, notes, peakRss: process.resourceUsage().maxRSS * 1024 };
console.log(JSON.stringify(result));
