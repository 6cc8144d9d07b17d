/**
 * Certification signatures (ISO 32000-1 §12.8.2.2, ISO 32000-2 §12.8.2.2): the DocMDP signature reference a
 * certifying signature dictionary carries, the catalog's /Perms /DocMDP that names it, and the check that a document
 * can still take a certification at all.
 */
import { PdfDict, PdfRef, dict, name } from './objects.ts';
import type { IncrementalWriter } from './incremental.ts';
import type { PdfDocument } from './document.ts';
import { signatureFields } from './signature-fields.ts';
import { Budget, DEFAULT_VERIFY_LIMITS } from './limits.ts';
import { SealdError } from '../errors.ts';

/** The DocMDP permissions a seal can certify with: 1 no changes at all, 2 form filling and signing. */
export type DocMdpPermission = 1 | 2;

/**
 * Refuse a certification the document could not honour: a document has at most one signature with a DocMDP transform
 * and it is the first signed field of the document (ISO 32000-1 §12.8.2.2.1, ISO 32000-2 §12.8.2.2), so a document
 * that is already certified, or already carries a signature (a signed field or a document time-stamp), cannot be
 * certified by a new one. Unsigned signature fields are no obstacle.
 */
export function checkCertifiable(doc: PdfDocument): void {
  const p = doc.docMdpPermission();
  if (p !== undefined) {
    throw new SealdError(
      'precondition',
      'DOCUMENT_ALREADY_CERTIFIED',
      `the document is already certified (DocMDP P=${p}): a document carries at most one certification signature`,
    );
  }
  const signed = signatureFields(doc, new Budget(DEFAULT_VERIFY_LIMITS));
  if (signed.length > 0) {
    const names = signed.slice(0, 3).map((f) => `"${f.name}"`).join(', ');
    throw new SealdError(
      'precondition',
      'CERTIFICATION_NOT_FIRST',
      `the document already carries ${signed.length} signature${signed.length === 1 ? '' : 's'} (${names}${signed.length > 3 ? ', …' : ''}): ` +
        'a certification signature must be the first signature of a document (ISO 32000-2 §12.8.2.2); seal it without certification',
    );
  }
}

/**
 * The signature reference dictionary of a certification signature (ISO 32000-1 §12.8.1 Table 253, §12.8.2.2 Table
 * 254): /TransformMethod /DocMDP with /TransformParams << /P p /V /1.2 >>. No /DigestMethod: ISO 32000-2 deprecates
 * the object digest it would describe.
 */
export function docMdpReference(p: DocMdpPermission): PdfDict {
  return dict({
    Type: name('SigRef'),
    TransformMethod: name('DocMDP'),
    TransformParams: dict({ Type: name('TransformParams'), P: p, V: name('1.2') }),
  });
}

/**
 * The catalog's /Perms /DocMDP names the certification signature's dictionary (ISO 32000-1 §12.8.4, Table 258). A /Perms that is
 * an indirect object gets a new version of its own; other permission handlers in it (/UR3) are kept.
 */
export function setDocMdp(doc: PdfDocument, w: IncrementalWriter, catalog: PdfDict, sig: PdfRef): void {
  const entry = catalog.get('Perms');
  const existing = doc.resolveDict(entry);
  const perms = existing ? existing.clone() : new PdfDict();
  perms.set('DocMDP', sig);
  if (entry instanceof PdfRef && existing) w.update(entry, perms);
  else catalog.set('Perms', perms);
}
