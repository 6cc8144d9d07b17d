/**
 * The glyphs of one page: its resources (inherited through the page tree, §7.7.3.4), its /Contents (one stream or an
 * array of streams, joined as one: §7.8.2 lets an operator's operands span the boundary), run through the text
 * interpreter under the page's limits.
 */
import type { PageInfo, PdfDocument } from '../document.ts';
import { PdfDict, PdfStream, type PdfObject } from '../objects.ts';
import { LimitExceeded } from '../limits.ts';
import { UndecodableStream, decodeContentStream } from './content-streams.ts';
import { toDisplay } from './display.ts';
import type { FontCache } from './fonts.ts';
import { TextInterpreter, type PlacedGlyph } from './interpreter.ts';

export interface TextLimits {
  /** Tokens (operands and operators, forms included) read for one page. */
  maxTokensPerPage: number;
  /** Decoded bytes of one page's content streams and of the forms it draws (each time drawn), and of any one form. */
  maxContentBytes: number;
  /** Forms inside forms. */
  maxFormDepth: number;
}

export const DEFAULT_TEXT_LIMITS: TextLimits = {
  maxTokensPerPage: 5_000_000,
  maxContentBytes: 64 * 1024 * 1024,
  maxFormDepth: 12,
};

export interface PageTextContext {
  doc: PdfDocument;
  fonts: FontCache;
  limits: TextLimits;
  /** Decoded forms, shared by every page of one search (a letterhead form is decoded once), up to FORM_CACHE_BYTES. */
  forms: Map<PdfStream, Uint8Array>;
}

const MAX_PARENT_DEPTH = 64;
const FORM_CACHE_BYTES = 32 * 1024 * 1024;

function pageResources(doc: PdfDocument, page: PageInfo): PdfDict | undefined {
  let node: PdfDict | undefined = page.dict;
  for (let depth = 0; node && depth < MAX_PARENT_DEPTH; depth++) {
    const r = doc.resolveDict(node.get('Resources'));
    if (r) return r;
    node = doc.resolveDict(node.get('Parent'));
  }
  return undefined;
}

export function pageGlyphs(ctx: PageTextContext, page: PageInfo, skipped: (reason: string) => void): PlacedGlyph[] {
  const { doc, limits } = ctx;
  const resolve = (o: PdfObject | undefined) => doc.resolve(o);
  const contents = doc.resolve(page.dict.get('Contents'));
  const streams = (Array.isArray(contents) ? contents.map((c) => doc.resolve(c)) : [contents]).filter(
    (s): s is PdfStream => s instanceof PdfStream,
  );
  const parts: Uint8Array[] = [];
  let total = 0;
  streams.forEach((s, i) => {
    try {
      const data = decodeContentStream(s, resolve, limits.maxContentBytes - total);
      total += data.length + 1;
      parts.push(data, Uint8Array.of(0x0a));
    } catch (e) {
      if (!(e instanceof UndecodableStream)) throw e;
      skipped(`content stream ${i + 1}: ${e.message}`);
    }
  });
  const interpreter = new TextInterpreter({
    resolve,
    fonts: ctx.fonts,
    toDisplay: (x, y) => toDisplay(page, x, y),
    formContent: (form) => {
      let data = ctx.forms.get(form);
      if (!data) {
        data = decodeContentStream(form, resolve, limits.maxContentBytes);
        let cached = 0;
        for (const d of ctx.forms.values()) cached += d.length;
        if (cached + data.length <= FORM_CACHE_BYTES) ctx.forms.set(form, data);
      }
      return data;
    },
    budget: { remaining: limits.maxTokensPerPage, bytes: limits.maxContentBytes },
    maxFormDepth: limits.maxFormDepth,
    skipped,
  });
  interpreter.run(Buffer.concat(parts), pageResources(doc, page), 'page content');
  return interpreter.glyphs;
}

export { LimitExceeded };
