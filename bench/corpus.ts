/**
 * The benchmark corpus: a seeded, reproducible set of PDFs written to bench/corpus/ (git-ignored).
 *
 *   npx tsx bench/corpus.ts [--seed N] [--small N] [--huge] [--out DIR]
 *
 * The default mix mirrors the 76-file corpus the peers were measured on (NOTES.md): 40 small Chinese contracts (2–5
 * pages, WenQuanYi Zen Hei embedded as a subset Type 0 / CIDFontType2 font), 8 twenty-page contracts (subset fonts), a
 * 300-page document, a ~50 MB "scan" (full-page unfiltered RGB images), and 26 qpdf variants (13 with object streams and
 * an xref stream, 13 linearized) of small and twenty-page contracts. `--small N` changes the number of small contracts
 * (1,000 / 10,000 for the flat-RSS check); `--huge` adds a 1 GB scan written streaming to disk (never in memory), kept in
 * bench/out/corpus-huge/.
 *
 * A manifest (manifest.json) records the parameters; a second run with the same parameters reuses the files.
 */
import { execFile } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { promisify } from 'node:util';
import fontkit from '@pdf-lib/fontkit';
import { wrapChinese as wrap } from '../test/fixtures/cjk-contract.ts';
import { PDFDocument, type PDFFont, StandardFonts, concatTransformationMatrix, drawObject, popGraphicsState, pushGraphicsState } from 'pdf-lib';

const run = promisify(execFile);

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_CORPUS_DIR = path.join(BENCH_DIR, 'corpus');

const CJK_FONT = { path: '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', postscriptName: 'WenQuanYiZenHei', debianPackage: 'fonts-wqy-zenhei' };
const A4: [number, number] = [595.28, 841.89];
const FIXED_DATE = new Date('2024-03-01T09:30:00Z');
const MARGIN = 72;

export interface CorpusOptions {
  seed: number;
  /** Small 2–5 page contracts. */
  small: number;
  /** Twenty-page contracts. */
  medium: number;
  /** Object-stream variants and linearized variants, each (of small and medium contracts, alternating). */
  variants: number;
  /** Add the 1 GB document (huge/huge-1gb.pdf, apart from the default set). */
  huge: boolean;
}

export const DEFAULT_CORPUS: CorpusOptions = { seed: 20240301, small: 40, medium: 8, variants: 13, huge: false };

/** What a corpus file is, for the runners (placement needs nothing else: every page is A4, page 1 exists). */
export interface CorpusFile {
  file: string;
  kind: 'small' | 'medium' | 'pages-300' | 'scan-50mb' | 'objstm' | 'linearized' | 'huge';
  bytes: number;
}

/** mulberry32: a tiny seeded PRNG, enough to vary the contracts reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PARTIES = ['华东示例贸易有限公司', '江南示例制造有限公司', '北方样本物流有限公司', '西部示范科技股份有限公司', '南海示例进出口有限公司', '中原样本建设集团有限公司'];
const GOODS = ['工业级不锈钢阀门', '高压液压软管', '精密轴承组件', '光伏逆变器', '仓储货架系统', '数控机床配件', '医用防护用品'];
const CLAUSES = [
  ['质量标准', '乙方所供货物应符合国家标准及行业标准，并与双方确认的样品一致。乙方应随货提供产品合格证及质量检验报告。'],
  ['交货时间、地点及方式', '本合同生效后三十日内一次性交付至甲方指定仓库，运输途中的风险由乙方承担。'],
  ['验收', '甲方应在收到货物后七个工作日内进行验收。如发现数量、规格或质量不符合本合同约定，甲方应书面通知乙方，乙方应在接到通知后十日内免费更换或补足。'],
  ['付款方式', '甲方在货物验收合格并收到乙方开具的合法增值税专用发票后三十日内，以银行转账方式支付全部货款。'],
  ['违约责任', '任何一方违约给对方造成损失的，应赔偿对方因此遭受的全部损失。逾期交货或逾期付款的，每逾期一日按相应金额的千分之三支付违约金。'],
  ['保密条款', '双方对因履行本合同而知悉的对方商业秘密负有保密义务，未经对方书面同意不得向任何第三方披露，本条款在合同终止后继续有效。'],
  ['不可抗力', '因地震、台风、水灾、战争等不能预见、不能避免并不能克服的不可抗力事件致使合同不能履行的，遭受不可抗力的一方应及时通知对方，并在十五日内提供证明。'],
  ['争议解决', '因本合同引起的或与本合同有关的任何争议，双方应友好协商解决；协商不成的，任何一方均可向甲方所在地有管辖权的人民法院提起诉讼。'],
  ['知识产权', '乙方保证所供货物不侵犯任何第三方的专利权、商标权、著作权或其他知识产权，否则由乙方承担全部责任。'],
  ['其他', '本合同未尽事宜，双方可另行签订补充协议，补充协议与本合同具有同等法律效力。本合同以电子形式签署的，电子印章与实物印章具有同等法律效力。'],
];
const NUMERALS = '一二三四五六七八九十';

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function chineseNumber(n: number): string {
  if (n <= 10) return NUMERALS[n - 1]!;
  if (n < 20) return `十${NUMERALS[n - 11]!}`;
  const tens = Math.floor(n / 10);
  const ones = n % 10;
  return `${NUMERALS[tens - 1]!}十${ones === 0 ? '' : NUMERALS[ones - 1]!}`;
}


async function newDocument(title: string): Promise<PDFDocument> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setTitle(title);
  doc.setProducer('seald bench corpus (pdf-lib)');
  doc.setCreationDate(FIXED_DATE);
  doc.setModificationDate(FIXED_DATE);
  return doc;
}

let fontBytes: Buffer | undefined;
async function cjkFontBytes(): Promise<Buffer> {
  if (!existsSync(CJK_FONT.path)) throw new Error(`CJK font ${CJK_FONT.path} is missing: apt-get install -y ${CJK_FONT.debianPackage}`);
  fontBytes ??= await readFile(CJK_FONT.path);
  return fontBytes;
}

/**
 * A Chinese purchase contract of `pages` pages: clauses drawn by the PRNG, filling each page, the seal lines on the
 * last page. The font is embedded as a subset, so the file holds only the glyphs used.
 */
