/**
 * The report as a PDF: the HTML printed by headless Chromium (--print-to-pdf honours the page's @page A4 rules).
 * Chromium is an optional tool of the machine, not a dependency of seald: without it, `--pdf` is refused with the
 * line to run. The page is loaded from a private temp directory, with networking, GPU and first-run work off.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SealdError } from '../errors.ts';
import { findExecutable } from './find-executable.ts';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The Chromium to print with: SEALD_CHROMIUM, else the first of the usual names on PATH. */
export function findChromium(env: NodeJS.ProcessEnv): string | undefined {
  return findExecutable(CANDIDATES, env, env.SEALD_CHROMIUM);
}

/** The flags every headless run uses: no sandbox (containers run as root), no GPU, nothing fetched from the network. */
export function headlessFlags(profileDir: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--force-color-profile=srgb',
    `--user-data-dir=${profileDir}`,
  ];
}

/** Print `html` to a PDF at `output` with Chromium; resolves when the file is written. */
export async function printReportPdf(html: string, output: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<void> {
  const chromium = findChromium(env);
  if (chromium === undefined) {
    throw new SealdError(
      'unavailable',
      'CHROMIUM_NOT_FOUND',
      '--pdf prints the report with Chromium, which is not installed (apt-get install chromium, or set SEALD_CHROMIUM to its path); --html writes the same report without it',
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-report-'));
  try {
    const page = path.join(dir, 'report.html');
    fs.writeFileSync(page, html);
    const pdf = path.join(dir, 'report.pdf');
    const args = [...headlessFlags(path.join(dir, 'profile')), '--no-pdf-header-footer', `--print-to-pdf=${pdf}`, `file://${page}`];
    const { code, stderr } = await runChromium(chromium, args, timeoutMs);
    if (code !== 0 || !fs.existsSync(pdf) || fs.statSync(pdf).size === 0) {
      throw new SealdError('internal', 'REPORT_PRINT_FAILED', `Chromium could not print the report (exit ${code}): ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
    }
    fs.copyFileSync(pdf, output);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runChromium(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
