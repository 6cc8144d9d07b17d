/**
 * Score seald's 国密 reader on other people's electronic seals and sealed PDFs (issue 19). The files stay outside the
 * repository (docs/verify.md, "国密", says where they came from):
 *
 *   node --import tsx bench/score-gm.ts DIR... [--data FILE] [--anchor CERT.pem]...
 *
 * Per file:
 *   *.pdf            → verifyDocument: per signature its integrity, trust, verdict and, for a seal, its name and code;
 *   an SES_Signature → the signer's signature over TBS_Sign, the maker's over the seal, the signer among the seal's
 *                      certificates; dataHash against SM3 of --data when given (else only printed);
 *   an SESeal (.esl) → the maker's signature over the seal;
 *   anything else    → "not a seal".
 * Prints one line per file and a count by outcome; exits 1 when a file crashed the reader (an exception other than
 * a refusal).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pemToDer } from '../src/crypto/certificate.ts';
import { DerError } from '../src/crypto/der.ts';
import { parseSeSeal, parseSesSignature } from '../src/crypto/ses/ses-signature.ts';
import { checkSealMakerSignature, checkSesSignature } from '../src/crypto/ses/ses-verify.ts';
import { sm3 } from '../src/crypto/sm3.ts';
import { verifyDocument } from '../src/engine/verify/verify.ts';
import { bufferSource } from '../src/pdf/source.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { data: { type: 'string' }, anchor: { type: 'string', multiple: true } },
});
const anchors = (values.anchor ?? []).flatMap((f) => pemToDer(readFileSync(f, 'utf8')));
const data = values.data ? sm3(readFileSync(values.data)) : undefined;
const counts = new Map<string, number>();
let crashed = false;

function count(outcome: string): void {
  counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
}

async function score(file: string): Promise<string> {
  const bytes = new Uint8Array(readFileSync(file));
  if (file.toLowerCase().endsWith('.pdf')) {
    const report = await verifyDocument(bufferSource(bytes), { trustAnchors: anchors });
    count(`pdf ${report.verdict}`);
    const sigs = report.signatures.map((s) => `${s.field}: ${s.subFilter} ${s.integrity} ${s.trust} ${s.verdict}${s.seal ? ` seal "${s.seal.name}" ${s.seal.code} maker ${s.seal.makerSignature}` : ''}`);
    return `${report.verdict} (${sigs.join('; ') || report.reasons.join('; ')})`;
  }
  try {
    const ses = parseSesSignature(bytes);
    const checked = checkSesSignature(ses, data ?? ses.dataHash);
    const outcome = `SES_Signature ${ses.layout} v${ses.seal.version}: ${checked.integrity}, maker ${checked.sealSignature}`;
    count(outcome);
    return `${outcome}; seal "${ses.seal.name}" ${ses.seal.esID} ${ses.seal.picture.type}; timeInfo ${ses.timeInfo?.toISOString() ?? '?'}; dataHash ${data ? 'checked against --data' : `not checked (${Buffer.from(ses.dataHash).toString('hex').slice(0, 16)}…)`}${checked.reason ? `; ${checked.reason}` : ''}`;
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
  }
  try {
    const seal = parseSeSeal(bytes);
    const outcome = `SESeal v${seal.version}: maker ${checkSealMakerSignature(seal)}`;
    count(outcome);
    return `${outcome}; "${seal.name}" ${seal.esID} ${seal.picture.type}; valid ${seal.validStart?.toISOString() ?? '?'} to ${seal.validEnd?.toISOString() ?? '?'}`;
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
  }
  count('not a seal');
  return 'not a seal';
}

for (const dir of positionals) {
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (!statSync(file).isFile()) continue;
    try {
      console.log(`${name}: ${await score(file)}`);
    } catch (error) {
      crashed = true;
      count('crashed');
      console.log(`${name}: CRASHED ${(error as Error).stack ?? String(error)}`);
    }
  }
}
console.log('\n' + [...counts].map(([k, v]) => `${v}\t${k}`).join('\n'));
process.exitCode = crashed ? 1 : 0;