async function contract(rand: () => number, pages: number, serial: number): Promise<Uint8Array> {
  const doc = await newDocument(`采购合同 CG-${serial}`);
  doc.registerFontkit({ create: (data: Uint8Array) => fontkit.create(data, CJK_FONT.postscriptName) });
  const font = await doc.embedFont(await cjkFontBytes(), { subset: true });
  const size = 12;
  const leading = size * 1.75;
  const a = pick(rand, PARTIES);
  const b = pick(rand, PARTIES.filter((p) => p !== a));
  const quantity = 100 + Math.floor(rand() * 9900);
  const price = (50 + rand() * 950).toFixed(2);
  const opening = [
    `合同编号：CG-${2024}-${String(serial).padStart(5, '0')}`,
    `甲方（采购方）：${a}`,
    `乙方（供货方）：${b}`,
    '',
    '根据《中华人民共和国民法典》及相关法律法规的规定，甲乙双方本着平等自愿、诚实信用的原则，经友好协商，就甲方向乙方采购货物事宜达成如下协议，以资共同遵守。',
    '',
    `货物名称：${pick(rand, GOODS)}；数量：${quantity} 件；单价：人民币 ${price} 元。`,
  ];
  let clause = 0;
  for (let p = 0; p < pages; p++) {
    const page = doc.addPage(A4);
    let y = page.getHeight() - MARGIN;
    const paragraphs: string[] = p === 0 ? [...opening] : [];
    const bottom = p === pages - 1 ? 240 : 80;
    const fill = (text: string): boolean => {
      const lines = text === '' ? [] : wrap(text, font, size, page.getWidth() - 2 * MARGIN);
      if (y - (lines.length + 0.5) * leading < bottom) return false;
      for (const line of lines) {
        y -= leading;
        page.drawText(line, { x: MARGIN, y, size, font });
      }
      y -= leading / 2;
      return true;
    };
    if (p === 0) {
      const title = '采购合同';
      page.drawText(title, { x: (page.getWidth() - font.widthOfTextAtSize(title, 22)) / 2, y: y - 22, size: 22, font });
      y -= 52;
    }
    for (const text of paragraphs) fill(text);
    for (;;) {
      const [heading, body] = CLAUSES[(clause + Math.floor(rand() * 3)) % CLAUSES.length]!;
      if (!fill(`第${chineseNumber(clause + 1)}条　${heading}　${body}`)) break;
      clause++;
    }
    const footer = `第 ${p + 1} 页 共 ${pages} 页`;
    page.drawText(footer, { x: (page.getWidth() - font.widthOfTextAtSize(footer, 9)) / 2, y: 40, size: 9, font });
    if (p === pages - 1) {
      page.drawText('甲方（盖章）：', { x: MARGIN, y: 200, size, font });
      page.drawText('乙方（盖章）：', { x: page.getWidth() / 2 + 20, y: 200, size, font });
    }
  }
  return doc.save({ useObjectStreams: false });
}

async function numberedPages(count: number): Promise<Uint8Array> {
  const doc = await newDocument(`seald bench ${count}-page document`);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= count; n++) {
    const page = doc.addPage(A4);
    page.drawText(`Page ${n} of ${count}`, { x: MARGIN, y: 760, size: 18, font });
    for (let l = 0; l < 30; l++) {
      page.drawText(`Line ${l + 1}: an annex to the archived contract, kept for the benchmark.`, { x: MARGIN, y: 720 - l * 20, size: 11, font });
    }
  }
  return doc.save({ useObjectStreams: false });
}

