/**
 * The catalog's permissions dictionary (ISO 32000-1 §12.8.4, Table 258): /DocMDP names the certification signature's
 * dictionary, /UR3 (and the obsolete /UR) a usage rights signature — one an application vendor (Adobe) applies to
 * enable features of its reader (§12.8.2.3, Table 255). A usage rights signature is usually no field's value, so the
 * field walk never meets it: it is found here and reported with the rights it grants. It approves no content and
 * seald does not judge it (its signer is the vendor's key, and what it enables is that vendor's reader's business).
 */
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfDict, PdfName, PdfRef, PdfString, type PdfObject } from '../../pdf/objects.ts';

export interface UsageRights {
  /** `UR3` or `UR`: the /Perms entry. */
  entry: string;
  /** The rights by object, as Table 255 names them: `Form: FillIn, Import`, `Annots: Create`, `Document: FullSave` … */
  permissions: string[];
  /** /SubFilter of the signature dictionary. */
  subFilter: string | null;
  /** /Name of the signature dictionary (the vendor's key), when given. */
  name: string | null;
}

/** The object numbers /Perms names for DocMDP and for usage rights, and the usage rights themselves. */
export interface Perms {
  docMdp: number | undefined;
  usageRights: (UsageRights & { num: number | undefined })[];
}

export function permsOf(doc: PdfDocument): Perms {
  const perms = doc.resolveDict(doc.catalog.get('Perms'));
  const docMdpRef = perms?.get('DocMDP');
  const usageRights: Perms['usageRights'] = [];
  for (const entry of ['UR3', 'UR']) {
    const ref = perms?.get(entry);
    const sig = doc.resolveDict(ref);
    if (!sig) continue;
    usageRights.push({
      entry,
      num: ref instanceof PdfRef ? ref.num : undefined,
      permissions: rightsOf(doc, sig),
      subFilter: sig.name('SubFilter') ?? null,
      name: text(doc.resolve(sig.get('Name'))),
    });
  }
  return { docMdp: docMdpRef instanceof PdfRef ? docMdpRef.num : undefined, usageRights };
}

/** Table 255: each key of the UR transform parameters (Document, Annots, Form, FormEx, Signature, EF) lists rights. */
function rightsOf(doc: PdfDocument, sig: PdfDict): string[] {
  const out: string[] = [];
  const refs = doc.resolve(sig.get('Reference'));
  for (const r of Array.isArray(refs) ? refs : []) {
    const ref = doc.resolveDict(r);
    if (!ref || !['UR', 'UR3'].includes(ref.name('TransformMethod') ?? '')) continue;
    const params = doc.resolveDict(ref.get('TransformParams'));
    for (const key of ['Document', 'Annots', 'Form', 'FormEx', 'Signature', 'EF']) {
      const list = doc.resolve(params?.get(key));
      if (!Array.isArray(list)) continue;
      const names = list.slice(0, 32).map((v: PdfObject) => (v instanceof PdfName ? v.name : null)).filter((n): n is string => n !== null);
      if (names.length > 0) out.push(`${key}: ${names.join(', ')}`);
    }
  }
  return out;
}

function text(v: PdfObject | undefined): string | null {
  return v instanceof PdfString ? v.asText() : v instanceof PdfName ? v.name : null;
}
