/**
 * One signature's integrity and signer: the /ByteRange checks that defeat the universal-signature-forgery and
 * signature-wrapping attacks (exactly two ranges, from 0, the gap exactly this dictionary's /Contents hex string and
 * nothing else, the end at the end of a revision — ISO 32000-1 §12.8.1, ISO 32000-2 §12.8.1), then the CMS
 * (cms.ts) over the digest of those ranges, then trust in the signer (trust.ts).
 */
import { checkTimestampTokenOver, signatureTimestampTokens, timestampImprintHash, type TimestampToken } from '../../crypto/timestamp-token.ts';
import { SealdError } from '../../errors.ts';
import type { PdfDocument } from '../../pdf/document.ts';
import { PdfString } from '../../pdf/objects.ts';
import type { Revision, RevisionLayout } from '../../pdf/revisions.ts';
import type { ByteSource } from '../../pdf/source.ts';
import { checkCms, digestRanges, parseCms, sm2ContentHash, type Integrity, type ParsedCms } from '../../crypto/signed-data.ts';
import { createHash } from 'node:crypto';
import { DerError, equalBytes, readTlv } from '../../crypto/der.ts';
import { placementOf } from '../../pdf/placement-record.ts';
import { sealKindRecordOf } from '../../pdf/seal-kind-record.ts';
import { describeSigner, type SignatureReport } from './report.ts';
import { locateContents, signatureFields, type SignatureField } from '../../pdf/signature-fields.ts';
import type { Budget } from '../../pdf/limits.ts';
import { isSesSignature } from '../../crypto/signed-data.ts';
import { checkElectronicSeal } from './gm-seal.ts';
import { judgeSignerTrust, tsaTrust, type TrustContext } from './trust-context.ts';
import { checkX509RsaSha1 } from './x509-rsa-sha1.ts';
import { sm3 } from '../../crypto/sm3.ts';

export interface CheckContext extends TrustContext {
  budget: Budget;
}

/** A /Contents larger than this (as hex) is no signature anyone makes. */
const MAX_CONTENTS_HEX = 16 * 1024 * 1024;

