/**
 * CPU per seal in process, and the bytes each seal writes, for an A/B of the engine between two checkouts.
 *
 *   npx tsx bench/seal-cpu.ts [--root DIR] [--file PDF] [--seals N] [--placement image|cross-page]
 *   npx tsx bench/seal-cpu.ts [--root DIR] --digest        # SHA-256 over every corpus seal's revision
 *
 * Seals with DIR's engine (default: this checkout; `--root` a copy of another commit, built or not: it runs from
 * source through tsx) on the bench's token (`npm run bench` makes it in bench/out/data), through
 * checkedSealDocument as the server runs it, with a new Signer wrapper per seal over the same chain as the server
 * makes one (idempotency recorder, activation, metrics). Timing: process CPU (user + system, the token's libuv
 * threads included) over N seals after 50 of warm-up, one seal at a time: on a shared machine CPU time moves far
 * less than wall time. `--digest`: every corpus document sealed once with the image and once cross-page, at a fixed
 * signing time and /ID entropy; RSA PKCS#1 v1.5 signatures are deterministic, so two checkouts whose writers agree
 * print the same digest (session 9: byte-identical outputs after the writer's changes).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { BENCH_DIR, DEFAULT_CORPUS_DIR } from './corpus.ts';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: path.resolve(BENCH_DIR, '..') },
    file: { type: 'string', default: path.join(DEFAULT_CORPUS_DIR, 'small-00001.pdf') },
    seals: { type: 'string', default: '400' },
    placement: { type: 'string', default: 'image' },
    digest: { type: 'boolean', default: false },
  },
});
const root = path.resolve(values.root);
const from = (file: string) => import(path.join(root, file));
const { pemToDer } = await from('src/crypto/certificate.ts');
const { prepareSealImage } = await from('src/pdf/image.ts');
const { TokenPool } = await from('src/pool/pool.ts');
const { loadServerConfig } = await from('src/provision/load-config.ts');
const { checkedSealDocument } = await from('src/engine/output-check.ts');
const { bufferSource } = await from('src/pdf/source.ts');

const dataDir = path.join(BENCH_DIR, 'out', 'data');
if (!fs.existsSync(path.join(dataDir, 'seald.yaml'))) throw new Error(`no bench token in ${dataDir}: run npm run bench -- --only floor once`);
const logger = pino({ level: 'silent' });
const config = await loadServerConfig({ dataDir, listen: '127.0.0.1:0', metrics: 'off' }, logger, {});
const pool = await TokenPool.open(config.pkcs11, logger);
const signer = pool.signer('org', pemToDer(fs.readFileSync(path.join(dataDir, 'seals', 'org.chain.pem'), 'utf8')));
const appearance = { id: 'org', image: prepareSealImage(fs.readFileSync(path.join(dataDir, 'seals', 'org.svg'))), defaultWidth: 119, defaultHeight: 119 };
/** What the server hands the engine for each seal: a new Signer object over the pool signer's chain. */
const material = () => ({
  ...appearance,
  signer: { certificates: signer.certificates, algorithm: signer.algorithm, signDigest: (d: Uint8Array, s?: AbortSignal) => signer.signDigest(d, s) },
});
const IMAGE = { kind: 'position', page: 1, x: 400, y: 100 };
const CROSS_PAGE = { kind: 'cross-page' };

try {
  if (values.digest) {
    const all = createHash('sha256');
    const files = fs.readdirSync(DEFAULT_CORPUS_DIR).filter((f) => f.endsWith('.pdf')).sort();
    const options = { signingTime: new Date('2026-12-02T12:00:00Z'), idEntropy: new Uint8Array(24).fill(7), timeZone: 'Asia/Shanghai' };
    for (const file of files) {
      const bytes = fs.readFileSync(path.join(DEFAULT_CORPUS_DIR, file));
      for (const placement of [IMAGE, CROSS_PAGE]) {
        const outcome = await checkedSealDocument(bufferSource(bytes), material(), placement, options);
        all.update(createHash('sha256').update(outcome.appended).digest());
      }
    }
    console.log(`${root}: ${files.length * 2} seals, SHA-256 over their revisions ${all.digest('hex')}`);
  } else {
    const bytes = fs.readFileSync(values.file);
    const placement = values.placement === 'cross-page' ? CROSS_PAGE : IMAGE;
    const run = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await checkedSealDocument(bufferSource(bytes), material(), placement, {});
    };
    await run(50);
    const seals = Number(values.seals);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await run(seals);
    const used = process.cpuUsage(cpu);
    const perSeal = (used.user + used.system) / 1000 / seals;
    console.log(
      `${root}: ${path.basename(values.file)} ${values.placement}, ${seals} seals: ${perSeal.toFixed(2)} ms CPU per seal, ` +
        `${((performance.now() - started) / seals).toFixed(2)} ms wall (load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`,
    );
  }
} finally {
  await pool.close();
}
