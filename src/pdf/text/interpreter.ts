/**
 * Runs a page's content streams far enough to know where each glyph of text lands (ISO 32000-1 §8.4 graphics state,
 * §9.3 text state, §9.4 text objects, §8.10 Form XObjects). Everything that only paints (paths, colours, images,
 * shadings, clipping) is ignored. Each glyph comes out with its Unicode text and its box in displayed page
 * coordinates (see display.ts).
 *
 * Glyph box: horizontally from the glyph origin to its advance width, vertically from the font's descent to its
 * ascent (§9.8.1 FontDescriptor; defaults otherwise); in vertical writing (§9.7.4.3) one em wide, centred on the
 * origin, and one em down from it. Text rendering mode 3 (invisible, e.g. an OCR layer) still counts: it is the text.
 */
import { PdfDict, PdfName, PdfStream, PdfString, type PdfObject } from '../objects.ts';
import { LimitExceeded } from '../limits.ts';
import { ContentLexer, ContentSyntaxError, Operator, type PageBudget } from './content-lexer.ts';
import type { Resolve } from './content-streams.ts';
import type { FontCache, TextFont } from './fonts.ts';

/** [a b c d e f] as in §8.3.4: x' = a·x + c·y + e, y' = b·x + d·y + f. */
export type Matrix = [number, number, number, number, number, number];

export const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

/** m1 × m2: apply m1 first, then m2. */
export function multiply(m1: Matrix, m2: Matrix): Matrix {
  const [a, b, c, d, e, f] = m1;
  const [A, B, C, D, E, F] = m2;
  return [a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F];
}

/** A glyph as displayed: its text and box, where its baseline runs and how big its font is, all in display points. */
export interface PlacedGlyph {
  text: string;
  box: { x0: number; y0: number; x1: number; y1: number };
  /** Glyph origin. */
  ox: number;
  oy: number;
  /** Unit vector along the writing direction. */
  dx: number;
  dy: number;
  /** Advance along (dx, dy). */
  advance: number;
  /** Font size as displayed (one em across the line). */
  size: number;
}

export interface InterpreterOptions {
  resolve: Resolve;
  fonts: FontCache;
  /** User space of the page → displayed coordinates. */
  toDisplay: (x: number, y: number) => [number, number];
  /** Decoded content of a Form XObject (cached by the caller); throws like decodeContentStream. */
  formContent: (form: PdfStream) => Uint8Array;
  budget: PageBudget;
  maxFormDepth: number;
  /** Something was skipped: a damaged stream, a form too deep. */
  skipped: (reason: string) => void;
}

interface GraphicsState {
  ctm: Matrix;
  font: TextFont | undefined;
  fontSize: number;
  charSpacing: number;
  wordSpacing: number;
  /** Tz / 100 */
  scale: number;
  leading: number;
  rise: number;
}

/** Operand `i` as a number (0 when missing or not a number: viewers carry on). Not a closure: this is the hot path. */
function num(a: PdfObject[], i: number): number {
  const v = a[i];
  return typeof v === 'number' ? v : 0;
}

const MAX_STACK = 1024;
const MAX_OPERANDS = 4096;

export class TextInterpreter {
  readonly glyphs: PlacedGlyph[] = [];
  private gs: GraphicsState = {
    ctm: IDENTITY,
    font: undefined,
    fontSize: 0,
    charSpacing: 0,
    wordSpacing: 0,
    scale: 1,
    leading: 0,
    rise: 0,
  };
  private readonly stack: GraphicsState[] = [];
  private tm: Matrix = IDENTITY;
  private tlm: Matrix = IDENTITY;
  private readonly formStack: PdfStream[] = [];
  private readonly missingFonts = new Set<string>();

  constructor(private readonly o: InterpreterOptions) {}

  /** Interpret `data` with `resources`. A LimitExceeded propagates; damage is skipped and reported. */
  run(data: Uint8Array, resources: PdfDict | undefined, what: string): void {
    this.o.budget.bytes -= data.length;
    if (this.o.budget.bytes < 0) throw new LimitExceeded('too many bytes of content, forms counted each time they are drawn');
    const lexer = new ContentLexer(data, this.o.budget);
    let operands: PdfObject[] = [];
    for (;;) {
      let t;
      try {
        t = lexer.next();
      } catch (e) {
        if (!(e instanceof ContentSyntaxError)) throw e;
        this.o.skipped(`${what}: ${e.message}`);
        operands = [];
        if (e.fatal || lexer.pos >= data.length) return;
        continue;
      }
      if (t === undefined) return;
      if (!(t instanceof Operator)) {
        if (operands.length < MAX_OPERANDS) operands.push(t);
        continue;
      }
      this.operator(t.op, operands, resources);
      operands = [];
    }
  }