export async function checkSignature(
  source: ByteSource,
  doc: PdfDocument,
  field: SignatureField,
  layout: RevisionLayout,
  docAt: (rev: Revision) => PdfDocument,
  context: CheckContext,
): Promise<CheckedSignature> {
  const sig = field.sig;
  const m = doc.resolve(sig.get('M'));
  const claimed = m instanceof PdfString ? parsePdfDate(m.asText()) : undefined;
  const report: SignatureReport = {
    field: field.name,
    revision: null,
    placement: placementOf(doc, sig),
    sealKind: sealKindRecordOf(doc, sig),
    signer: null,
    claimedSigningTime: claimed?.toISOString() ?? null,
    timestampTime: null,
    signatureTimestamp: 'NONE',
    level: null,
    subFilter: sig.name('SubFilter') ?? null,
    digestAlgorithm: null,
    signatureAlgorithm: null,
    byteRange: null,
    integrity: 'INTACT',
    coversWholeDocument: false,
    changesAfter: 'NONE',
    changes: [],
    trust: 'UNKNOWN',
    verdict: 'INDETERMINATE',
    reasons: [],
    weakAlgorithm: null,
  };
  const fail = (integrity: SignatureReport['integrity'], reason: string): CheckedSignature => {
    report.integrity = integrity;
    report.reasons.push(reason);
    return { report, revocationEmbedded: false };
  };

  // /ByteRange [0 a b c]: exactly two ranges, the first from 0.
  const raw = doc.resolve(sig.get('ByteRange'));
  if (!Array.isArray(raw)) return fail('BAD_BYTERANGE', 'the signature has no /ByteRange array');
  const br = raw.map((x) => doc.resolve(x));
  if (br.length !== 4 || !br.every((x): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    return fail('BAD_BYTERANGE', `the /ByteRange must be four non-negative integers (two ranges), not ${br.length} values`);
  }
  const [a, b, c, d] = br as [number, number, number, number];
  report.byteRange = [a, b, c, d];
  if (a !== 0) return fail('BAD_BYTERANGE', `the /ByteRange starts at ${a}, not at the beginning of the file`);
  if (c <= b) return fail('BAD_BYTERANGE', 'the /ByteRange ranges overlap or leave no gap for /Contents');
  const end = c + d;
  if (end > source.size) return fail('BAD_BYTERANGE', `the /ByteRange ends at ${end}, after the end of the file (${source.size} bytes): the file is truncated`);
  report.coversWholeDocument = end === source.size;
  const revision = layout.revisions.find((r) => r.end === end || r.eofEnd === end);
  if (!revision) return fail('BAD_BYTERANGE', `the /ByteRange ends at ${end}, which is not the end of a revision`);
  report.revision = revision.number;

  // The signed revision must contain this very signature, and the gap must be exactly its /Contents string.
  const revDoc = docAt(revision);
  // The signature dictionary is an indirect object, or direct inside an indirect field (§12.7.4.5): the same one.
  const signed = signatureFields(revDoc, context.budget).find((f) => f.name === field.name);
  const same = signed !== undefined && (signed.sigRef
    ? signed.sigRef.num === field.sigRef?.num
    : field.sigRef === undefined && signed.fieldRef !== undefined && signed.fieldRef.num === field.fieldRef?.num);
  if (!signed || !same) {
    return fail('BAD_BYTERANGE', `the revision the /ByteRange ends with (${revision.number}) does not contain this signature`);
  }
  const where = locateContents(revDoc, signed.sigRef, signed.fieldRef);
  if (!where || where[0] !== b || where[1] !== c) {
    return fail('BAD_BYTERANGE', `the unsigned gap [${b}, ${c}) is not exactly the /Contents string of the signature dictionary`);
  }
  if (c - b > MAX_CONTENTS_HEX) return fail('BAD_BYTERANGE', `the /Contents string is ${c - b} bytes long, more than any signature`);
  const gap = Buffer.from(source.read(b, c - b)).toString('latin1');
  if (!/^<[0-9A-Fa-f]*>$/.test(gap)) return fail('BAD_BYTERANGE', 'the unsigned gap holds more than hex digits');
  const contents = revDoc.resolve(signed.sig.get('Contents'));
  if (!(contents instanceof PdfString)) return fail('BAD_CMS', 'the signature has no /Contents string');

  if (report.subFilter === 'ETSI.RFC3161') {
    // A document time-stamp: /Contents is a TimeStampToken over the SHA-256 of the byte ranges (§12.8.5).
    // Its messageImprint names the hash (RFC 3161 §2.4.1): SHA-256 usually, SHA-384/512 from some TSAs.
    let token: TimestampToken;
    try {
      const tokenDer = readTlv(contents.bytes).bytes;
      const node = timestampImprintHash(tokenDer) ?? 'sha256';
      const digest = await digestRanges((s, e) => source.chunks(s, e), [[a, b], [c, d]], node);
      token = await checkTimestampTokenOver(tokenDer, digest, true);
    } catch (error) {
      if (error instanceof DerError) return fail('BAD_CMS', `the time-stamp token is not DER: ${error.message}`);
      const code = error instanceof SealdError ? error.code : '';
      return fail(code === 'TSA_WRONG_IMPRINT' ? 'DIGEST_MISMATCH' : 'BAD_SIGNATURE', (error as Error).message);
    }
    report.digestAlgorithm = (timestampImprintHash(readTlv(contents.bytes).bytes) ?? 'sha256').toUpperCase().replace('SHA', 'SHA-');
    report.signer = describeSigner(token.tsaCertificate);
    report.timestampTime = token.genTime.toISOString();
    const result = tsaTrust(token, context);
    report.trust = result.trust;
    report.reasons.push(...result.reasons.filter((r) => !r.includes('no timestamp proves')));
    return { report, revocationEmbedded: result.revocationSource !== undefined };
  }
  // A GB/T 38540 / GM/T 0031 electronic seal (国密), under /fxit.sm.detached or in place of a CMS: gm-seal.ts.
  if (isSesSignature(contents.bytes)) {
    const revocationEmbedded = await checkElectronicSeal(source, contents.bytes, [[a, b], [c, d]], report, context, claimed);
    return { report, revocationEmbedded };
  }
  // ISO 32000-1 §12.8.3.2: a PKCS#1 RSA signature of the SHA-1 digest, the certificates in /Cert (x509-rsa-sha1.ts).
  if (report.subFilter === 'adbe.x509.rsa_sha1') {
    const x509 = { source, doc: revDoc, sig: signed.sig, contents: contents.bytes, ranges: [[a, b], [c, d]] as [number, number][], claimed };
    const revocationEmbedded = await checkX509RsaSha1(x509, report, context);
    return { report, revocationEmbedded };
  }
  // ISO 32000-1 §12.8.3.3, ISO 32000-2 §12.8.3.4: these hold a CMS; another SubFilter (GB/T 38540 seals under /fxit.sm.detached) is UNSUPPORTED, not BAD_CMS
  if (report.subFilter !== null && !['adbe.pkcs7.detached', 'adbe.pkcs7.sha1', 'ETSI.CAdES.detached'].includes(report.subFilter)) {
    return fail('UNSUPPORTED', `/Filter /${sig.name('Filter') ?? '(none)'} /SubFilter /${report.subFilter} is not a signature format seald verifies${report.subFilter.startsWith('fxit.sm.') ? ': a GB/T 38540 / GM/T 0031 electronic seal carrier whose /Contents is no SES_Signature seald recognises' : ''}`);
  }
  // ISO 32000-1 §12.8.3.3.1: under adbe.pkcs7.sha1 the CMS encapsulates the SHA-1 digest of the byte ranges (eContent)
  // and signs that content; every other CMS SubFilter is detached.
  const sha1Content = report.subFilter === 'adbe.pkcs7.sha1';
  const parsed = parseCms(contents.bytes, { anyShape: true });
  if (!parsed.ok) return fail(parsed.integrity, parsed.reason);
  const cms = parsed.cms;
  // A well-formed CMS in a shape PAdES forbids is no broken CMS: what can be checked is, the format is reported.
  const enveloping = !sha1Content && cms.content !== undefined;
  const formatFailure = notPadesShape(cms, enveloping);
  if (formatFailure !== undefined) {
    report.formatFailure = formatFailure;
    report.reasons.push(formatFailure);
  }
  report.digestAlgorithm = cms.digestAlgorithm;
  report.signatureAlgorithm = cms.signatureAlgorithm;
  if (cms.signerCertificate) report.signer = describeSigner(cms.signerCertificate);
  if (!cms.digestNode) return fail('UNSUPPORTED', `unsupported digest algorithm ${cms.digestAlgorithm}`);
  // One pass over the signed bytes: an SM2 signature without signed attributes signs SM3(Z || content) and has no
  // message-digest to compare, so its pass replaces the plain digest (checkCms does not read it then).
  const ranges: [number, number][] = [[a, b], [c, d]];
  const sm2E = await sm2ContentHash(cms, (s, e) => source.chunks(s, e), ranges);
  // An enveloping CMS needs the plain digest too: its eContent is compared with the ranges by it (checkEnveloped).
  const digest = sm2E !== undefined && !enveloping ? new Uint8Array(0) : await digestRanges((s, e) => source.chunks(s, e), ranges, cms.digestNode);
  const checked = sha1Content ? await checkPkcs7Sha1(cms, source, ranges)
    : enveloping ? checkEnveloped(cms, digest, report.subFilter ?? undefined, sm2E)
    : checkCms(cms, digest, report.subFilter ?? undefined, undefined, sm2E);
  if (checked.integrity !== 'INTACT') fail(checked.integrity, checked.reason ?? checked.integrity);
  else if (sha1Content || cms.digestNode === 'sha1' || /sha1/i.test(cms.signatureAlgorithm)) report.weakAlgorithm = 'SHA-1';

  // PAdES B-T: a signature time-stamp over the signature value proves when the signature existed, if its token
  // verifies and its TSA chains to a trust anchor; the signer's certificate is then judged at that time.
  let proven: Date | undefined;
  if (report.integrity === 'INTACT') {
    const stamped = await signatureTime(contents.bytes, context, report.reasons);
    report.signatureTimestamp = stamped.status;
    proven = stamped.time;
  }
  if (proven !== undefined) report.timestampTime = proven.toISOString();
  const revocationEmbedded = cms.signerCertificate ? judgeSignerTrust(report, cms.signerCertificate, cms.certificates, context, proven, claimed) : false;
  return { report, revocationEmbedded };
}

export interface CheckedSignature {
  report: SignatureReport;
  /** The signer's revocation status was found in embedded validation data (DSS): part of PAdES B-LT. */
  revocationEmbedded: boolean;
}

/**
 * genTime of the first signature time-stamp that verifies and whose TSA is trusted; reasons say why others do not.
 * A token whose messageImprint is not SHA-256 of this SignerInfo's signature value (RFC 3161 §2.4.2; ETSI EN 319 122-1
 * §5.3), or whose own signature fails, makes the status FAILED even when another token verifies: something in the
 * signature claims a time it cannot prove (a token copied from another signature of the document, a forged one).
 * pyHanko's bottom line and DSS's timestamp HASH_FAILURE both refuse such a signature a clean pass; seald reports it
 * INDETERMINATE (verify.ts), not INVALID: the signer's own signature value is intact, only the unsigned attribute lies.
 */
async function signatureTime(
  cms: Uint8Array,
  context: CheckContext,
  reasons: string[],
): Promise<{ status: SignatureReport['signatureTimestamp']; time: Date | undefined }> {
  const tokens = signatureTimestampTokens(cms);
  let time: Date | undefined;
  let failed = false;
  for (const { token, signatureValue } of tokens) {
    let checked: TimestampToken;
    try {
      checked = await checkTimestampTokenOver(token, signatureValue);
    } catch (error) {
      if (error instanceof SealdError && error.code === 'TSA_UNSUPPORTED_IMPRINT') {
        reasons.push(`the signature time-stamp cannot be checked: ${error.message}`);
        continue;
      }
      failed = true;
      const wrongImprint = error instanceof SealdError && error.code === 'TSA_WRONG_IMPRINT';
      reasons.push(
        wrongImprint
          ? "the signature time-stamp is not for this signature: its messageImprint is not the hash of this signature's value (RFC 3161 §2.4.2); the time it claims is not proven"
          : `the signature time-stamp does not verify: ${(error as Error).message}`,
      );
      continue;
    }
    if (time !== undefined) continue;
    const tsa = tsaTrust(checked, context);
    if (tsa.trust !== 'TRUSTED') {
      reasons.push(`the signature time-stamp's TSA is not trusted (${tsa.trust}): ${tsa.reasons[0] ?? ''}`);
      continue;
    }
    time = checked.genTime;
  }
  if (failed) return { status: 'FAILED', time: undefined };
  if (time !== undefined) return { status: 'VERIFIED', time };
  return { status: tokens.length === 0 ? 'NONE' : 'UNTRUSTED', time: undefined };
}


/** §7.9.4: D:YYYYMMDDHHmmSSOHH'mm' (all but the year optional). */
export function parsePdfDate(text: string): Date | undefined {
  const m = /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz])|([+-])(\d{2})'?(\d{2})?'?)?/.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', z, sign, oh = '00', om = '00'] = m;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (!z && sign) t -= (sign === '+' ? 1 : -1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * adbe.pkcs7.sha1 (ISO 32000-1 §12.8.3.3.1, deprecated in ISO 32000-2): the encapsulated content is the SHA-1 digest
 * of the byte ranges, and the SignerInfo signs it — through signed attributes whose message-digest is the digest of
 * that content (RFC 5652 §5.4), or directly. Both are checked; SHA-1 is then reported as the weak algorithm it is.
 */
