/**
 * The peers seald is measured against, each run only when installed (otherwise the bench prints how to install it):
 *
 *   pdfbox   Apache PDFBox 2 (Debian libpdfbox2-java), one JVM, `concurrency` threads, incremental, visible seal image
 *   mutool   mupdf-tools, one `mutool run` process for the whole list, visible seal image, incremental
 *   pdfsig   poppler's `pdfsig -add-signature`, a process per document (it has no batch mode), invisible signature
 *   signpdf  @signpdf/signpdf 3 with the plain placeholder (bench/package.json), invisible signature
 *
 * All sign with the bench's RSA-2048 key — in software, from the PKCS#12 or NSS copy of it (bench/token.ts): none of
 * them is pointed at the SoftHSM token, so they do not pay PKCS#11's cost; seald and the floor do.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { forEachConcurrent, parseRunResult, runMeasured, type RunResult } from './measure.ts';
import type { WorkItem } from './runners/list.ts';
import { P12_NAME, P12_PASSWORD, type BenchKey } from './token.ts';

export interface PeerContext {
  key: BenchKey;
  benchDir: string;
  outDir: string;
  concurrency: number;
}

export interface Peer {
  name: string;
  /** Why it cannot run here and how to install it; undefined when it can. */
  unavailable(ctx: PeerContext): Promise<string | undefined>;
  run(items: WorkItem[], ctx: PeerContext): Promise<RunResult>;
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const PDFBOX_JARS = ['pdfbox2.jar', 'fontbox2.jar', 'commons-logging.jar', 'bcprov.jar', 'bcpkix.jar', 'bcutil.jar'].map((jar) => path.join('/usr/share/java', jar));

const pdfbox: Peer = {
  name: 'pdfbox',
  async unavailable() {
    const missing = PDFBOX_JARS.filter((jar) => !existsSync(jar));
    if (!onPath('javac') || missing.length > 0) {
      return `needs a JDK and PDFBox 2 with BouncyCastle (missing: ${[...(onPath('javac') ? [] : ['javac']), ...missing].join(', ')}): apt-get install -y default-jdk-headless libpdfbox2-java libbcpkix-java`;
    }
    return undefined;
  },
  async run(items, ctx) {
    const source = path.join(ctx.benchDir, 'peers', 'PdfboxSeal.java');
    const classes = path.join(ctx.outDir, 'peers', 'classes');
    const compiled = path.join(classes, 'PdfboxSeal.class');
    const classpath = [classes, ...PDFBOX_JARS].join(':');
    if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) {
      await mkdir(classes, { recursive: true });
      execFileSync('javac', ['-d', classes, '-cp', classpath, source], { stdio: 'inherit' });
    }
    const list = path.join(ctx.outDir, 'list-pdfbox.tsv');
    await writeFile(list, items.map((i) => `${i.input}\t${i.output}\n`).join(''));
    const outcome = await runMeasured('java', ['-cp', classpath, 'PdfboxSeal', list, ctx.key.p12, P12_PASSWORD, ctx.key.sealPng, String(Math.min(ctx.concurrency, 2))]);
    const result = parseRunResult(outcome, 'PdfboxSeal');
    const failed = outcome.stderr.split('\n').filter((l) => l.startsWith('FAILED'));
    return { ...result, peakRss: outcome.maxRss, notes: failed.slice(0, 3) };
  },
};

const mutool: Peer = {
  name: 'mutool',
  async unavailable() {
    return onPath('mutool') ? undefined : 'mutool is not installed: apt-get install -y mupdf-tools';
  },
  async run(items, ctx) {
    const script = path.join(ctx.benchDir, 'peers', 'mutool-seal.js');
    const args = ['run', script, ctx.key.p12, P12_PASSWORD, ctx.key.sealPng, ...items.flatMap((i) => [i.input, i.output])];
    const outcome = await runMeasured('mutool', args);
    const failed = outcome.stdout.split('\n').filter((l) => l.startsWith('FAILED'));
    const failures = /"failures":(\d+)/.exec(outcome.stdout)?.[1];
    return {
      docs: items.length,
      bytes: items.reduce((sum, i) => sum + i.bytes, 0),
      seconds: outcome.wallSeconds,
      failures: failures === undefined ? items.length : Number(failures),
      peakRss: outcome.maxRss,
      notes: failed.slice(0, 3),
    };
  },
};

const pdfsig: Peer = {
  name: 'pdfsig',
  async unavailable() {
    return onPath('pdfsig') ? undefined : 'pdfsig is not installed: apt-get install -y poppler-utils libnss3-tools';
  },
  async run(items, ctx) {
    let failures = 0;
    let peakRss = 0;
    const notes: string[] = [];
    const started = process.hrtime.bigint();
    await forEachConcurrent(items, ctx.concurrency, async (item) => {
      const outcome = await runMeasured('pdfsig', ['-nssdir', ctx.key.nssDir, '-add-signature', '-nick', P12_NAME, '-new-signature-field-name', 'Seal', item.input, item.output]);
      peakRss = Math.max(peakRss, outcome.maxRss);
      // pdfsig exits 0 even when NSS complains at shutdown; a missing output is the failure that counts.
      if (outcome.code !== 0 || !existsSync(item.output)) {
        failures++;
        if (notes.length < 3) notes.push(`${path.basename(item.input)}: ${outcome.stderr.trim().split('\n')[0]}`);
      }
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { docs: items.length, bytes: items.reduce((sum, i) => sum + i.bytes, 0), seconds, failures, peakRss, notes };
  },
};

const signpdf: Peer = {
  name: 'signpdf',
  async unavailable(ctx) {
    return existsSync(path.join(ctx.benchDir, 'node_modules', '@signpdf', 'signpdf'))
      ? undefined
      : '@signpdf is not installed: npm install --prefix bench (bench/package.json)';
  },
  async run(items, ctx) {
    const list = path.join(ctx.outDir, 'list-signpdf.json');
    await writeFile(list, JSON.stringify(items));
    const outcome = await runMeasured(process.execPath, [
      '--import', 'tsx', path.join(ctx.benchDir, 'runners', 'signpdf.ts'),
      '--list', list, '--p12', ctx.key.selfSignedP12, '--password', P12_PASSWORD, '--concurrency', String(ctx.concurrency),
    ], { cwd: path.dirname(ctx.benchDir) });
    return { ...parseRunResult(outcome, 'signpdf'), peakRss: outcome.maxRss };
  },
};

export const PEERS: Peer[] = [pdfbox, mutool, pdfsig, signpdf];
