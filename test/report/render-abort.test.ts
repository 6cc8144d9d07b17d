/**
 * A caller that goes away stops pdftoppm: the thumbnails' renderer and the visual check's rasterizer both take an
 * AbortSignal (a cancelled Verify call's), kill the process at once and answer "no image" — instead of running on to
 * their 5 s / 10 s budgets. Real pdftoppm, fed by a source that never finishes, so only the abort can end the render.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { ByteSource } from '../../src/pdf/source.ts';
import { findPageRasterizer } from '../../src/report/page-raster.ts';
import { findPageRenderer } from '../../src/report/page-render.ts';

/** The start of a PDF, then nothing: pdftoppm waits on stdin for the rest for as long as it is let. */
function stalledSource(): ByteSource {
  const head = new TextEncoder().encode('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n');
  return {
    size: 1_000_000,
    read: () => new Uint8Array(0),
    async *chunks() {
      yield head;
      await new Promise(() => undefined);
    },
    close: async () => undefined,
  };
}

/** The pdftoppm processes this test process started and that still run. */
function ownPdftoppms(): string[] {
  const out = execFileSync('ps', ['--ppid', String(process.pid), '-o', 'pid=,comm='], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes('pdftoppm'));
}

async function settlesSoon<T>(work: Promise<T>, ms: number): Promise<{ value: T; elapsedMs: number }> {
  const started = performance.now();
  const value = await Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms))]);
  return { value, elapsedMs: performance.now() - started };
}

describe('renders stop when their caller goes away', () => {
  const renderer = findPageRenderer(process.env);
  const rasterizer = findPageRasterizer(process.env);

  it('pdftoppm is here (scripts/test-tools.mjs installs poppler-utils)', () => {
    expect(renderer).toBeDefined();
    expect(rasterizer).toBeDefined();
  });

  it('a thumbnail render: aborted after 300 ms of a 60 s budget, it answers undefined at once and pdftoppm is gone', async () => {
    const controller = new AbortController();
    const render = renderer!.render(stalledSource(), 1_000_000, 1, 60_000, controller.signal);
    await new Promise((r) => setTimeout(r, 300));
    expect(ownPdftoppms().length).toBeGreaterThan(0); // it really was running, waiting for the rest of the file
    controller.abort();
    const { value, elapsedMs } = await settlesSoon(render, 5_000);
    expect(value).toBeUndefined();
    expect(elapsedMs).toBeLessThan(2_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(ownPdftoppms()).toEqual([]);
  });

  it('a visual-check raster: the same, and an already aborted signal starts no process', async () => {
    const controller = new AbortController();
    const raster = rasterizer!.rasterize(stalledSource(), 1_000_000, 1, { dpi: 72, hideAnnotations: false, timeoutMs: 60_000, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    expect(ownPdftoppms().length).toBeGreaterThan(0);
    controller.abort();
    const { value } = await settlesSoon(raster, 5_000);
    expect(value).toBeUndefined();
    await new Promise((r) => setTimeout(r, 200));
    expect(ownPdftoppms()).toEqual([]);

    const late = rasterizer!.rasterize(stalledSource(), 1_000_000, 1, { dpi: 72, hideAnnotations: true, timeoutMs: 60_000, signal: controller.signal });
    expect(ownPdftoppms()).toEqual([]);
    expect(await settlesSoon(late, 1_000).then((r) => r.value)).toBeUndefined();
  });
});
