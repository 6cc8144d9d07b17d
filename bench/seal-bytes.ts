/**
 * Bytes appended per seal: what one seal adds to a small contract, per seal and image form.
 *
 *   npx tsx bench/seal-bytes.ts [--image FILE] [--json]
 *
 * Provisions the embedded defaults in a temporary directory (a SoftHSM token, the demo seals), seals the two-page
 * CJK contract fixture (test/fixtures/cjk-contract.ts) once per case on the real token, checks each output with
 * pdfsig and qpdf, and prints the appended bytes. Cases: the org seal (its SVG, drawn as paths), the same seal as a
 * 600 px PNG (resvg render of the SVG, a one-colour image with its soft mask), the org seal with a date stamp, the
 * personal seal, and a cross-page org seal over both pages. `--image FILE` adds a case sealing with that PNG or SVG
 * (e.g. the hand-drawn PNG of an earlier seald, for a before/after figure).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { pemToDer } from '../src/crypto/certificate.ts';
import { sealDocument, type Placement, type SealMaterial, type SealOptions } from '../src/engine/seal.ts';
import { prepareSealImage } from '../src/pdf/image.ts';
import { bufferSource } from '../src/pdf/source.ts';
import { TokenPool } from '../src/pool/pool.ts';
import { loadServerConfig } from '../src/provision/load-config.ts';
import { renderSealPng } from '../src/provision/seal-image.ts';
import { fixture } from '../test/fixtures/index.ts';
import { pdfsig, qpdfCheck } from '../test/support/tools.ts';

const { values } = parseArgs({ options: { image: { type: 'string' }, json: { type: 'boolean', default: false } } });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-bytes-'));
const logger = pino({ level: 'silent' });
const config = await loadServerConfig({ dataDir: dir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
const pool = await TokenPool.open(config.pkcs11, logger);
const input = fs.readFileSync(await fixture('cjk-contract'));
const material = (id: string, image: Uint8Array): SealMaterial => {
  const seal = config.seals.find((s) => s.id === id)!;
  const points = (seal.sizeMm * 72) / 25.4;
  return { id, signer: pool.signer(id, pemToDer(fs.readFileSync(seal.certificates!, 'utf8'))), image: prepareSealImage(image), defaultWidth: points, defaultHeight: points };
};
const orgSvg = fs.readFileSync(config.seals.find((s) => s.id === 'org')!.image!);
const cases: [string, SealMaterial, Placement, SealOptions][] = [
  ['org (SVG, vector paths)', material('org', orgSvg), { kind: 'position', page: 2, x: 400, y: 300 }, {}],
  ['org (600 px PNG, one colour + soft mask)', material('org', renderSealPng(orgSvg.toString('utf8'), 600)), { kind: 'position', page: 2, x: 400, y: 300 }, {}],
  ['org (SVG) with date stamp', material('org', orgSvg), { kind: 'position', page: 2, x: 400, y: 300 }, { dateStamp: { enabled: true } }],
  ['personal (SVG)', material('personal', fs.readFileSync(config.seals.find((s) => s.id === 'personal')!.image!)), { kind: 'position', page: 2, x: 200, y: 300 }, {}],
  ['cross-page org (SVG), 2 pages', material('org', orgSvg), { kind: 'cross-page' }, {}],
];
if (values.image !== undefined) {
  cases.push([`org with ${path.basename(values.image)}`, material('org', fs.readFileSync(values.image)), { kind: 'position', page: 2, x: 400, y: 300 }, {}]);
}
const rows: { case: string; input: number; appended: number; valid: boolean; qpdf: string }[] = [];
try {
  for (const [name, seal, placement, options] of cases) {
    const out = await sealDocument(bufferSource(input), seal, placement, options);
    const file = path.join(dir, `${rows.length}.pdf`);
    fs.writeFileSync(file, Buffer.concat([input, out.appended]));
    const report = await pdfsig(file, { trustCaPems: [config.trust.anchors[0]!] });
    const check = await qpdfCheck(file);
    rows.push({ case: name, input: input.length, appended: out.appended.length, valid: report.signatures.every((s) => s.signatureValid), qpdf: check.status });
  }
} finally {
  await pool.close();
  if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
  else console.error(`kept ${dir}`);
}
if (values.json) console.log(JSON.stringify(rows, null, 2));
else {
  console.log(`| case | input bytes | appended bytes | pdfsig | qpdf --check |\n|---|---|---|---|---|`);
  for (const r of rows) console.log(`| ${r.case} | ${r.input} | ${r.appended} (${(r.appended / 1024).toFixed(1)} KB) | ${r.valid ? 'valid' : 'INVALID'} | ${r.qpdf} |`);
}
