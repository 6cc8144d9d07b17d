/**
 * PDFs with a GB/T 38540 / GM/T 0031 electronic seal over their last revision, for tests: a signature placeholder
 * written by seald's own PDF writer (attack-kit.ts), then the SES_Signature over the SM3 of its /ByteRange built by
 * test/crypto/ses/ses-builder.ts, in either carrier met in practice.
 */
import { sm3 } from '../../../src/crypto/sm3.ts';
import { name, type PdfName } from '../../../src/pdf/objects.ts';
import { buildSeal, buildSesSignature, type Layout, type SealSpec } from '../../crypto/ses/ses-builder.ts';
import type { Sm2Party, Sm2Pki } from '../../crypto/sm2-cms.ts';
import { appendSignature, signatureContents } from './attack-kit.ts';

export const CARRIERS: Record<string, Record<string, PdfName>> = {
  'Foxit.SM': { Filter: name('Foxit.SM'), SubFilter: name('fxit.sm.detached') },
  'adbe.pkcs7.detached': { Filter: name('Adobe.PPKLite'), SubFilter: name('adbe.pkcs7.detached') },
};

export interface SealedOptions {
  layout?: Layout;
  carrier?: keyof typeof CARRIERS;
  seal?: Partial<SealSpec>;
  signer?: Sm2Party;
  timeInfo?: Date;
  /** v4: an RFC 3161 token over the signature value. */
  timeStamp?: (signature: Uint8Array) => Promise<Uint8Array>;
  /** Change the SES_Signature's DER before it goes into /Contents. */
  edit?: (der: Buffer) => void;
}

/** A PDF with one electronic seal over its last revision. */
export async function gmSealed(base: Uint8Array, pki: Sm2Pki, options: SealedOptions = {}): Promise<Buffer> {
  const pdf = await appendSignature(base, { field: 'GMSeal', entries: CARRIERS[options.carrier ?? 'Foxit.SM'] });
  const [b, c] = signatureContents(pdf).gap;
  const dataHash = sm3(pdf.subarray(0, b), pdf.subarray(c));
  const layout = options.layout ?? 'v4';
  const seal = await buildSeal({ layout, maker: pki.other, certList: [pki.signer.certificate], name: '合同专用章', esID: '3201000012345', ...options.seal });
  const signature = await buildSesSignature({ layout, seal: seal.der, signer: options.signer ?? pki.signer, dataHash, ...(options.timeInfo ? { timeInfo: options.timeInfo } : {}), ...(options.timeStamp ? { timeStamp: options.timeStamp } : {}) });
  const der = Buffer.from(signature.der);
  options.edit?.(der);
  pdf.write(der.toString('hex'), b + 1, 'latin1');
  return pdf;
}
