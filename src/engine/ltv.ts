/**
 * Long-term validation (PAdES B-LT, and B-LTA with a document time-stamp on top; ETSI EN 319 142-1 §5.4): gather
 * what a validator needs for every signature and time-stamp of a document — the certificate chains up to the trust
 * anchors, and for each certificate below an anchor an OCSP response (from its AIA) or else a CRL (from its
 * distribution points) — and append them as a DSS in one incremental update, so the document still validates once the
 * responders are gone and the certificates have expired. Nothing is written unless every answer was fetched and
 * checked: a responder that is down or slow fails the call (UNAVAILABLE / DEADLINE_EXCEEDED).
 */
import type { Hash } from 'node:crypto';
import { Certificate } from '../crypto/certificate.ts';
import { signatureTimestampTokens } from '../crypto/timestamp-token.ts';
import { crlUrls, fetchCrl, fetchOcsp, ocspUrls, type RevocationAnswer } from '../crypto/revocation.ts';
import { SealdError } from '../errors.ts';
import { PdfDocument } from '../pdf/document.ts';
import { prepareDss, readDss } from '../pdf/dss.ts';
import { PdfString } from '../pdf/objects.ts';
import { AppendedSource, type ByteSource } from '../pdf/source.ts';
import { parseCms } from '../crypto/signed-data.ts';
import { Budget, DEFAULT_VERIFY_LIMITS } from '../pdf/limits.ts';
import { signatureFields } from '../pdf/signature-fields.ts';
import { certificationPath } from '../crypto/trust.ts';
import { timestampDocument } from './doc-timestamp.ts';
import type { Timestamper } from './seal.ts';

export interface LtvOptions {
  /** DER trust anchors: chains end there, and anchors need no revocation data. */
  anchors: readonly Uint8Array[];
  /** Time allowed to one OCSP responder or CRL server. */
  timeoutMs: number;
  /** An OCSP responder to ask for certificates that name none in their AIA (config `ltv.ocsp_url`). */
  ocspResponder?: string;
  /** B-LTA: a document time-stamp from these TSAs over the document with its DSS. */
  timestamper?: Timestamper;
  signal?: AbortSignal;
  sourceDigest?: Hash;
}

export interface LtvOutcome {
  /** The update(s) to append after the original bytes: the DSS revision, then the document time-stamp if asked. */
  appended: Uint8Array;
  /** Validation data the DSS gained (what it already held is not repeated). */
  added: { certificates: number; ocsps: number; crls: number };
  /** Certificates for which no revocation source was named (no AIA OCSP, no CRL distribution point). */
  withoutRevocationSource: string[];
  /** Signatures and time-stamps whose certificates were gathered. */
  signatures: number;
  /** The document time-stamp's genTime, for B-LTA. */
  timestampTime?: Date;
  /** 1-based number of the last revision written. */
  revision: number;
}