  private operator(op: string, a: PdfObject[], resources: PdfDict | undefined): void {
    const gs = this.gs;
    switch (op) {
      case 'q':
        if (this.stack.length < MAX_STACK) this.stack.push({ ...gs });
        break;
      case 'Q':
        if (this.stack.length) this.gs = this.stack.pop()!;
        break;
      case 'cm':
        if (a.length >= 6) gs.ctm = multiply([num(a, 0), num(a, 1), num(a, 2), num(a, 3), num(a, 4), num(a, 5)], gs.ctm);
        break;
      case 'BT':
        this.tm = IDENTITY;
        this.tlm = IDENTITY;
        break;
      case 'Tm':
        if (a.length >= 6) this.tm = this.tlm = [num(a, 0), num(a, 1), num(a, 2), num(a, 3), num(a, 4), num(a, 5)];
        break;
      case 'Td':
        this.moveLine(num(a, 0), num(a, 1));
        break;
      case 'TD':
        gs.leading = -num(a, 1);
        this.moveLine(num(a, 0), num(a, 1));
        break;
      case 'T*':
        this.moveLine(0, -gs.leading);
        break;
      case 'TL': gs.leading = num(a, 0); break;
      case 'Tc': gs.charSpacing = num(a, 0); break;
      case 'Tw': gs.wordSpacing = num(a, 0); break;
      case 'Tz': gs.scale = num(a, 0) / 100; break;
      case 'Ts': gs.rise = num(a, 0); break;
      case 'Tf': {
        const fontName = a[0] instanceof PdfName ? a[0].name : '?';
        const fonts = this.o.resolve(resources?.get('Font'));
        gs.font = fonts instanceof PdfDict ? this.o.fonts.font(fonts.get(fontName)) : undefined;
        gs.fontSize = num(a, 1);
        if (!gs.font && !this.missingFonts.has(fontName)) {
          this.missingFonts.add(fontName);
          this.o.skipped(`font /${fontName.slice(0, 32)} is not in the resources: its text is skipped`);
        }
        break;
      }
      case 'Tj':
        if (a[0] instanceof PdfString) this.show(a[0].bytes);
        break;
      case "'":
        this.moveLine(0, -gs.leading);
        if (a[0] instanceof PdfString) this.show(a[0].bytes);
        break;
      case '"':
        gs.wordSpacing = num(a, 0);
        gs.charSpacing = num(a, 1);
        this.moveLine(0, -gs.leading);
        if (a[2] instanceof PdfString) this.show(a[2].bytes);
        break;
      case 'TJ': {
        const arr = a[0];
        if (!Array.isArray(arr)) break;
        for (const item of arr) {
          if (item instanceof PdfString) this.show(item.bytes);
          else if (typeof item === 'number') this.kern(item);
        }
        break;
      }
      case 'Do': {
        const name = a[0];
        const xobjects = this.o.resolve(resources?.get('XObject'));
        if (name instanceof PdfName && xobjects instanceof PdfDict) this.form(this.o.resolve(xobjects.get(name.name)), resources, name.name);
        break;
      }
    }
  }

  private moveLine(tx: number, ty: number): void {
    this.tlm = multiply([1, 0, 0, 1, tx, ty], this.tlm);
    this.tm = this.tlm;
  }

  /** A TJ number: thousandths of text space, subtracted along the writing direction (§9.4.3). */
  private kern(amount: number): void {
    const gs = this.gs;
    const d = (-amount / 1000) * gs.fontSize;
    this.tm = gs.font?.vertical ? multiply([1, 0, 0, 1, 0, d], this.tm) : multiply([1, 0, 0, 1, d * gs.scale, 0], this.tm);
  }

