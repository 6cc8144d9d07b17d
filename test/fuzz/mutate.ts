/**
 * A seeded mutator of PDF files: byte-level damage (flips, cuts, splices from another file) and token-aware damage
 * that reaches past the lexer into the structure seald reads (ISO 32000-1 §7.5): xref rows, trailer keys, stream
 * /Length, object numbers and generations, object-stream and xref-stream contents re-deflated after the damage.
 *
 * Every input is a pure function of (seed, iteration) and the seed corpus: `caseFor(seed, i, corpus)` rebuilds the
 * exact bytes a run saw, so a finding is reproduced by its two numbers. A hand-rolled mutator rather than an npm
 * fuzzer: the coverage-guided ones for Node (jazzer.js) need a native build and instrument through their own
 * loader, which neither vitest nor the 2-core CI budget accommodates; what finds PDF bugs is knowing where the
 * structure is, which no generic mutator does.
 */
import { deflateSync, inflateSync } from 'node:zlib';

/** mulberry32: small, fast, and the same sequence on every platform. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The generator state of iteration `i` of a run with `seed` (independent of every other iteration). */
export function iterationSeed(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export interface SeedDocument {
  name: string;
  bytes: Uint8Array;
  /** The user password of an encrypted seed ('' when it opens without one). */
  password?: string;
}

export interface FuzzCase {
  bytes: Uint8Array;
  /** Which seed, which mutations: for the report. */
  description: string;
  password?: string;
}

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const bytesOf = (s: string) => Buffer.from(s, 'latin1');

function replaceRange(input: Uint8Array, from: number, to: number, insert: Uint8Array): Uint8Array {
  return Buffer.concat([input.subarray(0, from), insert, input.subarray(to)]);
}

/** Numbers that break assumptions: zero, negatives, off by one, the 32-bit and 53-bit edges, absurdly large. */
function interestingNumber(rng: Prng, n: number): string {
  return rng.pick([
    '0',
    '-1',
    '1',
    String(n + 1),
    String(Math.max(0, n - 1)),
    String(n * 2),
    String(n + rng.int(64) - 32),
    '2147483647',
    '2147483648',
    '4294967296',
    '9007199254740993',
    '99999999999999999999',
    '1e400',
    '-0',
    '3.5',
    String(rng.int(100_000)),
  ]);
}

/** A value to put where a structural key's value was: wrong types, self and dangling references, deep nesting. */
function interestingValue(rng: Prng, text: string): string {
  const objectNumbers = [...text.matchAll(/(\d+) (\d+) obj/g)].map((m) => Number(m[1]));
  const someRef = () => `${objectNumbers.length > 0 ? rng.pick(objectNumbers) : 1} 0 R`;
  return rng.pick([
    interestingNumber(rng, rng.int(5000)),
    someRef(),
    someRef(),
    '999999 0 R',
    '0 0 R',
    'null',
    '/Name',
    '()',
    '<>',
    '[]',
    `[${someRef()} ${someRef()}]`,
    '<< >>',
    `<< /Length ${someRef()} >>`,
    '['.repeat(300) + ']'.repeat(300),
    '<<'.repeat(200) + '>>'.repeat(200),
    'true',
  ]);
}

const STRUCTURE_KEYS = [
  'Length', 'Prev', 'Size', 'W', 'Index', 'N', 'First', 'Count', 'Kids', 'Root', 'Pages', 'Parent', 'Encrypt',
  'XRefStm', 'Filter', 'DecodeParms', 'Predictor', 'Columns', 'Type', 'AcroForm', 'Fields', 'Annots', 'V', 'ByteRange',
  'Contents', 'Perms', 'DocMDP', 'Reference', 'TransformParams', 'O', 'U', 'OE', 'UE', 'R', 'P', 'StmF', 'StrF', 'CF',
  'Extends', 'MediaBox', 'CropBox', 'Rotate', 'ID', 'Linearized',
];

const KEYWORDS = ['obj', 'endobj', 'stream', 'endstream', 'xref', 'trailer', 'startxref', '%%EOF', '<<', '>>', '[', ']', 'R'];

type Mutation = (input: Uint8Array, rng: Prng, donor: Uint8Array) => { bytes: Uint8Array; note: string } | undefined;

/** All matches of `re` in the text (capped, so a huge file costs a bounded scan). */
function matches(text: string, re: RegExp, cap = 5000): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  for (let m = g.exec(text); m !== null && out.length < cap; m = g.exec(text)) {
    out.push(m);
    if (m[0].length === 0) g.lastIndex++;
  }
  return out;
}

