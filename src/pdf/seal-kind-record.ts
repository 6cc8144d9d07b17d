/**
 * The kind of seal in a seald signature dictionary: /Seald_SealKind /contract (official, contract, finance, invoice,
 * legal_representative, personal — the configuration's names, src/auth/seal-kinds.ts).
 *
 * The key sits in the signature dictionary, so the CMS signature covers it (ISO 32000-1 §12.8.1: /ByteRange spans
 * every byte but /Contents): nobody can change the kind a seal claims without breaking the signature. ISO 32000-1
 * §7.3.7 lets a dictionary carry keys a reader does not know (they are ignored), and Annex E's second-class names —
 * a prefix, an underscore, a name — keep them apart from the standard's own; seald's prefix is `Seald`, as for
 * /Seald_Placement (placement-record.ts).
 */
import type { PdfDocument } from './document.ts';
import { PdfName, type PdfDict } from './objects.ts';

export const SEAL_KIND_KEY = 'Seald_SealKind';

/** A kind as written: lower-case words joined by "_", short. Anything else in a document is not seald's record. */
const KIND_NAME = /^[a-z][a-z_]{0,39}$/;

export function isSealKindName(kind: string): boolean {
  return KIND_NAME.test(kind);
}

/** The kind a signature dictionary records, or null when it records none (or something that is not a kind name). */
export function sealKindRecordOf(doc: PdfDocument, sig: PdfDict): string | null {
  const value = doc.resolve(sig.get(SEAL_KIND_KEY));
  return value instanceof PdfName && isSealKindName(value.name) ? value.name : null;
}
