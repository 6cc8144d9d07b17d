/**
 * Signatures read by plain byte scanning, deliberately without seald's PDF parser, so a test compares seald against
 * something that shares none of its code: every `/ByteRange [a b c d]` in the file, the `/Contents <hex>` of the same
 * object, the CMS inside it and the bytes the ByteRange says were signed (ISO 32000-1 §12.8.1). Then `openssl cms`
 * checks the CMS over those bytes.
 *
 * What the scan relies on: a signature dictionary is a direct object of its own `N G obj … endobj` (its /Contents must
 * not be in an object stream, whose bytes would be compressed), and its /Contents is a hex string.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run.ts';

export type ByteRange = [number, number, number, number];

export interface ExtractedSignature {
  byteRange: ByteRange;
  /** Offset of the object (`N G obj`) holding the signature dictionary, and its number. */
  objectOffset: number;
  objectNumber: number;
  /** The /Contents hex string in the file: [start, end) including its angle brackets. */
  contents: { start: number; end: number };
  /** ISO 32000-1 §12.8.1: the gap between the two ranges is exactly the /Contents string, brackets included. */
  gapIsContents: boolean;
  /** The ranges end at the end of the file. */
  coversWholeFile: boolean;
  /** /SubFilter of the same object, e.g. "ETSI.CAdES.detached". */
  subFilter?: string;
  /** The CMS ContentInfo (DER, or BER as NSS writes it), cut to its own length; empty when not a SEQUENCE. */
  cms: Buffer;
  /** bytes [a, a+b) followed by [c, c+d). */
  signedBytes: Buffer;
}

const BYTE_RANGE = /\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g;
const CONTENTS_HEX = /\/Contents\s*(<[0-9A-Fa-f\s]*>)/g;

export async function extractSignatures(file: string | Uint8Array): Promise<ExtractedSignature[]> {
  const bytes = typeof file === 'string' ? await readFile(file) : Buffer.from(file);
  // latin1 maps each byte to one UTF-16 unit, so string indexes are file offsets.
  const text = bytes.toString('latin1');
  const found: ExtractedSignature[] = [];
  for (const m of text.matchAll(BYTE_RANGE)) {
    const byteRange = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] as ByteRange;
    const obj = enclosingObject(text, m.index);
    if (!obj) continue;
    const body = text.slice(obj.start, obj.end);
    const gapStart = byteRange[0] + byteRange[1];
    const candidates = [...body.matchAll(CONTENTS_HEX)].map((c) => {
      const start = obj.start + c.index + c[0].length - c[1]!.length;
      return { start, end: start + c[1]!.length, hex: c[1]! };
    });
    const contents = candidates.find((c) => c.start === gapStart) ?? candidates[0];
    if (!contents) continue;
    const [a, b, c, d] = byteRange;
    found.push({
      byteRange,
      objectOffset: obj.start,
      objectNumber: obj.number,
      contents: { start: contents.start, end: contents.end },
      gapIsContents: a === 0 && contents.start === a + b && contents.end === c,
      coversWholeFile: c + d === bytes.length,
      subFilter: /\/SubFilter\s*\/([^\s/<>[\]()]+)/.exec(body)?.[1],
      cms: derPrefix(Buffer.from(contents.hex.slice(1, -1).replace(/\s+/g, ''), 'hex')),
      signedBytes: Buffer.concat([bytes.subarray(a, a + b), bytes.subarray(c, c + d)]),
    });
  }
  return found;
}

/** The `N G obj … endobj` around `pos`, found by scanning back for "obj" and forward for "endobj". */
function enclosingObject(text: string, pos: number): { start: number; end: number; number: number } | undefined {
  let at = pos;
  for (;;) {
    at = text.lastIndexOf('obj', at - 1);
    if (at < 0) return undefined;
    if (text.startsWith('endobj', at - 3)) return undefined; // we are between objects
    const head = /(\d+)\s+(\d+)\s+$/.exec(text.slice(Math.max(0, at - 24), at));
    if (head) {
      const start = at - head[0].length;
      const end = text.indexOf('endobj', pos);
      return { start, end: end < 0 ? text.length : end, number: Number(head[1]) };
    }
  }
}

/**
 * Cuts the CMS to its own encoded length, dropping the zero padding of a /Contents placeholder. Walks BER (X.690
 * §8.1): NSS, behind poppler's pdfsig, writes indefinite lengths (30 80 … 00 00), so a definite length at the top
 * cannot be relied on.
 */
function derPrefix(der: Buffer): Buffer {
  if (der.length < 2 || der[0] !== 0x30) return Buffer.alloc(0);
  const end = berEnd(der, 0, 0);
  return end === undefined ? der : der.subarray(0, end);
}

/** Offset just past the TLV at `pos`, or undefined when the encoding runs off the end or nests absurdly deep. */
function berEnd(b: Buffer, pos: number, depth: number): number | undefined {
  if (depth > 64 || pos + 2 > b.length) return undefined;
  let p = pos + 1;
  if ((b[pos]! & 0x1f) === 0x1f) {
    while (p < b.length && b[p]! & 0x80) p++; // high tag number form
    p++;
  }
  if (p >= b.length) return undefined;
  const first = b[p++]!;
  if (first === 0x80) {
    if (!(b[pos]! & 0x20)) return undefined; // indefinite length needs a constructed encoding
    for (;;) {
      if (p + 2 > b.length) return undefined;
      if (b[p] === 0 && b[p + 1] === 0) return p + 2; // end-of-contents
      const next = berEnd(b, p, depth + 1);
      if (next === undefined) return undefined;
      p = next;
    }
  }
  let length = first;
  if (first > 0x80) {
    const n = first & 0x7f;
    if (n > 4 || p + n > b.length) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + b[p + i]!;
    p += n;
  }
  return p + length <= b.length ? p + length : undefined;
}

export interface CmsVerifyResult {
  ok: boolean;
  output: string;
}

/**
 * `openssl cms -verify` of a detached CMS over `signedBytes`, with `caPemPath` as the trust anchor. `-purpose any`
 * because a document-signing certificate need not carry the S/MIME extended key usage openssl looks for by default.
 */
export async function opensslCmsVerify(
  cmsDer: Uint8Array,
  signedBytes: Uint8Array,
  caPemPath: string,
): Promise<CmsVerifyResult> {
  const dir = await mkdtemp(join(tmpdir(), 'seald-cms-'));
  try {
    const sig = join(dir, 'signature.der');
    const content = join(dir, 'content.bin');
    await writeFile(sig, cmsDer);
    await writeFile(content, signedBytes);
    const result = await run('openssl', [
      'cms', '-verify', '-binary', '-inform', 'DER', '-in', sig, '-content', content,
      '-CAfile', caPemPath, '-purpose', 'any', '-out', '/dev/null',
    ]); // prettier-ignore
    const output = (result.stdout.toString('utf8') + result.stderr).trim();
    return { ok: result.code === 0 && /Verification successful/.test(output), output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
