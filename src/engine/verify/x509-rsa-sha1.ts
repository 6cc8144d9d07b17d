/**
 * adbe.x509.rsa_sha1 (ISO 32000-1 §12.8.3.2): a PKCS#1 RSA signature of the SHA-1 digest of the byte ranges in
 * /Contents, the signer's certificate in /Cert (a byte string, or an array whose first element is the signer's, the
 * others its chain). Integrity by crypto/pkcs1-signature.ts, trust as for any signature (at the claimed /M: nothing
 * in this SubFilter carries a time-stamp seald reads), changes by the caller. SHA-1 is weak: judged exactly as
 * adbe.pkcs7.sha1 is (verify.ts: INDETERMINATE without proof of existence before 2012-08-01).
 */
import { digestRanges } from '../../crypto/signed-data.ts';
import { verifyRsaSha1 } from '../../crypto/pkcs1-signature.ts';
import type { PdfDict } from '../../pdf/objects.ts';
import { PdfString } from '../../pdf/objects.ts';
import type { PdfDocument } from '../../pdf/document.ts';
import type { ByteSource } from '../../pdf/source.ts';
import { describeSigner, type SignatureReport } from './report.ts';
import { judgeSignerTrust, type TrustContext } from './trust-context.ts';

/** One adbe.x509.rsa_sha1 signature as integrity.ts found it: its signed revision's dictionary, /Contents, ranges. */
export interface X509RsaSha1Signature {
  source: ByteSource;
  /** The revision the signature covers, and its signature dictionary there. */
  doc: PdfDocument;
  sig: PdfDict;
  contents: Uint8Array;
  ranges: [number, number][];
  claimed: Date | undefined;
}

/** Fills `report` (integrity, signer, algorithms, trust); true when the signer's revocation status was embedded. */
export async function checkX509RsaSha1(
  { source, doc, sig, contents, ranges, claimed }: X509RsaSha1Signature,
  report: SignatureReport,
  context: TrustContext,
): Promise<boolean> {
  report.digestAlgorithm = 'SHA-1';
  report.signatureAlgorithm = 'sha1WithRSAEncryption';
  const certs = certificatesOf(doc, sig);
  const signer = certs[0];
  if (signer === undefined) {
    report.integrity = 'SIGNER_CERT_MISMATCH';
    report.reasons.push("adbe.x509.rsa_sha1 without /Cert: the signer's certificate is missing (ISO 32000-1 §12.8.3.2)");
    return false;
  }
  report.signer = describeSigner(signer);
  const digest = await digestRanges((s, e) => source.chunks(s, e), ranges, 'sha1');
  const checked = verifyRsaSha1(contents, signer, digest);
  if (checked.integrity !== 'INTACT') {
    report.integrity = checked.integrity;
    report.reasons.push(checked.reason ?? checked.integrity);
  } else {
    report.weakAlgorithm = 'SHA-1';
  }
  return judgeSignerTrust(report, signer, certs, context, undefined, claimed);
}

/** /Cert: one byte string, or an array of them (the signer's first). */
function certificatesOf(doc: PdfDocument, sig: PdfDict): Uint8Array[] {
  const cert = doc.resolve(sig.get('Cert'));
  const items = Array.isArray(cert) ? cert.slice(0, 20).map((c) => doc.resolve(c)) : [cert];
  return items.filter((c): c is PdfString => c instanceof PdfString).map((c) => c.bytes);
}
