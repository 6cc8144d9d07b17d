/**
 * Which changes after a signature are allowed: the certification signature's DocMDP permission P (ISO 32000-1
 * §12.8.2.2, Table 254) for every revision after it, and the FieldMDP locks (§12.8.2.4; a field's /Lock, §12.7.4.5
 * Table 233) of every signature for the fields they name.
 *
 *   P = 1: nothing at all (NOTES.md: a P=1 document accepts no further byte);
 *   P = 2: signing and form filling;
 *   P = 3: also annotations (that do not cover a signature's appearance).
 * Without a certification nothing restricts an approval signature but its own FieldMDP locks: ISO 32000-1 §12.8.2.2
 * makes P a property of the certification signature only, and pyHanko, EU DSS, iText and Acrobat all accept
 * annotations added, modified or removed after an approval signature (and report them). What stays forbidden for every
 * signature is decided in changes.ts, not here: page content and resources, an annotation over a signature's
 * appearance (the overlay attacks), shared appearances, xref tricks. Metadata (/Metadata XMP, /Info, /Version,
 * /Extensions) is allowed after any signature but a P=1 certification (pyHanko's metadata rule).
 */
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfString, type PdfDict } from '../../pdf/objects.ts';
import type { RawChange } from './changes.ts';
import type { Change } from './report.ts';
import type { SignatureField } from '../../pdf/signature-fields.ts';

export interface Certification {
  revision: number;
  p: 1 | 2 | 3;
  field: string;
}

export interface FieldLock {
  revision: number;
  signature: string;
  action: 'All' | 'Include' | 'Exclude';
  fields: string[];
  /** ISO 32000-2 §12.7.5.5 Table 236: a signature field's /Lock may carry /P, the DocMDP permission it imposes once signed. */
  p?: 1 | 2 | 3;
}

function references(doc: PdfDocument, sig: PdfDict): PdfDict[] {
  const refs = doc.resolve(sig.get('Reference'));
  return Array.isArray(refs) ? refs.map((r) => doc.resolveDict(r)).filter((d): d is PdfDict => d !== undefined) : [];
}

/** The DocMDP certification this signature makes, if any. */
export function certificationOf(doc: PdfDocument, field: SignatureField, revision: number): Certification | undefined {
  for (const ref of references(doc, field.sig)) {
    if (ref.name('TransformMethod') !== 'DocMDP') continue;
    const p = doc.resolve(doc.resolveDict(ref.get('TransformParams'))?.get('P'));
    return { revision, p: p === 1 || p === 3 ? p : 2, field: field.name };
  }
  return undefined;
}

export function locksOf(doc: PdfDocument, field: SignatureField, revision: number): FieldLock[] {
  const out: FieldLock[] = [];
  const lockDicts = references(doc, field.sig)
    .filter((r) => r.name('TransformMethod') === 'FieldMDP')
    .map((r) => doc.resolveDict(r.get('TransformParams')))
    .concat(doc.resolveDict(field.field.get('Lock')));
  for (const d of lockDicts) {
    if (!d) continue;
    const action = d.name('Action');
    const p = doc.resolve(d.get('P'));
    const perm: { p?: 1 | 2 | 3 } = p === 1 || p === 2 || p === 3 ? { p } : {};
    if (action !== 'All' && action !== 'Include' && action !== 'Exclude') {
      if (perm.p !== undefined) out.push({ revision, signature: field.name, action: 'Include', fields: [], ...perm });
      continue;
    }
    const names = doc.resolve(d.get('Fields'));
    const fields = Array.isArray(names)
      ? names.map((n) => doc.resolve(n)).filter((n): n is PdfString => n instanceof PdfString).map((n) => n.asText())
      : [];
    out.push({ revision, signature: field.name, action, fields, ...perm });
  }
  return out;
}

function locks(lock: FieldLock, name: string): boolean {
  if (lock.action === 'All') return true;
  const named = lock.fields.some((f) => name === f || name.startsWith(`${f}.`));
  return lock.action === 'Include' ? named : !named;
}

/**
 * `strict`: no annotation change after any signature, as if every signature certified with P=2 (for callers who want
 * "no annotation after a seal"; the default follows pyHanko and DSS and allows them after approval signatures).
 */
export function judge(changes: RawChange[], certification: Certification | undefined, fieldLocks: FieldLock[], strict = false, firstSignature?: { revision: number; field: string }): Change[] {
  // The permissions in force at a revision: the certification's P and every /Lock /P signed before it; the strictest.
  const restrictions: Certification[] = [
    ...(certification ? [certification] : []),
    ...fieldLocks.filter((l) => l.p !== undefined).map((l) => ({ revision: l.revision, p: l.p!, field: l.signature })),
  ];
  return changes.map((c) => {
    const certified = restrictions.filter((r) => c.revision > r.revision).sort((x, y) => x.p - y.p)[0];
    let allowed: boolean;
    let description = c.description;
    if (c.class === 'forbidden') allowed = false;
    else if (certified?.p === 1) {
      allowed = false;
      description += ` (${certified === certification ? 'the document is certified by' : 'the field lock of'} "${certified.field}" ${certified === certification ? 'with' : 'sets'} DocMDP P=1: no changes allowed)`;
    } else if (c.class === 'signing' || c.class === 'metadata') allowed = true;
    else if (c.class === 'form-fill') {
      const lock = fieldLocks.find((l) => l.revision < c.revision && locks(l, c.field ?? ''));
      allowed = lock === undefined;
      if (lock) description += ` (locked by signature "${lock.signature}")`;
    } else if (certified === undefined && strict && firstSignature !== undefined && c.revision > firstSignature.revision) {
      allowed = false;
      description += ` (strict mode: no annotation change after a signature such as "${firstSignature.field}")`;
    } else {
      allowed = certified === undefined || certified.p === 3;
      if (!allowed) description += ` (DocMDP P=${certified!.p} of "${certified!.field}" does not allow annotations)`;
    }
    return { revision: c.revision, allowed, kind: c.kind, description };
  });
}
