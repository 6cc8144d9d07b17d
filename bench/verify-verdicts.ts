/**
 * Verdicts of `seald verify` on a folder of other people's signed PDFs, counted per class (issue 17): document
 * verdicts, ETSI indications, signature integrity, and the kinds of changes judged not allowed. Files without a
 * /ByteRange are skipped. Usage: `npx tsx bench/verify-verdicts.ts DIR [--list]` (docs/verify.md, "Measured").
 * No trust anchors: signers of public test suites chain to their own test CAs, so trust is not what this counts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyDocument } from '../src/engine/verify/verify.ts';
import { bufferSource } from '../src/pdf/source.ts';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: npx tsx bench/verify-verdicts.ts DIR [--list]');
  process.exit(2);
}
const list = process.argv.includes('--list');
const counts = new Map<string, number>();
const bump = (key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);
let files = 0;
for (const name of fs.readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.pdf')).sort()) {
  const bytes = fs.readFileSync(path.join(dir, name));
  if (!bytes.includes('/ByteRange')) continue;
  files++;
  const report = await verifyDocument(bufferSource(bytes), { trustAnchors: [], limits: { maxMillis: 20_000 } });
  bump(`document ${report.verdict}`);
  const notAllowed = new Set<string>();
  for (const s of report.signatures) {
    bump(`signature integrity ${s.integrity}`);
    bump(`signature changesAfter ${s.changesAfter}`);
    for (const c of s.changes) if (!c.allowed) notAllowed.add(c.kind);
  }
  for (const k of notAllowed) bump(`not allowed: ${k}`);
  if (list) {
    const sigs = report.signatures.map((s) => `${s.field}:${s.integrity}/${s.changesAfter}`).join(' ');
    console.log(`${name}\t${report.verdict}\t${sigs}\t${[...notAllowed].join(',')}\t${report.reasons[0] ?? ''}`.slice(0, 400));
  }
}
console.log(`${files} signed files in ${dir}`);
for (const [k, v] of [...counts].sort()) console.log(`${String(v).padStart(5)}  ${k}`);
