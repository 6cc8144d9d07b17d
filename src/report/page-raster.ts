/**
 * The visual check's renderer (engine/verify/visual-check.ts PageRasterizer): pdftoppm (page-render.ts finds and runs
 * it, on stdin, with a deadline and a bounded output) writing the page's crop box as a binary PPM (P6, Netpbm) at the
 * check's resolution, with or without its annotations (-hide-annotations). The CLI and the server hand it to
 * verifyDocument; the engine itself starts no process. No password is given (it would show in the process list): an
 * encrypted document's pages cannot be rendered, and its check is SKIPPED.
 */
import type { PageRaster, PageRasterizer } from '../engine/verify/visual-check.ts';
import { findExecutable } from './find-executable.ts';
import { runPdftoppm } from './page-render.ts';

/** A page larger than this many pixels at 72 dpi (twice A0) is not rendered: the check says it was skipped. */
const MAX_PIXELS = 16_000_000;

/** pdftoppm from SEALD_PDFTOPPM (a path, or `off`) or PATH, as a rasterizer; undefined when there is none. */
export function findPageRasterizer(env: NodeJS.ProcessEnv): PageRasterizer | undefined {
  if (env.SEALD_PDFTOPPM === 'off') return undefined;
  const pdftoppm = findExecutable(['pdftoppm'], env, env.SEALD_PDFTOPPM);
  if (pdftoppm === undefined) return undefined;
  return {
    async rasterize(source, end, page, { dpi, hideAnnotations, timeoutMs, signal }) {
      const args = ['-cropbox', '-r', String(dpi), '-f', String(page), '-l', String(page), ...(hideAnnotations ? ['-hide-annotations'] : []), '-'];
      const ppm = await runPdftoppm(pdftoppm, args, source, end, timeoutMs, MAX_PIXELS * 3 + 64, signal);
      return ppm === undefined ? undefined : parsePpm(ppm);
    },
  };
}

/** A binary PPM (P6, maxval 255): `P6 width height 255` separated by whitespace, one whitespace, then RGB rows. */
export function parsePpm(ppm: Buffer): PageRaster | undefined {
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(ppm.subarray(0, 64).toString('latin1'));
  if (!header) return undefined;
  const width = Number(header[1]);
  const height = Number(header[2]);
  const start = header[0].length;
  if (!(width > 0 && height > 0) || width * height > MAX_PIXELS || ppm.length < start + width * height * 3) return undefined;
  return { width, height, rgb: new Uint8Array(ppm.buffer, ppm.byteOffset + start, width * height * 3) };
}
