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
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { id_messageDigest } from '../crypto/oids.ts';
import { certificatePublicKeyInfo } from '../crypto/certificate.ts';
import { SealdError } from '../errors.ts';
import { PdfDocument } from '../pdf/document.ts';
import type { ByteSource } from '../pdf/source.ts';
import { sealDocument, type SealOutcome } from './seal.ts';

function failed(detail: string): SealdError {
  return new SealdError('internal', 'OUTPUT_CHECK_FAILED', `the sealed document failed its final check (${detail}); nothing was returned`);
}

/** The output as one ByteSource without copying: the original source, then the appended section. */
class AppendedSource implements ByteSource {
  constructor(
    private readonly original: ByteSource,
    private readonly appended: Uint8Array,
  ) {}

  get size(): number {
    return this.original.size + this.appended.byteLength;
  }

  read(offset: number, length: number): Uint8Array {
    const base = this.original.size;
    const end = Math.min(this.size, offset + Math.max(0, length));
    const start = Math.max(0, Math.min(offset, end));
    if (start >= base) return this.appended.subarray(start - base, end - base);
    if (end <= base) return this.original.read(start, end - start);
    const out = new Uint8Array(end - start);
    out.set(this.original.read(start, base - start), 0);
    out.set(this.appended.subarray(0, end - base), base - start);
    return out;
  }

  async *chunks(): AsyncIterable<Uint8Array> {
    yield* this.original.chunks();
    yield this.appended;
  }

  async close(): Promise<void> {}
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

  checkCms(Buffer.from(Buffer.from(contents.subarray(1, -1)).toString('latin1'), 'hex'), outcome.documentDigest, signerCertificate);
}

/** Public keys of seal certificates, parsed once per certificate (the same array is used for every seal). */
const publicKeys = new WeakMap<Uint8Array, KeyObject>();

function publicKeyOf(certificate: Uint8Array): KeyObject {
  let key = publicKeys.get(certificate);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.from(certificatePublicKeyInfo(certificate)), format: 'der', type: 'spki' });
    publicKeys.set(certificate, key);
  }
  return key;
}

/** The i-th element of a constructed ASN.1 block, or undefined. */
function child(block: asn1js.AsnType | undefined, index: number): asn1js.AsnType | undefined {
  const value = (block as asn1js.Constructed | undefined)?.valueBlock?.value;
  return Array.isArray(value) ? value[index] : undefined;
}

function isContextTag(block: asn1js.AsnType | undefined, tag: number): boolean {
  return block !== undefined && block.idBlock.tagClass === 3 && block.idBlock.tagNumber === tag;
}

/**
 * The signer's signed attributes (exact bytes) and signature from a DER ContentInfo(SignedData), read with asn1js
 * alone — walking RFC 5652 §5.1/§5.3 by position is much cheaper than pkijs' schema matching, and this runs for
 * every document on the event loop.
 */
function signerInfoOf(root: asn1js.AsnType): { signedAttrs: asn1js.AsnType; signature: Uint8Array } | undefined {
  const signedData = child(child(root, 1), 0); // ContentInfo.content [0] EXPLICIT → SignedData
  const fields = (signedData as asn1js.Sequence | undefined)?.valueBlock?.value ?? [];
  const signerInfos = fields.at(-1); // certificates [0] and crls [1] are optional; signerInfos is last
  const signerInfo = child(signerInfos, 0);
  const parts = (signerInfo as asn1js.Sequence | undefined)?.valueBlock?.value ?? [];
  const signedAttrs = parts.find((p) => isContextTag(p, 0));
  const signature = parts.find((p) => p instanceof asn1js.OctetString) as asn1js.OctetString | undefined;
  if (signedAttrs === undefined || signature === undefined) return undefined;
  return { signedAttrs, signature: signature.valueBlock.valueHexView };
}

function checkCms(der: Buffer, documentDigest: Uint8Array, signerCertificate: Uint8Array): void {
  // /Contents is zero-padded after the DER (§12.8.1): read one BER element and ignore the rest.
  const parsed = asn1js.fromBER(new Uint8Array(der));
  if (parsed.offset === -1) throw failed('/Contents holds no DER CMS');
  const signer = signerInfoOf(parsed.result);
  if (signer === undefined) throw failed('the CMS has no SignerInfo with signed attributes');
  let digest: Uint8Array | undefined;
  for (const attribute of (signer.signedAttrs as asn1js.Constructed).valueBlock.value) {
    const type = child(attribute, 0);
    if (type instanceof asn1js.ObjectIdentifier && type.valueBlock.toString() === id_messageDigest) {
      const value = child(child(attribute, 1), 0);
      if (value instanceof asn1js.OctetString) digest = value.valueBlock.valueHexView;
    }
  }
  if (digest === undefined || !Buffer.from(digest).equals(Buffer.from(documentDigest))) {
    throw failed('the CMS message-digest is not the digest of the signed byte ranges');
  }
  // RFC 5652 §5.4: the signature is over the DER of the attributes with the SET OF tag, not the [0] IMPLICIT one.
  const toBeSigned = Buffer.from(signer.signedAttrs.valueBeforeDecodeView);
  toBeSigned[0] = 0x31;
  if (!verify('sha256', toBeSigned, publicKeyOf(signerCertificate), signer.signature)) {
    throw failed("the CMS signature does not verify with the seal certificate's public key");
  }
}

/** engine.sealDocument followed by checkSealOutput: what the server runs. */
export const checkedSealDocument: typeof sealDocument = async (source, seal, placement, options) => {
  const outcome = await sealDocument(source, seal, placement, options);
  // A macrotask of its own: when many signs complete together, their checks do not run as one long microtask chain.
  await new Promise((resolve) => setImmediate(resolve));
  checkSealOutput(source, outcome, seal.signer.certificates[0]!);
  return outcome;
};