/** Incompressible, reproducible bytes: an AES-128-CTR key stream under a key derived from the seed. */
function noiseCipher(seed: number, label: number) {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(seed >>> 0, 0);
  key.writeUInt32BE(label, 4);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16, 0xa1));
}

const SCAN_PX = 2100; // 2100 × 2100 × 3 = 13,230,000 bytes per page

/** A ~53 MB "scan": four pages, each a full-page unfiltered RGB image and one line of text. */
async function scan50mb(seed: number): Promise<Uint8Array> {
  const doc = await newDocument('seald bench scanned document');
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const cipher = noiseCipher(seed, 50);
  const [pw, ph] = A4;
  for (let n = 0; n < 4; n++) {
    const samples = cipher.update(Buffer.alloc(SCAN_PX * SCAN_PX * 3));
    const ref = doc.context.register(
      doc.context.stream(samples, { Type: 'XObject', Subtype: 'Image', Width: SCAN_PX, Height: SCAN_PX, ColorSpace: 'DeviceRGB', BitsPerComponent: 8 }),
    );
    const page = doc.addPage(A4);
    const name = page.node.newXObject('Scan', ref);
    page.pushOperators(pushGraphicsState(), concatTransformationMatrix(pw - 72, 0, 0, ph - 160, 36, 36), drawObject(name), popGraphicsState());
    page.drawText(`Scanned contract: page ${n + 1} of 4`, { x: MARGIN, y: ph - 72, size: 14, font });
  }
  return doc.save({ useObjectStreams: false, objectsPerTick: Infinity });
}

/**
 * A PDF of about `targetBytes`, written object by object to a file stream: N pages, each a full-page unfiltered RGB
 * image streamed in 1 MiB pieces, then a classic xref table from the recorded offsets. Memory stays a few MiB.
 */
