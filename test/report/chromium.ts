/**
 * Headless Chromium (Debian's /usr/bin/chromium) as a person's browser for the report tests: a screenshot of the page
 * as it is, and a probe of the page after load (what a person would see broken: images that did not decode, badges).
 * Flags as src/report/print-pdf.ts uses them: no sandbox, no GPU, nothing fetched, a fresh profile per run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { headlessFlags } from '../../src/report/print-pdf.ts';
import { run } from '../support/run.ts';

/** A4 at 150 dpi. */
export const WINDOW = [1240, 1754] as const;

let runs = 0;

async function chromium(dir: string, args: string[]): Promise<Buffer> {
  const profile = path.join(dir, `profile-${++runs}`);
  const result = await run('chromium', [...headlessFlags(profile), '--hide-scrollbars', ...args]);
  fs.rmSync(profile, { recursive: true, force: true });
  if (result.code !== 0) throw new Error(`chromium exited with ${result.code}: ${result.stderr.slice(-2000)}`);
  return result.stdout;
}

/** The page rendered as a person sees it (its CSP intact), as PNG bytes. */
export async function screenshot(html: string, dir: string, name: string): Promise<Buffer> {
  const page = path.join(dir, `${name}.html`);
  const out = path.join(dir, `${name}.png`);
  fs.writeFileSync(page, html);
  await chromium(dir, [`--screenshot=${out}`, `--window-size=${WINDOW.join(',')}`, `file://${page}`]);
  return fs.readFileSync(out);
}

export interface Probe {
  lang: string;
  title: string;
  /** Every <img>: its class (page-image: a page thumbnail), complete and its decoded size. */
  images: { className: string; complete: boolean; naturalWidth: number; naturalHeight: number }[];
  /** Every seal rectangle on a thumbnail: its laid-out size in CSS px and whether it lies within its page. */
  sealRects: { width: number; height: number; withinPage: boolean }[];
  /** Every badge: its verdict, its text and its computed background colour. */
  badges: { verdict: string; text: string; background: string }[];
  /** The page's visible text. */
  text: string;
}

const PROBE_SCRIPT = `<script>addEventListener('load', () => {
  const probe = {
    lang: document.documentElement.lang,
    title: document.title,
    images: [...document.images].map((i) => ({ className: i.className, complete: i.complete, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight })),
    sealRects: [...document.querySelectorAll('.seal-rect')].map((r) => {
      const box = r.getBoundingClientRect();
      const page = r.parentElement.getBoundingClientRect();
      const within = box.left >= page.left - 1 && box.right <= page.right + 1 && box.top >= page.top - 1 && box.bottom <= page.bottom + 1;
      return { width: box.width, height: box.height, withinPage: within };
    }),
    badges: [...document.querySelectorAll('.badge')].map((b) => ({ verdict: b.dataset.verdict, text: b.textContent, background: getComputedStyle(b).backgroundColor })),
    text: document.body.innerText,
  };
  const out = document.createElement('pre');
  out.id = 'seald-probe';
  out.textContent = JSON.stringify(probe);
  document.body.append(out);
});</script>`;

/**
 * The page after load, read by a script the test adds (the report's own CSP allows none, so the probe copy drops that
 * one meta element and nothing else), through --dump-dom.
 */
export async function probe(html: string, dir: string, name: string): Promise<Probe> {
  const withoutCsp = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
  if (withoutCsp === html) throw new Error('the report has no CSP meta element to lift');
  const page = path.join(dir, `${name}.probe.html`);
  fs.writeFileSync(page, withoutCsp.replace('</body>', `${PROBE_SCRIPT}</body>`));
  const dom = (await chromium(dir, ['--dump-dom', `file://${page}`])).toString('utf8');
  const match = /<pre id="seald-probe">([\s\S]*?)<\/pre>/.exec(dom);
  if (match === null) throw new Error(`the probe did not run: ${dom.slice(0, 300)}`);
  const json = match[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return JSON.parse(json) as Probe;
}

/** Run `tasks` with at most `limit` at once (each Chromium spends most of its time waiting, not computing). */
export async function pooled<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}
