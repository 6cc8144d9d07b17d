/**
 * Page specifications, as a person writes them: `1-3,5`, `-1` (the last page; negative numbers count from the end,
 * so `-3--1` is the last three pages), `all`, `odd`, `even`. They resolve against a page count to sorted, distinct
 * 1-based page numbers; anything that does not resolve is an INVALID_ARGUMENT naming the bad token.
 */
import { SealdError } from '../errors.ts';

const RANGE = /^(-?\d+)-(-?\d+)$/;
const SINGLE = /^-?\d+$/;

/** Sorted, distinct 1-based page numbers of `spec` in a document of `pageCount` pages. */
export function resolvePageSpec(spec: string, pageCount: number): number[] {
  const pages = new Set<number>();
  const tokens = spec.split(',').map((t) => t.trim());
  if (spec.trim() === '') throw badSpec(spec, '', pageCount, 'it is empty');
  for (const token of tokens) {
    const lower = token.toLowerCase();
    if (lower === 'all' || lower === 'odd' || lower === 'even') {
      const start = lower === 'even' ? 2 : 1;
      const step = lower === 'all' ? 1 : 2;
      for (let p = start; p <= pageCount; p += step) pages.add(p);
      continue;
    }
    const range = RANGE.exec(token);
    if (range) {
      const from = pageNumber(range[1]!, token, spec, pageCount);
      const to = pageNumber(range[2]!, token, spec, pageCount);
      if (from > to) throw badSpec(spec, token, pageCount, `the range runs backwards (page ${from} to page ${to})`);
      for (let p = from; p <= to; p++) pages.add(p);
      continue;
    }
    if (SINGLE.test(token)) {
      pages.add(pageNumber(token, token, spec, pageCount));
      continue;
    }
    throw badSpec(spec, token, pageCount, 'expected N, -N (from the end), N-M, all, odd or even');
  }
  if (pages.size === 0) throw badSpec(spec, spec, pageCount, 'it selects no page');
  return [...pages].sort((a, b) => a - b);
}

/** `3` → 3, `-1` → pageCount, `-2` → pageCount - 1; 0 and anything past either end is refused. */
function pageNumber(text: string, token: string, spec: string, pageCount: number): number {
  const n = Number(text);
  const page = n < 0 ? pageCount + 1 + n : n;
  if (n === 0 || !Number.isSafeInteger(n) || page < 1 || page > pageCount) {
    throw badSpec(spec, token, pageCount, `page ${text} does not exist`);
  }
  return page;
}

function badSpec(spec: string, token: string, pageCount: number, why: string): SealdError {
  const where = token === spec ? `page spec "${spec}"` : `page spec "${spec}": "${token}"`;
  return new SealdError(
    'invalid-input',
    'BAD_PAGE_SPEC',
    `${where}: ${why} (the document has ${pageCount} page${pageCount === 1 ? '' : 's'})`,
  );
}
