/**
 * The signing certificate of a CMS SignedData (RFC 5652 §5.3): the certificate in `certificates` that the first
 * SignerInfo's `sid` names (issuerAndSerialNumber, or subjectKeyIdentifier). Used to decide whose seal a signature
 * in a PDF is (rollback). It checks no signature value: identity only. Read by the one SignedData reader
 * (signed-data.ts), the verifier's, so rollback and verify can never disagree on who signed.
 */
import { SealdError } from '../errors.ts';
import { parseCms } from './signed-data.ts';

/** DER of the signer's certificate. `cms` may carry trailing zero padding (a PDF /Contents placeholder). */
export function cmsSignerCertificate(cms: Uint8Array): Uint8Array {
  const bad = (message: string): SealdError => new SealdError('invalid-input', 'CMS_UNREADABLE', `the signature's CMS ${message}`);
  const parsed = parseCms(cms);
  if (!parsed.ok) throw bad(`cannot be read: ${parsed.reason}`);
  if (parsed.cms.signerCertificate === undefined) throw bad('does not include the signer certificate');
  return parsed.cms.signerCertificate;
}
