/**
 * A seal drawn as paths, read back for a person (the verification report): a form XObject (§8.10) whose content is
 * only path construction and painting (§8.5.2–8.5.3), colours in DeviceRGB or DeviceGray (§8.6.8), line width and
 * join, `cm`, `q`/`Q` — what seald writes for an SVG seal (svg-seal.ts) — turned into an SVG document a browser or
 * resvg draws. Anything else in the content (text, images, shadings, clipping, other operators) gives undefined.
 *
 * The content is hostile input: its decoded size and the number of operators are bounded.
 */
import { decodeStream } from './filters.ts';
import { PdfStream, type PdfObject } from './objects.ts';

export interface VectorAppearance {
  format: 'svg';
  /** The form's /BBox width and height, in its own units. */
  width: number;
  height: number;
  svg: string;
}

type Resolve = (o: PdfObject | undefined) => PdfObject | undefined;

const MAX_CONTENT_BYTES = 2 * 1024 * 1024;
const MAX_OPERATORS = 200_000;
const TOKEN = /\s*(?:([+-]?(?:\d+\.?\d*|\.\d+))|([A-Za-z'"][A-Za-z*'"0-9]*)|(%[^\r\n]*))/y;

interface State {
  ctm: number[];
  fill: string;
  stroke: string;
  width: number;
}

export function vectorAppearance(form: PdfStream, resolve: Resolve): VectorAppearance | undefined {
  const bbox = resolve(form.dict.get('BBox'));
  if (!Array.isArray(bbox) || bbox.length !== 4) return undefined;
  const [x0, y0, x1, y1] = bbox.map((v) => resolve(v));
  if (![x0, y0, x1, y1].every((v) => typeof v === 'number')) return undefined;
  const [bx, by, bw, bh] = [x0 as number, y0 as number, (x1 as number) - (x0 as number), (y1 as number) - (y0 as number)];
  if (!(bw > 0 && bh > 0)) return undefined;
  const text = Buffer.from(decodeStream(form, resolve, MAX_CONTENT_BYTES)).toString('latin1');

  const stack: State[] = [];
  let state: State = { ctm: [1, 0, 0, 1, 0, 0], fill: '#000', stroke: '#000', width: 1 };
  let operands: number[] = [];
  let d = '';
  const paths: string[] = [];
  let operators = 0;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text); // a failed sticky match resets lastIndex to 0: `at` keeps the place
    if (m === null) {
      if (/^\s*$/.test(text.slice(at))) break;
      return undefined;
    }
    if (m[1] !== undefined) {
      operands.push(Number(m[1]));
      continue;
    }
    if (m[3] !== undefined) continue;
    if (++operators > MAX_OPERATORS) return undefined;
    const op = m[2]!;
    const need = { m: 2, l: 2, c: 6, v: 4, y: 4, re: 4, cm: 6, rg: 3, RG: 3, g: 1, G: 1, w: 1, j: 1, J: 1, M: 1 }[op] ?? 0;
    if (operands.length !== need) return undefined;
    const o = operands;
    switch (op) {
      case 'q': stack.push({ ...state, ctm: [...state.ctm] }); break;
      case 'Q': { const s = stack.pop(); if (s === undefined) return undefined; state = s; break; }
      case 'cm': state.ctm = multiply(o, state.ctm); break;
      case 'rg': state.fill = hex(o); break;
      case 'RG': state.stroke = hex(o); break;
      case 'g': state.fill = hex([o[0]!, o[0]!, o[0]!]); break;
      case 'G': state.stroke = hex([o[0]!, o[0]!, o[0]!]); break;
      case 'w': state.width = o[0]!; break;
      case 'j': case 'J': case 'M': break;
      case 'm': d += `M${o.join(' ')}`; break;
      case 'l': d += `L${o.join(' ')}`; break;
      case 'c': d += `C${o.join(' ')}`; break;
      case 'h': d += 'Z'; break;
      case 're': d += `M${o[0]} ${o[1]}h${o[2]}v${o[3]}h${-o[2]!}Z`; break;
      case 'f': case 'F': case 'f*': case 'B': case 'B*': case 'S': case 'b': case 'b*': case 's': {
        const fill = !op.startsWith('S') && op !== 's';
        const stroke = op.startsWith('B') || op.startsWith('b') || op === 'S' || op === 's';
        const close = op.startsWith('b') || op === 's' ? 'Z' : '';
        const attrs = [
          `fill="${fill ? state.fill : 'none'}"`,
          op.endsWith('*') ? 'fill-rule="evenodd"' : '',
          stroke ? `stroke="${state.stroke}" stroke-width="${state.width}" stroke-linejoin="round"` : '',
          `transform="matrix(${state.ctm.map((v) => +v.toFixed(6)).join(' ')})"`,
        ].filter((a) => a !== '');
        if (d !== '') paths.push(`<path ${attrs.join(' ')} d="${d}${close}"/>`);
        d = '';
        break;
      }
      case 'n': d = ''; break;
      default: return undefined; // text, images, clipping, shadings…: not a drawing this reads
    }
    operands = [];
  }
  if (paths.length === 0) return undefined;
  // PDF's y runs up from the BBox's lower edge; SVG's down from its top.
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${bw} ${bh}" width="${bw}" height="${bh}">` +
    `<g transform="matrix(1 0 0 -1 ${-bx} ${by + bh})">${paths.join('')}</g></svg>`;
  return { format: 'svg', width: bw, height: bh, svg };
}

/** m × n as §8.3.4 composes them: m applied first (a `cm` operand times the current CTM). */
function multiply(m: readonly number[], n: readonly number[]): number[] {
  return [
    m[0]! * n[0]! + m[1]! * n[2]!,
    m[0]! * n[1]! + m[1]! * n[3]!,
    m[2]! * n[0]! + m[3]! * n[2]!,
    m[2]! * n[1]! + m[3]! * n[3]!,
    m[4]! * n[0]! + m[5]! * n[2]! + n[4]!,
    m[4]! * n[1]! + m[5]! * n[3]! + n[5]!,
  ];
}

function hex(rgb: readonly number[]): string {
  return `#${rgb.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255).toString(16).padStart(2, '0')).join('')}`;
}
