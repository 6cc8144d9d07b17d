/**
 * 国密 electronic seals in a PDF: a GB/T 38540-2020 (or GM/T 0031-2014) SES_Signature in a signature's /Contents, as
 * Chinese signing software writes it — under `/Filter /Foxit.SM /SubFilter /fxit.sm.detached`, or in place of a CMS
 * under `adbe.pkcs7.detached`. integrity.ts hands such a /Contents here (recognised by its structure, not its
 * SubFilter); the /ByteRange checks have already passed.
 *
 * What is checked: dataHash against the hash of the byte ranges (SM3 for SM2 seals), the signer's signature over
 * TBS_Sign, the maker's signature over the seal, the signer's certificate among those the seal lists, the signer's
 * and the maker's certificates chained to the trust anchors (the signer's at the signing time, the maker's when the
 * seal was made), the seal's validity period at the signing time, and a time-stamp over the signature value when
 * there is one (RFC 3161, SM3 imprints included).
 */
import { DerError } from '../../crypto/der.ts';
import { parseSesSignature, type SesSignature } from '../../crypto/ses/ses-signature.ts';
import { checkSesSignature, sealValidityAt, sesAlgorithmName, sesDataHashAlgorithm } from '../../crypto/ses/ses-verify.ts';
import { digestRanges } from '../../crypto/signed-data.ts';
import { checkTimestampTokenOver } from '../../crypto/timestamp-token.ts';
import { evaluateTrust } from '../../crypto/trust.ts';
import { SealdError } from '../../errors.ts';
import type { ByteSource } from '../../pdf/source.ts';
import type { ElectronicSealReport } from './gm-seal-report.ts';
import { describeSigner, type SignatureReport } from './report.ts';
import { tsaTrust, type TrustContext } from './trust-context.ts';

/**
 * Fills `report` for the SES_Signature in `contents`. Returns true when the signer's revocation status was found in
 * embedded validation data. A structure seald cannot read is UNSUPPORTED (never BAD_CMS: it is no CMS).
 */
