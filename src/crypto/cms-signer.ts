/**
 * The signing certificate of a CMS SignedData (RFC 5652 §5.3): the certificate in `certificates` that the first
 * SignerInfo's `sid` names (issuerAndSerialNumber, or subjectKeyIdentifier). Used to decide whose seal a signature
 * in a PDF is (rollback). It checks no signature value: identity only.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SealdError } from '../errors.ts';
import { id_signedData } from './oids.ts';

/** DER of the signer's certificate. `cms` may carry trailing zero padding (a PDF /Contents placeholder). */
export function cmsSignerCertificate(cms: Uint8Array): Uint8Array {
  const bad = (message: string, cause?: unknown): SealdError =>
    new SealdError('invalid-input', 'CMS_UNREADABLE', `the signature's CMS ${message}`, cause === undefined ? undefined : { cause });
  const parsed = asn1js.fromBER(new Uint8Array(cms));
  if (parsed.offset === -1) throw bad('is not DER');
  let signedData: pkijs.SignedData;
  try {
    const info = new pkijs.ContentInfo({ schema: parsed.result });
    if (info.contentType !== id_signedData) throw bad(`is ${info.contentType}, not SignedData`);
    signedData = new pkijs.SignedData({ schema: info.content });
  } catch (error) {
    throw error instanceof SealdError ? error : bad('is not a SignedData', error);
  }
  const sid = signedData.signerInfos[0]?.sid as pkijs.IssuerAndSerialNumber | asn1js.Constructed | undefined;
  if (sid === undefined) throw bad('has no SignerInfo');
  const certificates = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const match = certificates.find((cert) => {
    if (sid instanceof pkijs.IssuerAndSerialNumber) {
      return cert.issuer.isEqual(sid.issuer) && cert.serialNumber.isEqual(sid.serialNumber);
    }
    // [0] SubjectKeyIdentifier
    const ski = cert.extensions?.find((e) => e.extnID === '2.5.29.14')?.parsedValue as asn1js.OctetString | undefined;
    const wanted = (sid as asn1js.Constructed).valueBlock.value[0] as asn1js.OctetString | undefined;
    return ski !== undefined && wanted !== undefined && Buffer.from(ski.valueBlock.valueHexView).equals(Buffer.from(wanted.valueBlock.valueHexView));
  });
  if (match === undefined) throw bad('does not include the signer certificate');
  return new Uint8Array(match.toSchema(true).toBER());
}
