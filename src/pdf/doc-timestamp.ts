/**
 * A document time-stamp (ISO 32000-2 §12.8.5; PAdES, EN 319 142-1 §5.4): a signature dictionary of /Type
 * /DocTimeStamp whose /Contents is an RFC 3161 TimeStampToken over the document's byte ranges, in an invisible
 * signature field on the first page, written as one incremental update like any other signature.
 */
import { IncrementalWriter } from './incremental.ts';
import { dict, name } from './objects.ts';
import type { PdfDocument } from './document.ts';
import { addAnnotations, addField, finishSignatureUpdate, signaturePlaceholders, signatureWidget, type PreparedSignature } from './signature.ts';

export interface DocTimestampSpec {
  fieldName: string;
  /** Bytes reserved for the DER TimeStampToken in /Contents. */
  contentsSize: number;
}

export function prepareDocTimestamp(doc: PdfDocument, spec: DocTimestampSpec): PreparedSignature {
  const w = new IncrementalWriter(doc);
  const sig = w.add(
    dict({
      Type: name('DocTimeStamp'),
      Filter: name('Adobe.PPKLite'),
      SubFilter: name('ETSI.RFC3161'),
      ...signaturePlaceholders(spec.contentsSize),
      Prop_Build: dict({ App: dict({ Name: name('seald') }) }),
    }),
  );
  const page = doc.page(1);
  // Invisible: a zero rectangle and no appearance (§12.7.5.5).
  const widget = w.add(signatureWidget({ fieldName: spec.fieldName, sig, page, rect: [0, 0, 0, 0] }));

  addAnnotations(doc, w, [[page, widget]]);
  addField(doc, w, widget);
  return finishSignatureUpdate(doc, w, spec.contentsSize);
}
