/** Compare an object as seald decrypted it with the same object in qpdf's JSON v2 (see variants.ts). */
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfObject } from '../../../src/pdf/objects.ts';
import type { QpdfJsonObject } from './variants.ts';

/** Where the two differ ("/Info/Title: …"), or undefined when they agree. */
export function differs(ours: PdfObject, theirs: QpdfJsonObject): string | undefined {
  if (theirs.stream) {
    if (!(ours instanceof PdfStream)) return 'qpdf sees a stream, seald does not';
    const dict = new PdfDict(ours.dict.entries);
    dict.delete('Length'); // qpdf's JSON leaves /Length out
    const d = compare(dict, theirs.stream.dict, '');
    if (d) return d;
    const data = Buffer.from(ours.encoded()).toString('base64');
    return data === theirs.stream.data ? undefined : 'stream data differ';
  }
  return compare(ours, theirs.value, '');
}

function compare(ours: PdfObject, theirs: unknown, path: string): string | undefined {
  const fail = (what: string) => `${path || '(object)'}: ${what}`;
  if (ours === null || typeof ours === 'boolean') return ours === theirs ? undefined : fail(`${ours} ≠ ${JSON.stringify(theirs)}`);
  if (typeof ours === 'number') return typeof theirs === 'number' && Math.abs(ours - theirs) < 1e-9 ? undefined : fail(`${ours} ≠ ${JSON.stringify(theirs)}`);
  if (ours instanceof PdfName) return `/${ours.name}` === theirs ? undefined : fail(`/${ours.name} ≠ ${JSON.stringify(theirs)}`);
  if (ours instanceof PdfRef) return `${ours.num} ${ours.gen} R` === theirs ? undefined : fail(`${ours} ≠ ${JSON.stringify(theirs)}`);
  if (ours instanceof PdfString) {
    if (typeof theirs !== 'string') return fail('string ≠ non-string');
    // "u:" a text string qpdf could read as text, "b:" hex bytes otherwise.
    const same = theirs.startsWith('u:') ? ours.asText() === theirs.slice(2) : Buffer.from(ours.bytes).toString('hex') === theirs.slice(2);
    return same ? undefined : fail(`string ${JSON.stringify(ours.asText())} ≠ ${JSON.stringify(theirs)}`);
  }
  if (Array.isArray(ours)) {
    if (!Array.isArray(theirs) || theirs.length !== ours.length) return fail('arrays differ in length');
    for (let i = 0; i < ours.length; i++) {
      const d = compare(ours[i]!, theirs[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (ours instanceof PdfDict) {
    if (typeof theirs !== 'object' || theirs === null) return fail('dictionary ≠ non-dictionary');
    const t = theirs as Record<string, unknown>;
    const keys = new Set([...ours.entries.keys()].map((k) => `/${k}`));
    for (const k of Object.keys(t)) if (!keys.has(k)) return fail(`qpdf has ${k}, seald does not`);
    for (const [k, v] of ours.entries) {
      if (!(`/${k}` in t)) return fail(`seald has /${k}, qpdf does not`);
      const d = compare(v, t[`/${k}`], `${path}/${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return fail('unexpected object');
}
