import { SealdError } from '../errors.ts';

/** The document's syntax is broken where seald has to read it. */
export function malformed(detail: string): SealdError {
  return new SealdError('invalid-input', 'PDF_MALFORMED', `the PDF is damaged: ${detail}`);
}