export async function writeHugePdf(file: string, targetBytes: number, seed: number): Promise<void> {
  const imageBytes = SCAN_PX * SCAN_PX * 3;
  const pages = Math.max(1, Math.ceil(targetBytes / imageBytes));
  const out = createWriteStream(file);
  let offset = 0;
  const offsets: number[] = [];
  const write = async (data: string | Buffer): Promise<void> => {
    const buffer = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    offset += buffer.length;
    if (!out.write(buffer)) await once(out, 'drain');
  };
  const object = async (n: number, body: string): Promise<void> => {
    offsets[n] = offset;
    await write(`${n} 0 obj\n${body}\nendobj\n`);
  };
  // Objects: 1 catalog, 2 pages, 3 font, then per page i: 4+3i page, 5+3i contents, 6+3i image.
  await write('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n');
  await object(1, '<< /Type /Catalog /Pages 2 0 R >>');
  const kids = Array.from({ length: pages }, (_, i) => `${4 + 3 * i} 0 R`).join(' ');
  await object(2, `<< /Type /Pages /Count ${pages} /Kids [${kids}] >>`);
  await object(3, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const cipher = noiseCipher(seed, 1000);
  const piece = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < pages; i++) {
    const [pw, ph] = A4;
    await object(4 + 3 * i, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${pw} ${ph}] /Contents ${5 + 3 * i} 0 R /Resources << /Font << /F1 3 0 R >> /XObject << /Scan ${6 + 3 * i} 0 R >> >> >>`);
    const content = `q ${pw - 72} 0 0 ${ph - 160} 36 36 cm /Scan Do Q BT /F1 14 Tf 72 ${ph - 72} Td (Huge document: page ${i + 1} of ${pages}) Tj ET`;
    await object(5 + 3 * i, `<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
    offsets[6 + 3 * i] = offset;
    await write(`${6 + 3 * i} 0 obj\n<< /Type /XObject /Subtype /Image /Width ${SCAN_PX} /Height ${SCAN_PX} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${imageBytes} >>\nstream\n`);
    for (let done = 0; done < imageBytes; done += piece.length) {
      await write(cipher.update(piece.subarray(0, Math.min(piece.length, imageBytes - done))));
    }
    await write('\nendstream\nendobj\n');
  }
  const size = 4 + 3 * pages;
  const xref = offset;
  let table = `xref\n0 ${size}\n0000000000 65535 f \n`;
  for (let n = 1; n < size; n++) table += `${String(offsets[n]).padStart(10, '0')} 00000 n \n`;
  await write(`${table}trailer\n<< /Size ${size} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  out.end();
  await once(out, 'finish');
}

async function qpdf(args: string[], input: string, output: string): Promise<void> {
  await run('qpdf', ['--deterministic-id', ...args, input, output]).catch((error: { code?: number }) => {
    if (error.code !== 3) throw error; // 3: warnings only; the output is written
  });
}

function manifestKey(options: CorpusOptions): string {
  return JSON.stringify({ version: 1, ...options, huge: undefined });
}

/** Generate (or reuse) the corpus in `dir`; returns its files (without the huge one unless asked). */
export async function ensureCorpus(dir: string, options: CorpusOptions, log: (line: string) => void = () => {}): Promise<CorpusFile[]> {
  const manifestPath = path.join(dir, 'manifest.json');
  const key = manifestKey(options);
  let files: CorpusFile[] | undefined;
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { key: string; files: CorpusFile[] };
    if (manifest.key === key && manifest.files.every((f) => existsSync(path.join(dir, f.file)))) files = manifest.files;
  }
  if (files === undefined) {
    const started = Date.now();
    await rm(dir, { recursive: true, force: true });
    await mkdir(path.join(dir, 'work'), { recursive: true });
    files = [];
    const rand = prng(options.seed);
    const add = async (name: string, kind: CorpusFile['kind'], bytes: Uint8Array): Promise<string> => {
      const file = path.join(dir, name);
      await writeFile(file, bytes);
      files!.push({ file: name, kind, bytes: bytes.length });
      return file;
    };
    const smallSources: Uint8Array[] = [];
    const mediumSources: Uint8Array[] = [];
    for (let i = 0; i < options.small; i++) {
      const bytes = await contract(rand, 2 + Math.floor(rand() * 4), i + 1);
      if (i < options.variants) smallSources.push(bytes);
      await add(`small-${String(i + 1).padStart(5, '0')}.pdf`, 'small', bytes);
      if ((i + 1) % 500 === 0) log(`corpus: ${i + 1} small contracts`);
    }
    for (let i = 0; i < options.medium; i++) {
      const bytes = await contract(rand, 20, 90000 + i);
      mediumSources.push(bytes);
      await add(`medium-${String(i + 1).padStart(2, '0')}.pdf`, 'medium', bytes);
    }
    await add('pages-300.pdf', 'pages-300', await numberedPages(300));
    await add('scan-50mb.pdf', 'scan-50mb', await scan50mb(options.seed));
    // Variants alternate small and twenty-page sources, so both shapes are covered.
    for (let i = 0; i < options.variants; i++) {
      const source = i % 3 === 2 && mediumSources.length > 0 ? mediumSources[i % mediumSources.length]! : smallSources[i % Math.max(1, smallSources.length)]!;
      if (source === undefined) break;
      const input = path.join(dir, 'work', `variant-${i}.pdf`);
      await writeFile(input, source);
      for (const [kind, args] of [['objstm', ['--object-streams=generate']], ['linearized', ['--linearize']]] as const) {
        const name = `${kind}-${String(i + 1).padStart(2, '0')}.pdf`;
        await qpdf([...args], input, path.join(dir, name));
        files.push({ file: name, kind, bytes: (await stat(path.join(dir, name))).size });
      }
    }
    await rm(path.join(dir, 'work'), { recursive: true, force: true });
    await writeFile(manifestPath, JSON.stringify({ key, files }, null, 1));
    log(`corpus: generated ${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  if (!options.huge) return files;
  const hugeDir = path.join(BENCH_DIR, 'out', 'corpus-huge'); // git-ignored, and apart from `dir`, which a regeneration empties
  const huge = path.join(hugeDir, 'huge-1gb.pdf');
  if (!existsSync(huge)) {
    await mkdir(hugeDir, { recursive: true });
    log('corpus: writing the 1 GB document (streaming)');
    await writeHugePdf(`${huge}.tmp`, 1024 ** 3, options.seed);
    await run('mv', [`${huge}.tmp`, huge]);
  }
  return [...files, { file: path.relative(dir, huge), kind: 'huge', bytes: (await stat(huge)).size }];
}

export function corpusBytes(files: readonly CorpusFile[]): number {
  return files.reduce((sum, f) => sum + f.bytes, 0);
}

async function main(): Promise<void> {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: { seed: { type: 'string' }, small: { type: 'string' }, huge: { type: 'boolean', default: false }, out: { type: 'string' } },
  });
  const options: CorpusOptions = {
    ...DEFAULT_CORPUS,
    ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
    ...(values.small === undefined ? {} : { small: Number(values.small) }),
    huge: values.huge ?? false,
  };
  const dir = values.out ?? DEFAULT_CORPUS_DIR;
  const files = await ensureCorpus(dir, options, (line) => console.log(line));
  const byKind = new Map<string, number>();
  for (const f of files) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  console.log(`${files.length} files, ${(corpusBytes(files) / 1e6).toFixed(1)} MB in ${dir}: ${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
