/**
 * A page of a document as a small PNG, for the report's thumbnails: poppler's pdftoppm (Debian poppler-utils), run on
 * the bytes of the revision a signature covers, fed on stdin. An optional tool, like Chromium for --pdf: without it
 * (or with SEALD_PDFTOPPM=off) the report draws the page as an outline with the seal's rectangle instead.
 *
 * The document is hostile input and pdftoppm a separate process: each render has a deadline (then SIGKILL), a
 * bounded output, and the page's crop box at a fixed size; any failure is "no image", never an error of the report.
 */
import { spawn } from 'node:child_process';
import type { ByteSource } from '../pdf/source.ts';
import { findExecutable } from './find-executable.ts';

/** Long side of a thumbnail in pixels: 2× the 36 mm it is printed at, at 72 dpi. */
export const THUMBNAIL_PIXELS = 240;
const MAX_PNG_BYTES = 2 * 1024 * 1024;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PageRenderer {
  /** The page (1-based) of the first `end` bytes of `source` as a PNG, or undefined within `timeoutMs`. */
  render(source: ByteSource, end: number, page: number, timeoutMs: number, signal?: AbortSignal): Promise<Buffer | undefined>;
}

/** pdftoppm from SEALD_PDFTOPPM (a path, or `off`) or PATH; undefined when there is none. */
export function findPageRenderer(env: NodeJS.ProcessEnv): PageRenderer | undefined {
  if (env.SEALD_PDFTOPPM === 'off') return undefined;
  const pdftoppm = findExecutable(['pdftoppm'], env, env.SEALD_PDFTOPPM);
  return pdftoppm === undefined ? undefined : { render: (source, end, page, timeoutMs, signal) => renderWith(pdftoppm, source, end, page, timeoutMs, signal) };
}

function renderWith(pdftoppm: string, source: ByteSource, end: number, page: number, timeoutMs: number, signal?: AbortSignal): Promise<Buffer | undefined> {
  // -cropbox: the page as a viewer shows it (crop box, turned by /Rotate); `-` reads the PDF from stdin; with no
  // output root the PNG goes to stdout. No password: an encrypted document gets the outline.
  const args = ['-cropbox', '-png', '-scale-to', String(THUMBNAIL_PIXELS), '-f', String(page), '-l', String(page), '-'];
  return runPdftoppm(pdftoppm, args, source, end, timeoutMs, MAX_PNG_BYTES, signal).then((png) => (png?.subarray(0, 8).equals(PNG_SIGNATURE) ? png : undefined));
}

/**
 * Run pdftoppm with `args` (which read the PDF from stdin, `-`) on the first `end` bytes of `source`: its stdout, or
 * undefined when it fails, writes more than `maxBytes`, runs past `timeoutMs` or `signal` aborts (then SIGKILL: a
 * caller that went away, e.g. a cancelled Verify call, does not leave renders running to the end of their budget).
 */
export function runPdftoppm(
  pdftoppm: string,
  args: string[],
  source: ByteSource,
  end: number,
  timeoutMs: number,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<Buffer | undefined> {
  if (signal?.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const child = spawn(pdftoppm, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (out: Buffer | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      resolve(out);
    };
    const stop = (): void => {
      child.kill('SIGKILL');
      finish(undefined);
    };
    const timer = setTimeout(stop, timeoutMs);
    signal?.addEventListener('abort', stop, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) child.kill('SIGKILL');
      else chunks.push(chunk);
    });
    child.on('error', () => finish(undefined));
    child.on('close', (code) => finish(code === 0 && size <= maxBytes ? Buffer.concat(chunks) : undefined));
    // pdftoppm may stop reading early (a broken file): a closed pipe ends the feed, not the report.
    child.stdin.on('error', () => undefined);
    void (async () => {
      try {
        for await (const chunk of source.chunks(0, end)) {
          if (settled) break;
          if (!child.stdin.write(chunk)) {
            await new Promise((r) => {
              child.stdin.once('drain', r);
              child.once('close', r);
            });
          }
        }
      } catch {
        child.kill('SIGKILL');
      } finally {
        child.stdin.end();
      }
    })();
  });
}
