/**
 * seald's placement record in a signature dictionary, read defensively (a document may carry anything):
 *   /Seald_Placement << /Kind /Position|/MultiPage|/CrossPage|/Keyword /Pages [1 2 3] >>   (1-based pages)
 * A second-class name in the sense of ISO 32000-1 Annex E would be registered; this one is private to seald.
 */
import type { PdfDocument } from './document.ts';
import type { PdfDict } from './objects.ts';

/** The placement a seald signature records: its kind and 1-based pages. */
export interface PlacementReport {
  kind: string;
  pages: number[];
}

const KINDS = new Set(['Position', 'MultiPage', 'CrossPage', 'Keyword']);
const MAX_PAGES = 100_000;

export function placementOf(doc: PdfDocument, sig: PdfDict): PlacementReport | null {
  const record = doc.resolveDict(sig.get('Seald_Placement'));
  if (!record) return null;
  const kind = record.name('Kind');
  if (kind === undefined || !KINDS.has(kind)) return null;
  const raw = doc.resolve(record.get('Pages'));
  const pages: number[] = [];
  if (Array.isArray(raw)) {
    for (const p of raw.slice(0, MAX_PAGES)) {
      const n = doc.resolve(p);
      if (typeof n === 'number' && Number.isInteger(n) && n >= 1) pages.push(n);
    }
  }
  return { kind, pages };
}
