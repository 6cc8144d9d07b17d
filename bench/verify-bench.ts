/**
 * How long seald needs to verify a sealed ~200 KB contract with 1, 5 and 25 signatures, next to the time it takes to
 * seal it (engine.sealDocument on the real SoftHSM token of the embedded defaults, RSA-2048 and EC P-256 seals in
 * turn). Medians of repeated in-process runs after a warm-up, wall-clock and CPU time (process.cpuUsage, all threads:
 * on a loaded machine the CPU figures are the steadier ones); run alone on the machine for stable wall-clock figures:
 *
 *   npx tsx bench/verify-bench.ts [--runs N] [--sm2-only]
 *
 * The verifications run with the visual shadow check on (pdftoppm, as `seald verify` does): these documents' later
 * changes are seals only, so it is NOT_NEEDED and starts no renderer (the bench fails if one starts). A last line
 * times the check where it is needed, separately: the 1-signature contract with a later comment on page 2.
 *
 * First line: one SM2 signature verification (GB/T 32918.2 with ZA, src/crypto/sm2-signature.ts over @noble/curves),
 * ms per verify, the micro figure behind every 国密 signature, certificate and seal check (`--sm2-only` stops there).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { PDFDocument, PDFName, StandardFonts, concatTransformationMatrix, drawObject, popGraphicsState, pushGraphicsState } from 'pdf-lib';
import { randomBytes } from 'node:crypto';
import { bytesToInteger, sm2p256v1 } from '../src/crypto/sm2-curve.ts';
import { verifySm2 } from '../src/crypto/sm2-signature.ts';
import { bufferSource } from '../src/pdf/source.ts';
import { signSm2, sm2PublicKeyOf } from '../test/crypto/sm2-signing.ts';
import { verifyDocument } from '../src/engine/verify/verify.ts';
import { fixture } from '../test/fixtures/index.ts';
import { openSealer } from '../test/engine/verify/sealer.ts';
import { addAnnotation, appendUpdate, stream } from '../test/engine/verify/attack-kit.ts';
import { dict, name } from '../src/pdf/objects.ts';
import type { PageRasterizer } from '../src/engine/verify/visual-check.ts';
import { findPageRasterizer } from '../src/report/page-raster.ts';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const COUNTS = [1, 5, 25];

/** The CJK contract plus a page with an incompressible 150 KB image: a ~200 KB contract with a scan-like attachment. */
async function contract(): Promise<Uint8Array> {
  const doc = await PDFDocument.load(fs.readFileSync(await fixture('cjk-contract')), { updateMetadata: false });
  const width = 250;
  const height = 200;
  const pixels = Buffer.alloc(width * height * 3);
  let block = Buffer.from('seald verify bench');
  for (let o = 0; o < pixels.length; o += 32) {
    block = createHash('sha256').update(block).digest();
    block.copy(pixels, o);
  }
  const image = doc.context.register(
    doc.context.flateStream(pixels, { Type: 'XObject', Subtype: 'Image', Width: width, Height: height, ColorSpace: 'DeviceRGB', BitsPerComponent: 8 }),
  );
  const page = doc.addPage([595.28, 841.89]);
  page.node.setXObject(PDFName.of('Scan'), image);
  page.pushOperators(pushGraphicsState(), concatTransformationMatrix(width * 1.8, 0, 0, height * 1.8, 72, 380), drawObject('Scan'), popGraphicsState());
  page.drawText('Annex: scanned delivery note', { x: 72, y: 780, size: 14, font: await doc.embedFont(StandardFonts.Helvetica) });
  return doc.save({ useObjectStreams: false });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** SM2 verify of a 2 KB message (a TBS_Sign's size without its image) with a fresh key: median of 5 batches of 100. */
function sm2Line(): void {
  const dA = (bytesToInteger(randomBytes(32)) % (sm2p256v1.parameters.n - 2n)) + 1n;
  const key = sm2PublicKeyOf(sm2p256v1, dA);
  const message = randomBytes(2048);
  const signature = signSm2(sm2p256v1, dA, message);
  for (let i = 0; i < 50; i++) if (!verifySm2(key, message, signature)) throw new Error('SM2 bench: the signature does not verify');
  const batches: number[] = [];
  for (let b = 0; b < 5; b++) {
    const start = performance.now();
    for (let i = 0; i < 100; i++) verifySm2(key, message, signature);
    batches.push((performance.now() - start) / 100);
  }
  console.log(`SM2 verify (sm2p256v1, ZA + SM3 over 2 KB, @noble/curves): ${median(batches).toFixed(2)} ms per verify (median of 5 × 100)`);
}

/** The visual check where it is needed: a later comment (a framed /Square with its appearance) on page 2. */
async function visualLine(sealed: Buffer, anchors: Uint8Array[], rasterizer: PageRasterizer): Promise<void> {
  const commented = appendUpdate(sealed, (d, w) => {
    const ap = w.add(stream('1 0 0 RG 2 w 1 1 118 38 re S', { Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 120, 40] }));
    addAnnotation(d, w, 2, w.add(dict({ Type: name('Annot'), Subtype: name('Square'), Rect: [400, 700, 520, 740], F: 4, AP: dict({ N: ap }) })));
  });
  const times: number[] = [];
  const withoutCheck: number[] = [];
  let result = '';
  for (let i = 0; i < Math.max(3, Math.min(RUNS, 7)); i++) {
    const t0 = performance.now();
    const report = await verifyDocument(bufferSource(commented), { trustAnchors: anchors, visual: { rasterizer } });
    times.push(performance.now() - t0);
    result = report.signatures[0]?.visualCheck?.result ?? '?';
    const t1 = performance.now();
    await verifyDocument(bufferSource(commented), { trustAnchors: anchors, visual: { rasterizer, enabled: false } });
    withoutCheck.push(performance.now() - t1);
  }
  if (result !== 'SAME') throw new Error(`visual bench: the commented contract's check said ${result}`);
  console.log(`visual check (1 seal, a later comment on page 2: 3 pdftoppm renders at 72 dpi): verify ${median(times).toFixed(1)} ms with it, ${median(withoutCheck).toFixed(1)} ms without (medians of ${times.length})`);
}

async function main(): Promise<void> {
  sm2Line();
  if (process.argv.includes('--sm2-only')) return;
  const sealer = await openSealer('seald-verify-bench-');
  try {
    const original = Buffer.from(await contract());
    const pages = 4;
    await sealer.seal(original, 'org', { page: 1, x: 100, y: 100 }); // warm-up: token session, image, CMS size
    await sealer.seal(original, 'personal', { page: 1, x: 100, y: 100 });
    let doc: Buffer = original;
    const renderer = findPageRasterizer(process.env);
    let renders = 0;
    const watched: PageRasterizer | undefined = renderer && {
      rasterize: (...args) => {
        renders++;
        return renderer.rasterize(...args);
      },
    };
    let oneSeal: Buffer | undefined;
    const sealMs: number[] = [];
    const sealCpu: number[] = [];
    const rows: string[][] = [];
    let signatures = 0;
    for (const target of COUNTS) {
      while (signatures < target) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        doc = await sealer.seal(doc, signatures % 2 === 0 ? 'org' : 'personal', {
          page: (signatures % pages) + 1,
          x: 100 + (signatures % 5) * 90,
          y: 120 + Math.floor(signatures / 5) * 60,
        });
        sealMs.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        sealCpu.push((c.user + c.system) / 1000);
        signatures++;
      }
      const verify = () => verifyDocument(bufferSource(doc), { trustAnchors: sealer.anchors, visual: { rasterizer: watched } });
      if (target === 1) oneSeal = doc;
      const check = await verify(); // warm-up, and the answer must be right
      if (check.verdict !== 'VALID' || check.signatures.length !== target) {
        throw new Error(`bench document with ${target} signatures verified ${check.verdict}: ${check.reasons.join('; ')}`);
      }
      const times: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await verify();
        times.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      const v = median(times);
      const s = median(sealMs);
      rows.push([
        String(target), (doc.length / 1024).toFixed(0), v.toFixed(1), median(cpu).toFixed(1), (v / target).toFixed(2),
        s.toFixed(1), median(sealCpu).toFixed(1), (v / s).toFixed(2),
      ]);
    }
    console.log(`contract: ${(original.length / 1024).toFixed(0)} KB, ${pages} pages; medians of ${RUNS} verifications; seal = median of the seals made up to that row`);
    const header = ['signatures', 'file KB', 'verify ms', 'verify cpu ms', 'ms/signature', 'seal ms', 'seal cpu ms', 'verify ÷ seal'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padStart(widths[i]!)).join('  '));
    if (renders > 0) throw new Error(`the visual check rendered ${renders} pages of documents that changed nothing a page shows`);
    if (renderer === undefined) console.log('visual check: no pdftoppm on this machine, not measured');
    else await visualLine(oneSeal!, sealer.anchors, renderer);
  } finally {
    await sealer.close();
  }
}

await main();
