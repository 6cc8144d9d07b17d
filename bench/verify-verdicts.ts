/**
 * Verdicts of `seald verify` on a folder of other people's signed PDFs, counted per class (issue 17): document
 * verdicts, ETSI indications, signature integrity, and the kinds of changes judged not allowed. Files without a
 * /ByteRange are skipped. No trust anchors: signers of public test suites chain to their own test CAs, so trust is
 * not what this counts (a sound document is INDETERMINATE here, never VALID).
 *
 *   npx tsx bench/verify-verdicts.ts DIR [--list] [--expect bench/verify-expected/SUITE.tsv]
 *
 * With --expect, each file the manifest names is scored against the verdict its suite's own test asserts
 * (docs/verify.md, "Measured on other people's files"): SOUND must not be INVALID (else a false alarm), FLAGGED must
 * be INVALID (else a forged document passed), INDETERMINATE must be neither VALID nor INVALID, TST_FAILED needs a
 * signature time-stamp FAILED or a document time-stamp not INTACT (else a forged time passed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyDocument } from '../src/engine/verify/verify.ts';
import { findPageRasterizer } from '../src/report/page-raster.ts';
import { bufferSource } from '../src/pdf/source.ts';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: npx tsx bench/verify-verdicts.ts DIR [--list] [--expect MANIFEST.tsv]');
  process.exit(2);
}
const list = process.argv.includes('--list');
// --visual: with the visual shadow check (pdftoppm), as `seald verify` runs it; each file it had to render is listed.
const visual = process.argv.includes('--visual') ? findPageRasterizer(process.env) : undefined;
const expectAt = process.argv.indexOf('--expect');
const expected = new Map<string, string>();
if (expectAt > 0) {
  for (const line of fs.readFileSync(process.argv[expectAt + 1]!, 'utf8').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [file, verdict] = line.split('\t');
    expected.set(file!, verdict!);
  }
}
const counts = new Map<string, number>();
const bump = (key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);
const score = { exact: 0, forgedPassed: [] as string[], falseAlarms: [] as string[], other: [] as string[], missing: 0 };
let files = 0;
const names = new Set(fs.readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.pdf')));
for (const name of [...names].sort()) {
  const bytes = fs.readFileSync(path.join(dir, name));
  if (!bytes.includes('/ByteRange')) continue;
  files++;
  const report = await verifyDocument(bufferSource(bytes), { trustAnchors: [], limits: { maxMillis: 20_000 }, ...(visual ? { visual: { rasterizer: visual } } : {}) });
  const check = report.signatures.map((s) => s.visualCheck?.result).filter((r) => r !== undefined && r !== 'NOT_NEEDED');
  if (visual && check.length > 0) console.log(`  visual check ${name}: ${check.join(', ')}`);
  bump(`document ${report.verdict}`);
  const notAllowed = new Set<string>();
  for (const s of report.signatures) {
    bump(`signature integrity ${s.integrity}`);
    bump(`signature changesAfter ${s.changesAfter}`);
    for (const c of s.changes) if (!c.allowed) notAllowed.add(c.kind);
  }
  for (const k of notAllowed) bump(`not allowed: ${k}`);
  const line = `${name}\t${report.verdict}\t${report.signatures.map((s) => `${s.field}:${s.integrity}/${s.changesAfter}`).join(' ')}\t${[...notAllowed].join(',')}\t${report.reasons.filter((r) => !r.startsWith('signature "')).join(' | ') || (report.reasons[0] ?? '')}`.slice(0, 400);
  if (list) console.log(line);
  const want = expected.get(name);
  if (want === undefined) continue;
  if (want === 'SOUND' && report.verdict === 'INVALID') score.falseAlarms.push(line);
  else if (want === 'FLAGGED' && report.verdict !== 'INVALID') score.forgedPassed.push(line);
  else if (want === 'INDETERMINATE' && report.verdict !== 'INDETERMINATE') score.other.push(`(expected INDETERMINATE) ${line}`);
  else if (want === 'TST_FAILED' && !report.signatures.some((s) => s.signatureTimestamp === 'FAILED' || (s.subFilter === 'ETSI.RFC3161' && s.integrity !== 'INTACT'))) {
    score.forgedPassed.push(`(a time-stamp should fail) ${line}`);
  }
  else score.exact++;
}
console.log(`${files} signed files in ${dir}`);
for (const [k, v] of [...counts].sort()) console.log(`${String(v).padStart(5)}  ${k}`);
if (expected.size > 0) {
  for (const f of expected.keys()) if (!names.has(f)) score.missing++;
  const scored = expected.size - score.missing;
  console.log(`\nagainst ${process.argv[expectAt + 1]}: ${scored} files scored (${score.missing} named by the manifest are absent)`);
  console.log(`  exact ${score.exact} / ${scored}, forged passed ${score.forgedPassed.length}, false alarms ${score.falseAlarms.length}, other ${score.other.length}`);
  for (const l of score.forgedPassed) console.log(`  FORGED PASSED  ${l}`);
  for (const l of score.falseAlarms) console.log(`  FALSE ALARM    ${l}`);
  for (const l of score.other) console.log(`  DISAGREES      ${l}`);
}
