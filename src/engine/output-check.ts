/**
 * The output check: before the server sends a sealed document's final message, read back what was written, as a
 * validator would, so a document is returned whole and valid or not at all.
 *
 * Structure (ISO 32000-1 §7.5.6): the file's last startxref points into the appended section, the xref chain reads
 * from there through /Prev into the original, the catalog resolves and the new signature field is among the form's
 * fields; the /ByteRange covers the whole file except exactly the /Contents hex string (§12.8.1).
 * Signature (RFC 5652 §5.4, §11.2): the CMS in /Contents parses, its message-digest attribute equals the digest the
 * engine computed over the byte ranges, and its signature over the DER signed attributes verifies with the public key
 * of the seal's certificate.
 */
import { checkCms, parseCms } from '../crypto/signed-data.ts';
import { SealdError } from '../errors.ts';
import { PdfDocument } from '../pdf/document.ts';
import { AppendedSource, type ByteSource } from '../pdf/source.ts';
import { sealDocument, type SealOutcome } from './seal.ts';

function failed(detail: string): SealdError {
  return new SealdError('internal', 'OUTPUT_CHECK_FAILED', `the sealed document failed its final check (${detail}); nothing was returned`);
}

/** Check one sealed output; throws OUTPUT_CHECK_FAILED (an internal error: the caller gets no document). */
export function checkSealOutput(source: ByteSource, outcome: SealOutcome, signerCertificate: Uint8Array): void {
  const base = source.size;
  const total = base + outcome.appended.byteLength;
  const [start, gapStart, gapEnd, tailLength] = outcome.byteRange;
  if (start !== 0 || gapStart <= base || gapEnd <= gapStart || gapEnd + tailLength !== total) {
    throw failed(`the /ByteRange ${outcome.byteRange.join(' ')} does not cover the file of ${total} bytes`);
  }
  const contents = outcome.appended.subarray(gapStart - base, gapEnd - base);
  if (contents[0] !== 0x3c || contents[contents.length - 1] !== 0x3e) {
    throw failed('the /ByteRange gap is not exactly the /Contents hex string');
  }
  const written = Buffer.from(outcome.appended).toString('latin1');
  if (!written.includes(`/ByteRange [${outcome.byteRange.join(' ')}]`) && !written.includes(`/ByteRange[${outcome.byteRange.join(' ')}]`)) {
    throw failed('the written /ByteRange differs from the one signed');
  }

  let doc: PdfDocument;
  try {
    doc = PdfDocument.open(new AppendedSource(source, outcome.appended));
  } catch (error) {
    throw failed(`the appended section does not parse: ${(error as Error).message}`);
  }
  if (doc.xref.startxref < base || doc.xref.sections[0]?.offset !== doc.xref.startxref) {
    throw failed('the last startxref does not point into the appended section');
  }
  if (!doc.fieldNames().has(outcome.fieldName)) throw failed(`the field "${outcome.fieldName}" is not in the new revision's form`);

  checkSignature(Buffer.from(Buffer.from(contents.subarray(1, -1)).toString('latin1'), 'hex'), outcome.documentDigest, signerCertificate);
}

/**
 * The CMS, read and checked by the verifier's own code (src/crypto/signed-data.ts: message-digest, signature, signing
 * certificate), and its signer must be the seal's certificate.
 */
function checkSignature(der: Buffer, documentDigest: Uint8Array, signerCertificate: Uint8Array): void {
  const parsed = parseCms(der);
  if (!parsed.ok) throw failed(`the CMS does not parse: ${parsed.reason}`);
  const signer = parsed.cms.signerCertificate;
  if (signer === undefined || !Buffer.from(signer).equals(Buffer.from(signerCertificate))) {
    throw failed("the CMS is not signed by the seal's certificate");
  }
  const checked = checkCms(parsed.cms, documentDigest, 'ETSI.CAdES.detached');
  if (checked.integrity !== 'INTACT') throw failed(`${checked.integrity}: ${checked.reason ?? ''}`);
}

/** engine.sealDocument followed by checkSealOutput: what the server runs. */
export const checkedSealDocument: typeof sealDocument = async (source, seal, placement, options) => {
  const outcome = await sealDocument(source, seal, placement, options);
  // A macrotask of its own: when many signs complete together, their checks do not run as one long microtask chain.
  await new Promise((resolve) => setImmediate(resolve));
  checkSealOutput(source, outcome, seal.signer.certificates[0]!);
  return outcome;
};
