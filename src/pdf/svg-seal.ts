/**
 * A seal image given as SVG, drawn in the appearance as PDF paths (ISO 32000-1 §8.5) instead of an image: a few KB
 * per seal where an image with its soft mask costs tens, and sharp at any resolution.
 *
 * seald reads the subset it writes (src/provision/seal-image/seal-svg.ts) and what a vector editor exports for a
 * one- or few-colour seal: an `<svg>` with a `viewBox`, and `<path>` elements (possibly inside plain `<g>`s) with `d`,
 * a `fill` of `#rgb`/`#rrggbb` or `none`, an optional `fill-rule`, and an optional `stroke` colour with `stroke-width`
 * (drawn with round joins), and a `transform="matrix(a b c d e f)"` on a path (other transform functions, and
 * transforms on groups, are not read). Anything else (other shapes, text, gradients, CSS, images, arcs in path
 * data) is refused with a message saying so, never drawn wrongly.
 */
import { SealdError } from '../errors.ts';
import { parsePathData, toPdfPathOps } from './vector-path.ts';

export interface SvgSeal {
  /** The viewBox's width and height (its aspect is the seal's). */
  width: number;
  height: number;
  /** The content stream drawing the seal in viewBox units, y up, origin at the lower left of the viewBox. */
  content: string;
}

const MAX_SVG_BYTES = 4 * 1024 * 1024;

function bad(detail: string): SealdError {
  return new SealdError('invalid-input', 'BAD_SEAL_IMAGE', `the seal image is not an SVG seald can draw: ${detail}`);
}

/** True when the bytes look like an SVG document (not a PNG). */
export function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 512)).toString('utf8');
  return /^\s*(?:\uFEFF)?(?:<\?xml[^>]*>\s*)?(?:<!--[\s\S]*?-->\s*)*(?:<!DOCTYPE[^>]*>\s*)?<svg[\s>]/.test(head);
}

export function readSvgSeal(bytes: Uint8Array): SvgSeal {
  if (bytes.byteLength > MAX_SVG_BYTES) throw bad(`larger than ${MAX_SVG_BYTES} bytes`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('utf8')
    .replace(/<\?xml[^>]*>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>/g, '');
  const tags = [...text.matchAll(/<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g)];
  const between = text.replace(/<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g, '');
  if (between.trim() !== '') throw bad(`text or markup it does not read: "${between.trim().slice(0, 40)}"`);
  const root = tags[0];
  if (root === undefined || root[2] !== 'svg') throw bad('no <svg> element');
  const rootAttrs = attributes(root[3]!);
  const viewBox = (rootAttrs.get('viewBox') ?? '').trim().split(/[\s,]+/).map(Number);
  if (viewBox.length !== 4 || viewBox.some((v) => !Number.isFinite(v)) || viewBox[2]! <= 0 || viewBox[3]! <= 0) {
    throw bad('the <svg> element needs a viewBox of four numbers with a positive width and height');
  }
  const [vx, vy, vw, vh] = viewBox as [number, number, number, number];
  const ops: string[] = [];
  let painted = 0;
  for (const [, closing, tag, attrText] of tags.slice(1)) {
    if (closing === '/' || tag === 'g' || tag === 'title' || tag === 'desc' || tag === 'metadata') {
      if (tag === 'g' && attributes(attrText!).has('transform')) throw bad('transforms are not supported');
      continue;
    }
    if (tag !== 'path') throw bad(`<${tag}> is not supported (paths only)`);
    const attrs = attributes(attrText!);
    for (const key of attrs.keys()) {
      if (!['d', 'fill', 'fill-rule', 'stroke', 'stroke-width', 'stroke-linejoin', 'transform', 'id', 'class'].includes(key)) {
        throw bad(`the path attribute ${key} is not supported`);
      }
    }
    const fill = colour(attrs.get('fill') ?? '#000');
    const stroke = colour(attrs.get('stroke') ?? 'none');
    const width = Number(attrs.get('stroke-width') ?? '1');
    if (stroke !== undefined && !(width > 0)) throw bad('stroke-width must be a positive number');
    if (fill === undefined && stroke === undefined) continue;
    const path = toPdfPathOps(parsePathData(attrs.get('d') ?? ''));
    if (path === '') continue;
    const evenOdd = attrs.get('fill-rule') === 'evenodd';
    const transform = attrs.get('transform');
    const matrix = transform === undefined ? undefined : matrixOf(transform);
    if (matrix !== undefined) ops.push(`q ${matrix} cm`);
    if (fill !== undefined) ops.push(`${fill} rg`);
    if (stroke !== undefined) ops.push(`${stroke} RG ${num(width)} w 1 j`);
    ops.push(path, fill === undefined ? 'S' : stroke === undefined ? (evenOdd ? 'f*' : 'f') : evenOdd ? 'B*' : 'B');
    if (matrix !== undefined) ops.push('Q');
    painted++;
  }
  if (painted === 0) throw bad('it draws nothing');
  // SVG's y runs down from the viewBox's top: flip it into PDF's y-up space (§8.3.2.3).
  const content = `q 1 0 0 -1 ${num(-vx)} ${num(vy + vh)} cm\n${ops.join('\n')}\nQ\n`;
  return { width: vw, height: vh, content };
}

function attributes(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of text.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) map.set(m[1]!, m[2] ?? m[3] ?? '');
  if (map.has('style')) throw bad('style attributes are not supported; use fill and stroke attributes');
  return map;
}

/** `matrix(a b c d e f)` (SVG 1.1 §7.6) → the same six numbers for `cm` (§8.4.4). */
function matrixOf(value: string): string {
  const m = /^\s*matrix\(([^)]*)\)\s*$/.exec(value);
  const numbers = m?.[1]!.trim().split(/[\s,]+/).map(Number);
  if (numbers === undefined || numbers.length !== 6 || numbers.some((v) => !Number.isFinite(v))) {
    throw bad(`the transform "${value.slice(0, 40)}" is not matrix(a b c d e f)`);
  }
  return numbers.map(num).join(' ');
}

/** `#rgb`, `#rrggbb` → "r g b" in 0–1 (DeviceRGB, §8.6.4.3); `none` → undefined. */
function colour(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'none') return undefined;
  let hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(v)?.[1];
  if (hex === undefined) throw bad(`the colour "${value}" is not #rgb, #rrggbb or none`);
  if (hex.length === 3) hex = [...hex].map((h) => h + h).join('');
  return [0, 2, 4].map((i) => num(parseInt(hex!.slice(i, i + 2), 16) / 255)).join(' ');
}

function num(v: number): string {
  return Number(v.toFixed(6)).toString();
}