export async function checkElectronicSeal(
  source: ByteSource,
  contents: Uint8Array,
  ranges: [number, number][],
  report: SignatureReport,
  context: TrustContext,
  claimed: Date | undefined,
): Promise<boolean> {
  let ses: SesSignature;
  try {
    ses = parseSesSignature(contents);
  } catch (error) {
    if (!(error instanceof DerError) && !(error instanceof RangeError)) throw error;
    report.integrity = 'UNSUPPORTED';
    const carrier = report.subFilter === null ? '' : ` (/SubFilter /${report.subFilter})`;
    report.reasons.push(`/Contents${carrier} holds a GB/T 38540 / GM/T 0031 electronic seal signature (SES_Signature) that seald cannot read: ${error.message}`);
    return false;
  }
  const hash = sesDataHashAlgorithm(ses);
  report.digestAlgorithm = hash === undefined ? null : hash.toUpperCase().replace('SHA', 'SHA-');
  report.signatureAlgorithm = sesAlgorithmName(ses.signatureAlgorithm);
  report.signer = describeSigner(ses.signerCertificate);
  const seal = ses.seal;
  const sealReport: ElectronicSealReport = {
    format: ses.layout,
    version: seal.version,
    vendor: seal.vid,
    code: seal.esID,
    name: seal.name,
    type: seal.type,
    createDate: seal.createDate?.toISOString() ?? null,
    validStart: seal.validStart?.toISOString() ?? null,
    validEnd: seal.validEnd?.toISOString() ?? null,
    validity: 'UNKNOWN',
    signingTime: ses.timeInfo?.toISOString() ?? null,
    propertyInfo: ses.propertyInfo,
    picture: { type: seal.picture.type, width: seal.picture.width, height: seal.picture.height, data: Buffer.from(seal.picture.data).toString('base64') },
    maker: describeSigner(seal.makerCertificate),
    makerSignature: 'UNSUPPORTED',
    makerTrust: 'UNKNOWN',
  };
  report.seal = sealReport;
  // GB/T 38540-2020 §6 SES_ESPropertyInfo.type: 1 a unit's (organisation's) seal, 2 a personal seal; other values
  // are the issuer's own and name no kind seald knows.
  report.sealKind ??= GB_SEAL_TYPE_KIND[seal.type] ?? null;
  if (hash === undefined) {
    report.integrity = 'UNSUPPORTED';
    report.reasons.push(`the seal signature's algorithm ${ses.signatureAlgorithm} names no hash seald knows for dataHash`);
    return false;
  }

  const digest = await digestRanges((s, e) => source.chunks(s, e), ranges, hash);
  const checked = checkSesSignature(ses, digest);
  sealReport.makerSignature = checked.sealSignature;
  report.integrity = checked.integrity;
  if (checked.reason) report.reasons.push(checked.reason);
  if (checked.integrity !== 'INTACT') return false;

  // The time: a verified time-stamp over the signature value proves it; timeInfo and /M are the signer's claims.
  let proven: Date | undefined;
  if (ses.timeStamp) {
    try {
      const token = await checkTimestampTokenOver(ses.timeStamp, ses.signature);
      const tsa = tsaTrust(token, context);
      if (tsa.trust === 'TRUSTED') {
        proven = token.genTime;
        report.signatureTimestamp = 'VERIFIED';
        report.timestampTime = token.genTime.toISOString();
      } else {
        report.signatureTimestamp = 'UNTRUSTED';
        report.reasons.push(`the seal's time-stamp's TSA is not trusted (${tsa.trust}): ${tsa.reasons[0] ?? ''}`);
      }
    } catch (error) {
      report.signatureTimestamp = 'FAILED';
      report.reasons.push(`the seal's time-stamp does not verify: ${error instanceof SealdError || error instanceof Error ? error.message : String(error)}`);
    }
  }
  const at = proven ?? ses.timeInfo ?? claimed ?? context.now;
  const pool = [seal.makerCertificate, ...seal.certList, ...context.dss.certs];
  const signer = evaluateTrust({
    signer: ses.signerCertificate,
    pool,
    anchors: context.anchors,
    crls: context.dss.crls,
    ocsps: context.dss.ocsps,
    at,
    timeProven: proven !== undefined,
  });
  report.trust = signer.trust;
  const claimedTime = proven === undefined && ses.timeInfo ? 'the signing time the seal signature claims (timeInfo)' : undefined;
  report.reasons.push(...signer.reasons.map((r) => (claimedTime ? r.replace('the claimed signing time (/M)', claimedTime) : r)));
  // GB/T 38540: the maker's certificate must be valid and trusted when the seal was made.
  const maker = evaluateTrust({
    signer: seal.makerCertificate,
    pool,
    anchors: context.anchors,
    crls: context.dss.crls,
    ocsps: context.dss.ocsps,
    at: seal.createDate ?? at,
    timeProven: false,
  });
  sealReport.makerTrust = maker.trust;
  if (maker.trust !== 'TRUSTED') {
    const why = maker.reasons.find((r) => !r.includes('no timestamp proves')) ?? '';
    report.reasons.push(`the seal maker's certificate is ${maker.trust}: ${why.replace('the claimed signing time', 'the time the seal was made (createDate)')}`);
    if (report.trust === 'TRUSTED') report.trust = maker.trust === 'REVOKED' ? 'REVOKED' : 'UNTRUSTED';
  }
  sealReport.validity = sealValidityAt(seal, at);
  if (sealReport.validity === 'EXPIRED' || sealReport.validity === 'NOT_YET_VALID') {
    report.reasons.push(
      `the seal "${seal.name}" (${seal.esID}) was ${sealReport.validity === 'EXPIRED' ? 'expired' : 'not yet valid'} when it was used: valid ${seal.validStart!.toISOString()} to ${seal.validEnd!.toISOString()}, signed at ${at.toISOString()}`,
    );
    if (report.trust === 'TRUSTED') report.trust = sealReport.validity;
  } else if (sealReport.validity === 'UNKNOWN') {
    report.reasons.push("the seal's validity period cannot be read");
  }
  if (proven === undefined && !ses.timeInfo && !claimed) report.reasons.push('the seal signature claims no signing time: certificates checked at the current time');
  return signer.revocationSource !== undefined;
}

/** The kind names (src/auth/seal-kinds.ts) of GB/T 38540's seal types. */
const GB_SEAL_TYPE_KIND: Record<number, string> = { 1: 'official', 2: 'personal' };
