/**
 * qpdf's reading of a document (`qpdf --json`, JSON v2, raw stream data), compared object by object with seald's:
 * the independent oracle for what a damaged file contains. qpdf reconstructs damaged files itself (exit 3, warnings).
 */
import { run } from '../support/run.ts';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfObject } from '../../src/pdf/objects.ts';
import type { PdfDocument } from '../../src/pdf/document.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface QpdfReading {
  objects: Map<string, Json>;
  trailer: Json;
  exitCode: number;
  warnings: string;
}

export async function qpdfReading(file: string): Promise<QpdfReading> {
  const r = await run('qpdf', ['--json', '--json-key=qpdf', '--json-stream-data=inline', '--decode-level=none', file]);
  if (r.code !== 0 && r.code !== 3) throw new Error(`qpdf could not read ${file}: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout.toString('utf8')) as { qpdf: [unknown, Record<string, Json>] };
  const objects = new Map<string, Json>();
  let trailer: Json = null;
  for (const [key, value] of Object.entries(parsed.qpdf[1])) {
    if (key === 'trailer') trailer = (value as { value: Json }).value;
    else objects.set(key.replace(/^obj:/, ''), value);
  }
  return { objects, trailer, exitCode: r.code, warnings: r.stderr };
}

/** seald's object in qpdf's JSON v2 notation, strings compared the way qpdf wrote them (u: text or b: hex). */
function toJson(o: PdfObject, like: Json): Json {
  if (o instanceof PdfRef) return `${o.num} ${o.gen} R`;
  if (o instanceof PdfName) return `/${o.name}`;
  if (o instanceof PdfString) {
    return typeof like === 'string' && like.startsWith('u:') ? `u:${o.asText()}` : `b:${Buffer.from(o.bytes).toString('hex')}`;
  }
  if (Array.isArray(o)) return o.map((x, i) => toJson(x, Array.isArray(like) ? like[i]! : null));
  if (o instanceof PdfDict) {
    const out: Record<string, Json> = {};
    const l = (like ?? {}) as Record<string, Json>;
    for (const [k, v] of o.entries) out[`/${k}`] = toJson(v, l[`/${k}`] ?? null);
    return out;
  }
  if (o instanceof PdfStream) return null; // handled by the caller
  return o as Json;
}

/** Object keys ("N G R") where seald's reading differs from qpdf's, with both readings. */
export function differences(
  doc: PdfDocument,
  qpdf: QpdfReading,
  opts: { skipXrefStreams?: boolean } = {},
): { ref: string; seald: Json; qpdf: Json }[] {
  const out: { ref: string; seald: Json; qpdf: Json }[] = [];
  for (const [key, theirs] of qpdf.objects) {
    const dict = (theirs as { stream?: { dict?: Record<string, Json> } }).stream?.dict;
    if (opts.skipXrefStreams && dict?.['/Type'] === '/XRef') continue;
    const [num, gen] = key.split(' ').map(Number) as [number, number];
    const o = doc.getObject(new PdfRef(num, gen));
    let mine: Json;
    const t = theirs as { value?: Json; stream?: { dict: Json; data?: string } };
    if (o instanceof PdfStream) {
      const dict = toJson(o.dict, t.stream?.dict ?? null) as Record<string, Json>;
      delete dict['/Length']; // qpdf's JSON leaves /Length out: the data's own length says it
      mine = { stream: { dict, data: Buffer.from(o.encoded()).toString('base64') } };
    } else mine = { value: toJson(o, t.value ?? null) };
    const normalised: Json = t.stream ? { stream: { dict: t.stream.dict, data: t.stream.data ?? '' } } : { value: t.value ?? null };
    if (canonical(mine) !== canonical(normalised)) out.push({ ref: key, seald: mine, qpdf: normalised });
  }
  return out;
}

/** JSON with object keys sorted (qpdf sorts dictionary keys; seald keeps the file's order). */
function canonical(j: Json): string {
  if (Array.isArray(j)) return `[${j.map(canonical).join(',')}]`;
  if (j !== null && typeof j === 'object') {
    return `{${Object.keys(j).sort().map((k) => `${JSON.stringify(k)}:${canonical(j[k]!)}`).join(',')}}`;
  }
  return JSON.stringify(j);
}