export async function addValidationData(source: ByteSource, options: LtvOptions): Promise<LtvOutcome> {
  const doc = PdfDocument.open(source);
  const leaves: Uint8Array[] = [];
  const pool: Uint8Array[] = [...readDss(doc).certificates];
  const fields = signatureFields(doc, new Budget(DEFAULT_VERIFY_LIMITS));
  for (const field of fields) {
    const contents = field.sig.get('Contents');
    if (!(contents instanceof PdfString)) continue;
    for (const cms of [contents.bytes, ...signatureTimestampTokens(contents.bytes).map((t) => t.token)]) {
      // Document time-stamps and signature time-stamps are tokens: CMS with an encapsulated TSTInfo.
      const parsed = parseCms(cms, { encapsulated: true });
      if (!parsed.ok || parsed.cms.signerCertificate === undefined) continue;
      leaves.push(parsed.cms.signerCertificate);
      pool.push(...parsed.cms.certificates);
    }
  }
  if (leaves.length === 0) {
    throw new SealdError('invalid-input', 'NOT_SIGNED', 'the document has no signature or time-stamp to add validation data for');
  }

  const certificates = new Map<string, Uint8Array>();
  const withoutRevocationSource: string[] = [];
  const answers: RevocationAnswer[] = [];
  const fetched = new Set<string>();
  for (const leaf of leaves) {
    for (const [cert, issuer] of chainOf(leaf, pool, options.anchors)) {
      certificates.set(key(cert), cert);
      if (issuer === undefined) continue; // an anchor: trusted as such
      certificates.set(key(issuer), issuer);
      if (fetched.has(key(cert))) continue;
      fetched.add(key(cert));
      const answer = await revocationOf(cert, issuer, options);
      if (answer === undefined) withoutRevocationSource.push(Certificate.tryFrom(cert)?.subjectLine ?? '(unreadable certificate)');
      else {
        answers.push(answer);
        for (const responder of answer.certificates) certificates.set(key(responder), responder);
      }
    }
  }
  if (options.signal?.aborted) throw new SealdError('cancelled', 'CANCELLED', 'the call was cancelled; nothing was written');

  const dss = prepareDss(doc, {
    certificates: [...certificates.values()],
    ocsps: answers.filter((a) => a.kind === 'ocsp').map((a) => a.der),
    crls: answers.filter((a) => a.kind === 'crl').map((a) => a.der),
  });
  let appended: Uint8Array = dss.bytes ?? new Uint8Array(0);
  let revision = doc.revisionCount + (dss.bytes === undefined ? 0 : 1);
  const outcome: LtvOutcome = { appended, added: dss.added, withoutRevocationSource, signatures: leaves.length, revision };
  if (options.timestamper !== undefined) {
    // B-LTA: the time-stamp covers the document with its validation data.
    const withDss = new AppendedSource(source, appended);
    const stamped = await timestampDocument(withDss, options.timestamper, {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      // The receiver's hash of the document, continued over the DSS revision: the document is not read again.
      ...(options.sourceDigest === undefined ? {} : { sourceDigest: options.sourceDigest.copy().update(appended) }),
    });
    appended = Buffer.concat([appended, stamped.appended]);
    revision = stamped.revision;
    return { ...outcome, appended, revision, timestampTime: stamped.timestampTime };
  }
  return outcome;
}

/**
 * [certificate, its issuer] from the leaf up, as the verifier builds the path (src/crypto/trust.ts); the anchor, or the
 * last certificate whose issuer is not at hand, comes with no issuer (nothing to ask about it).
 */
function chainOf(leaf: Uint8Array, pool: readonly Uint8Array[], anchors: readonly Uint8Array[]): [Uint8Array, Uint8Array | undefined][] {
  const cert = Certificate.tryFrom(leaf);
  if (cert === undefined) return [];
  const { chain, anchor } = certificationPath(cert, pool, anchors);
  const path = anchor === undefined || anchor.equals(chain.at(-1)!) ? chain : [...chain, anchor];
  return path.map((c, i) => {
    const isAnchor = anchor !== undefined && c.equals(anchor);
    const issuer = isAnchor ? undefined : path[i + 1];
    return [c.der, issuer?.der];
  });
}

/**
 * OCSP first (smaller, per certificate) from the certificate's AIA or else the configured responder, then the CRL;
 * undefined when there is no source at all.
 */
async function revocationOf(cert: Uint8Array, issuer: Uint8Array, options: LtvOptions): Promise<RevocationAnswer | undefined> {
  const subject = Certificate.from(cert);
  const parent = Certificate.from(issuer);
  const fetchOptions = { timeoutMs: options.timeoutMs, ...(options.signal === undefined ? {} : { signal: options.signal }) };
  const ocsp = ocspUrls(subject)[0] ?? options.ocspResponder;
  if (ocsp !== undefined) return fetchOcsp(subject, parent, ocsp, fetchOptions);
  const crl = crlUrls(subject)[0];
  if (crl !== undefined) return fetchCrl(subject, parent, crl, fetchOptions);
  return undefined;
}

function key(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
}