  private show(bytes: Uint8Array): void {
    const gs = this.gs;
    const font = gs.font;
    if (!font) return;
    const size = gs.fontSize;
    for (const g of font.glyphs(bytes)) {
      const spacing = gs.charSpacing + (g.wordSpace ? gs.wordSpacing : 0);
      // Text rendering matrix (§9.4.4) without the glyph: text space → user space → display.
      const trm = multiply(this.tm, gs.ctm);
      if (font.vertical) {
        const w = g.width;
        this.place(g.text, trm, [
          [(-w / 2) * size * gs.scale, font.verticalAdvance * size + gs.rise],
          [(w / 2) * size * gs.scale, gs.rise],
        ], [0, font.verticalAdvance * size], size);
        const ty = font.verticalAdvance * size + spacing;
        this.tm = multiply([1, 0, 0, 1, 0, ty], this.tm);
      } else {
        const advance = g.width * size * gs.scale;
        this.place(g.text, trm, [
          [0, font.descent * size + gs.rise],
          [advance, font.ascent * size + gs.rise],
        ], [advance, 0], size);
        this.tm = multiply([1, 0, 0, 1, (g.width * size + spacing) * gs.scale, 0], this.tm);
      }
    }
  }

  /** Text space point (x, y) of the glyph at `trm` → display. */
  private display(trm: Matrix, x: number, y: number): [number, number] {
    return this.o.toDisplay(trm[0] * x + trm[2] * y + trm[4], trm[1] * x + trm[3] * y + trm[5]);
  }

  /** Record a glyph: `corners` is its box and `adv` its advance, in text space at the glyph origin. */
  private place(text: string, trm: Matrix, corners: [[number, number], [number, number]], adv: [number, number], size: number): void {
    const [[x0, y0], [x1, y1]] = corners;
    const p1 = this.display(trm, x0, y0);
    const p2 = this.display(trm, x1, y0);
    const p3 = this.display(trm, x0, y1);
    const p4 = this.display(trm, x1, y1);
    const [ox, oy] = this.display(trm, 0, 0);
    const [ax, ay] = this.display(trm, adv[0], adv[1]);
    let dx = ax - ox;
    let dy = ay - oy;
    const advance = Math.hypot(dx, dy);
    if (advance > 0) {
      dx /= advance;
      dy /= advance;
    } else {
      // A zero-width glyph: take the direction of the text space x axis.
      const [bx, by] = this.display(trm, 1, 0);
      const l = Math.hypot(bx - ox, by - oy) || 1;
      dx = (bx - ox) / l;
      dy = (by - oy) / l;
    }
    const [ex, ey] = this.display(trm, 0, size);
    const shown = Math.hypot(ex - ox, ey - oy);
    if (!Number.isFinite(shown + advance + ox + oy)) return;
    this.glyphs.push({
      text,
      box: {
        x0: Math.min(p1[0], p2[0], p3[0], p4[0]),
        y0: Math.min(p1[1], p2[1], p3[1], p4[1]),
        x1: Math.max(p1[0], p2[0], p3[0], p4[0]),
        y1: Math.max(p1[1], p2[1], p3[1], p4[1]),
      },
      ox,
      oy,
      dx,
      dy,
      advance,
      size: shown,
    });
  }

  /** `Do` of a Form XObject (§8.10): its /Matrix, its own resources (or the caller's), inside q … Q. */
  private form(xobj: PdfObject | undefined, resources: PdfDict | undefined, name: string): void {
    if (!(xobj instanceof PdfStream) || xobj.dict.name('Subtype') !== 'Form') return;
    if (this.formStack.includes(xobj)) {
      this.o.skipped(`form /${name} draws itself (recursion), skipped`);
      return;
    }
    if (this.formStack.length >= this.o.maxFormDepth) {
      this.o.skipped(`form /${name} nested deeper than ${this.o.maxFormDepth}, skipped`);
      return;
    }
    let data: Uint8Array;
    try {
      data = this.o.formContent(xobj);
    } catch (e) {
      if (e instanceof LimitExceeded) throw e;
      this.o.skipped(`form /${name}: ${(e as Error).message}`);
      return;
    }
    const m = this.o.resolve(xobj.dict.get('Matrix'));
    const matrix = Array.isArray(m) && m.length === 6 && m.every((v) => typeof v === 'number') ? (m as Matrix) : IDENTITY;
    const own = this.o.resolve(xobj.dict.get('Resources'));
    // The form runs on a stack of its own, so an unbalanced Q in it cannot pop the caller's states.
    const saved = { gs: { ...this.gs }, stack: this.stack.splice(0), tm: this.tm, tlm: this.tlm };
    this.gs.ctm = multiply(matrix, this.gs.ctm);
    this.formStack.push(xobj);
    try {
      this.run(data, own instanceof PdfDict ? own : resources, `form /${name}`);
    } finally {
      this.formStack.pop();
      this.stack.splice(0, this.stack.length, ...saved.stack);
      this.gs = saved.gs;
      this.tm = saved.tm;
      this.tlm = saved.tlm;
    }
  }
}