const MUTATIONS: Record<string, Mutation> = {
  flipBits(input, rng) {
    const out = Buffer.from(input);
    const n = 1 + rng.int(8);
    for (let k = 0; k < n; k++) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return { bytes: out, note: `flip ${n} bits` };
  },
  setBytes(input, rng) {
    const out = Buffer.from(input);
    const at = rng.int(out.length);
    const n = 1 + rng.int(4);
    const alphabet = bytesOf('()<>[]{}/% \n\r0123456789-.R\0\xff');
    for (let k = 0; k < n && at + k < out.length; k++) out[at + k] = rng.pick([...alphabet]);
    return { bytes: out, note: `set ${n} bytes at ${at}` };
  },
  truncate(input, rng) {
    const at = rng.chance(0.5) ? input.length - 1 - rng.int(Math.min(input.length, 300)) : rng.int(input.length);
    return { bytes: input.subarray(0, at), note: `cut at ${at}` };
  },
  deleteRange(input, rng) {
    const at = rng.int(input.length);
    const len = 1 + rng.int(rng.chance(0.7) ? 16 : 2048);
    return { bytes: replaceRange(input, at, Math.min(input.length, at + len), new Uint8Array(0)), note: `delete ${len} at ${at}` };
  },
  duplicateRange(input, rng) {
    const at = rng.int(input.length);
    const len = 1 + rng.int(512);
    const copy = input.subarray(at, at + len);
    const to = rng.int(input.length);
    return { bytes: replaceRange(input, to, to, copy), note: `copy ${len} from ${at} to ${to}` };
  },
  splice(input, rng, donor) {
    const at = rng.int(input.length);
    const from = rng.int(donor.length);
    const len = 1 + rng.int(4096);
    const piece = donor.subarray(from, from + len);
    return { bytes: replaceRange(input, at, Math.min(input.length, at + rng.int(len)), piece), note: `splice ${piece.length} donor bytes at ${at}` };
  },
  appendDonorTail(input, rng, donor) {
    // An incremental update taken from another file: its xref and trailer now describe the wrong body.
    const from = Math.max(0, donor.length - 1 - rng.int(4096));
    return { bytes: Buffer.concat([input, donor.subarray(from)]), note: `append donor tail from ${from}` };
  },
  numberToken(input, rng) {
    const text = latin1(input);
    const found = matches(text, /(?<![0-9A-Za-z.#])\d{1,12}(?![0-9A-Za-z.])/g);
    if (found.length === 0) return undefined;
    const m = rng.pick(found);
    const value = interestingNumber(rng, Number(m[0]));
    return { bytes: replaceRange(input, m.index, m.index + m[0].length, bytesOf(value)), note: `number ${m[0]}→${value} at ${m.index}` };
  },
  structureKey(input, rng) {
    const text = latin1(input);
    const key = rng.pick(STRUCTURE_KEYS);
    // The value: a number, reference, name or short array / dictionary after the key.
    const found = matches(text, new RegExp(`/${key}(?![0-9A-Za-z])[\\0\\t\\n\\f\\r ]*(\\d+ \\d+ R|[-+.\\d]+|/[^\\s/<>\\[\\]()]*|\\[[^\\[\\]]{0,200}\\]|<<[^<>]{0,200}>>|\\([^()]{0,200}\\)|<[0-9A-Fa-f\\s]{0,200}>|true|false|null)?`, 'g'));
    if (found.length === 0) return undefined;
    const m = rng.pick(found);
    const value = interestingValue(rng, text);
    const start = m.index + key.length + 1;
    return { bytes: replaceRange(input, start, m.index + m[0].length, bytesOf(` ${value}`)), note: `/${key} → ${value.slice(0, 30)} at ${m.index}` };
  },
  dropKey(input, rng) {
    const text = latin1(input);
    const key = rng.pick(STRUCTURE_KEYS);
    const found = matches(text, new RegExp(`/${key}(?![0-9A-Za-z])`, 'g'));
    if (found.length === 0) return undefined;
    const m = rng.pick(found);
    return { bytes: replaceRange(input, m.index, m.index + key.length + 1, bytesOf(`/X${key.slice(1)}`)), note: `/${key} renamed at ${m.index}` };
  },
  xrefRow(input, rng) {
    const text = latin1(input);
    const found = matches(text, /(\d{10}) (\d{5}) ([nf])/g);
    if (found.length === 0) return undefined;
    const m = rng.pick(found);
    const offset = rng.chance(0.5) ? rng.int(input.length + 100) : Number(m[1]) + rng.int(41) - 20;
    const gen = rng.chance(0.8) ? m[2]! : String(rng.int(100000)).padStart(5, '0');
    const type = rng.chance(0.85) ? m[3]! : rng.pick(['n', 'f', 'x']);
    const row = `${String(Math.max(0, offset)).padStart(10, '0').slice(-10)} ${gen} ${type}`;
    return { bytes: replaceRange(input, m.index, m.index + m[0].length, bytesOf(row)), note: `xref row ${m[0]}→${row}` };
  },
  subsectionHeader(input, rng) {
    const text = latin1(input);
    const found = matches(text, /xref[\r\n ]+(\d+) (\d+)/g);
    if (found.length === 0) return undefined;
    const m = rng.pick(found);
    const header = `xref\n${interestingNumber(rng, Number(m[1]))} ${interestingNumber(rng, Number(m[2]))}`;
    return { bytes: replaceRange(input, m.index, m.index + m[0].length, bytesOf(header)), note: `subsection ${m[1]} ${m[2]} → ${header.slice(5)}` };
  },
  objectHeader(input, rng) {
    const text = latin1(input);
    const found = matches(text, /(\d+) (\d+) obj/g);
    if (found.length === 0) return undefined;
    const m = rng.pick(found);
    const header = `${rng.chance(0.5) ? interestingNumber(rng, Number(m[1])) : m[1]} ${rng.chance(0.5) ? interestingNumber(rng, Number(m[2])) : m[2]} obj`;
    return { bytes: replaceRange(input, m.index, m.index + m[0].length, bytesOf(header)), note: `header ${m[0]} → ${header}` };
  },
  keyword(input, rng) {
    const text = latin1(input);
    const kw = rng.pick(KEYWORDS);
    const found = matches(text, new RegExp(kw.replace(/[[\]]/g, '\\$&'), 'g'));
    if (found.length === 0) return undefined;
    const m = rng.pick(found);
    const replacement = rng.pick(['', ' ', kw + kw, rng.pick(KEYWORDS)]);
    return { bytes: replaceRange(input, m.index, m.index + kw.length, bytesOf(replacement)), note: `keyword ${kw} → '${replacement}' at ${m.index}` };
  },
  startxref(input, rng) {
    const text = latin1(input);
    const at = text.lastIndexOf('startxref');
    if (at < 0) return undefined;
    const m = /startxref\s+(\d+)/.exec(text.slice(at));
    if (!m) return undefined;
    const xrefs = matches(text, /xref|\d+ 0 obj/g).map((x) => x.index);
    const value = rng.chance(0.5) && xrefs.length > 0 ? String(rng.pick(xrefs) + rng.int(5) - 2) : interestingNumber(rng, Number(m[1]));
    return { bytes: replaceRange(input, at, at + m[0].length, bytesOf(`startxref\n${value}`)), note: `startxref ${m[1]} → ${value}` };
  },
  streamContent(input, rng) {
    // Inflate a FlateDecode stream with a direct /Length, damage its content, deflate it again with a true /Length:
    // the damage reaches object streams, xref streams and their predictors, past the zlib checksum.
    const text = latin1(input);
    const found = matches(text, /\/Length (\d+)(?![\d ]*R)[^>]*?>>\s*stream(\r\n|\n)/g).filter((m) => text.slice(Math.max(0, m.index - 300), m.index + 200).includes('Flate'));
    if (found.length === 0) return undefined;
    const m = rng.pick(found);
    const length = Number(m[1]);
    const dataStart = m.index + m[0].length;
    let data: Buffer;
    try {
      data = inflateSync(input.subarray(dataStart, dataStart + length));
    } catch {
      return undefined;
    }
    if (data.length === 0) return undefined;
    const inner = rng.pick(['flipBits', 'setBytes', 'truncate', 'numberToken', 'deleteRange', 'duplicateRange'] as const);
    const damaged = MUTATIONS[inner]!(data, rng, data);
    if (damaged === undefined) return undefined;
    const packed = deflateSync(damaged.bytes);
    const lengthAt = m.index + '/Length '.length;
    const head = replaceRange(input.subarray(0, dataStart + length), lengthAt, lengthAt + m[1]!.length, bytesOf(String(packed.length)));
    const shift = String(packed.length).length - m[1]!.length;
    return {
      bytes: Buffer.concat([head.subarray(0, dataStart + shift), packed, input.subarray(dataStart + length)]),
      note: `stream at ${m.index}: ${damaged.note}`,
    };
  },
  selfReference(input, rng) {
    // `N 0 obj` whose dictionary refers to itself where a number or a node is expected (pdf.js's poppler-91414-0-53).
    const text = latin1(input);
    const found = matches(text, /(\d+) (\d+) obj\s*<</g);
    if (found.length === 0) return undefined;
    const m = rng.pick(found);
    const key = rng.pick(['Length', 'Count', 'Kids', 'Parent', 'N', 'First', 'Pages', 'Filter', 'DecodeParms', 'Size']);
    const at = m.index + m[0].length;
    return { bytes: replaceRange(input, at, at, bytesOf(` /${key} ${m[1]} ${m[2]} R `)), note: `object ${m[1]} /${key} → itself` };
  },
};

const NAMES = Object.keys(MUTATIONS);

/** The input of iteration `i` of a run with `seed`: one seed document, one to four stacked mutations. */
export function caseFor(seed: number, i: number, corpus: readonly SeedDocument[]): FuzzCase {
  const rng = new Prng(iterationSeed(seed, i));
  const base = rng.pick(corpus);
  const donor = rng.pick(corpus);
  let bytes: Uint8Array = base.bytes;
  const notes: string[] = [];
  const rounds = 1 + rng.int(rng.chance(0.7) ? 2 : 4);
  for (let k = 0; k < rounds && bytes.length > 0; k++) {
    const name = rng.pick(NAMES);
    const result = MUTATIONS[name]!(bytes, rng, donor.bytes);
    if (result === undefined) continue;
    bytes = result.bytes;
    notes.push(`${name}: ${result.note}`);
  }
  // The document's password is given most of the time, so the fuzzer reaches past authentication.
  const password = base.password !== undefined && rng.chance(0.8) ? base.password : undefined;
  return { bytes, description: `${base.name} | ${notes.join(' | ')}`, ...(password !== undefined ? { password } : {}) };
}