async function checkPkcs7Sha1(cms: ParsedCms, source: ByteSource, ranges: [number, number][]): Promise<{ integrity: Integrity; reason?: string }> {
  const content = cms.content?.bytes;
  if (!content) return { integrity: 'BAD_CMS', reason: 'adbe.pkcs7.sha1: the CMS encapsulates no content, where the SHA-1 digest of the signed bytes belongs (ISO 32000-1 §12.8.3.3.1)' };
  const sha1 = await digestRanges((s, e) => source.chunks(s, e), ranges, 'sha1');
  if (!equalBytes(content, sha1)) {
    return { integrity: 'DIGEST_MISMATCH', reason: 'the signed bytes have changed: their SHA-1 digest is not the one the CMS encapsulates (adbe.pkcs7.sha1)' };
  }
  const contentDigest = new Uint8Array(createHash(cms.digestNode!).update(content).digest());
  return checkCms(cms, contentDigest, 'adbe.pkcs7.sha1', undefined, undefined, content);
}

/**
 * Shapes RFC 5652 allows and a PDF signature may not have: ISO 32000-1 §12.8.3.3.1 (adbe.pkcs7.detached: no
 * encapsulated data, one SignerInfo) and ETSI EN 319 142-1 §6.3 (PAdES: a detached CMS with a single signer). EU DSS
 * reports them as "not an ETSI PDF signature" (INDETERMINATE, FORMAT_FAILURE: ETSI EN 319 102-1 §5.2.2, the format
 * checking building block). undefined for the shape PAdES wants (adbe.pkcs7.sha1's encapsulated digest included).
 */
function notPadesShape(cms: ParsedCms, enveloping: boolean): string | undefined {
  const why: string[] = [];
  if (enveloping) why.push('the CMS envelops the signed bytes (eContent present) where a PDF signature\'s CMS is detached');
  if (cms.signerInfos > 1) why.push(`the CMS holds ${cms.signerInfos} SignerInfos where a PDF signature has exactly one (only the first is checked)`);
  if (why.length === 0) return undefined;
  return `not a PAdES signature: ${why.join('; ')} (ISO 32000-1 §12.8.3.3.1, ETSI EN 319 142-1 §6.3) — a well-formed CMS, judged INDETERMINATE with a format failure`;
}

/**
 * An enveloping SignedData (DSS's pades-enveloping-cms.pdf): its eContent must be exactly the bytes the /ByteRange
 * covers — compared by their digest with the CMS's digest algorithm — and the SignerInfo is then checked over it as
 * over a detached signature's bytes (RFC 5652 §5.4: the message digest is over the eContent's octets).
 */
function checkEnveloped(cms: ParsedCms, rangesDigest: Uint8Array, subFilter: string | undefined, sm2E: Uint8Array | undefined): { integrity: Integrity; reason?: string } {
  const content = cms.content!.bytes;
  const contentDigest = cms.digestNode === 'sm3' ? sm3(content) : new Uint8Array(createHash(cms.digestNode!).update(content).digest());
  if (!equalBytes(contentDigest, rangesDigest)) {
    return { integrity: 'DIGEST_MISMATCH', reason: 'the content the CMS envelops is not the bytes the /ByteRange covers: they have changed' };
  }
  return checkCms(cms, rangesDigest, subFilter, undefined, sm2E, content);
}
