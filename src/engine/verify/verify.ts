/**
 * Verify every signature of a PDF and what happened after it: the entry point of `seald verify` and the Verify RPC.
 *
 *   1. the revisions: the xref chain laid onto the file's `%%EOF` markers (src/pdf/revisions.ts); a file damaged or
 *      truncated after its last complete revision is verified up to it, and the rest reported as an unaccounted change;
 *   2. per signature: the /ByteRange (integrity.ts), the CMS (cms.ts), the signer's trust (trust.ts);
 *   3. per later revision: what it changed (changes.ts), judged by the DocMDP/FieldMDP in force (policy.ts);
 *   4. verdicts: a signature is VALID when intact, trusted and followed only by allowed changes.
 *
 * Hostile input ends in INVALID or INDETERMINATE with a reason (limits.ts), never in an exception.
 */
import { SealdError } from '../../errors.ts';
import { PdfDocument } from '../../pdf/document.ts';
import { PdfRef, PdfStream, type PdfObject } from '../../pdf/objects.ts';
import { afterEol, findEofMarkers, prefixSource, type Revision, type RevisionLayout } from '../../pdf/revisions.ts';
import { layoutForVerify, openForVerify } from '../../pdf/repaired-base.ts';
import type { ByteSource } from '../../pdf/source.ts';
import { analyseRevision, type RawChange } from './changes.ts';
import { permsOf } from './perms.ts';
import { checkSignature } from './integrity.ts';
import { Budget, DEFAULT_VERIFY_LIMITS, LimitExceeded, type VerifyLimits } from '../../pdf/limits.ts';
import { certificationOf, judge, locksOf, type Certification, type FieldLock } from './policy.ts';
import { algorithmFamilyOf, worse, type SignatureReport, type VerificationReport } from './report.ts';
import { indicationOf, subIndicationOf } from './indications.ts';
import { signatureFields, type SignatureField } from '../../pdf/signature-fields.ts';
import { VisualCheck, type VisualCheckOptions } from './visual-check.ts';

export interface VerifyOptions {
  /** DER certificates of the trust anchors. */
  trustAnchors: Uint8Array[];
  limits?: Partial<VerifyLimits>;
  /** The time to check certificates at when a signature claims no time (default now). */
  now?: Date;
  /** Strict mode: no annotation change allowed after any signature (policy.ts judge); default false. */
  strict?: boolean;
  /** The visual shadow check (visual-check.ts): its renderer and budget; absent, a needed check is SKIPPED. */
  visual?: VisualCheckOptions;
}

export async function verifyDocument(source: ByteSource, options: VerifyOptions): Promise<VerificationReport> {
  return withIndications(await verifyOrFail(source, options), options.strict === true);
}

/** The report, or a failed one for a document that cannot be analysed within the limits. */
async function verifyOrFail(source: ByteSource, options: VerifyOptions): Promise<VerificationReport> {
  const budget = new Budget({ ...DEFAULT_VERIFY_LIMITS, ...options.limits });
  try {
    return await verifyWithin(source, options, budget);
  } catch (error) {
    if (error instanceof LimitExceeded) return failed('INDETERMINATE', `verification stopped: ${error.message}`);
    if (error instanceof SealdError) return failed('INVALID', error.message);
    if (error instanceof RangeError || error instanceof TypeError) {
      // A structure deep or strange enough to trip the runtime: still an answer, not a crash.
      return failed('INVALID', `the PDF cannot be analysed: ${error.message.slice(0, 200)}`);
    }
    throw error;
  }
}

function failed(verdict: 'INVALID' | 'INDETERMINATE', reason: string, revisions = 0): VerificationReport {
  return { reportVersion: 1, verdict, reasons: [reason], revisions, lastRevisionCovered: false, signatures: [] };
}

async function verifyWithin(source: ByteSource, options: VerifyOptions, budget: Budget): Promise<VerificationReport> {
  const eofs = await findEofMarkers(source);
  const opened = openLastComplete(source, eofs);
  if ('error' in opened) return failed(opened.verdict, opened.error);
  const { doc } = opened;
  // An original seald repaired before sealing it is read by recovery, every signed revision strictly (repaired-base.ts).
  const layout = layoutForVerify(doc, eofs.filter((e) => e <= doc.source.size));
  const revisions = layout.revisions;
  const docs = new Map<number, PdfDocument>();
  const docAt = (rev: Revision): PdfDocument => {
    let d = docs.get(rev.number);
    if (!d) {
      d = rev.end >= doc.source.size ? doc : openForVerify(doc.source, rev, layout);
      docs.set(rev.number, d);
    }
    return d;
  };

  // What each update changed, and what no revision accounts for.
  const changes: RawChange[] = [];
  for (let i = 1; i < revisions.length; i++) {
    budget.time();
    changes.push(...analyseRevision(docAt(revisions[i - 1]!), docAt(revisions[i]!), revisions[i]!, budget));
  }
  changes.push(...unaccounted(source, layout, opened.damaged));

  // Signatures of every revision: one that a later revision dropped from the form is still reported (and its
  // changes after show how it was dropped).
  const fields: { field: SignatureField; doc: PdfDocument; otherFields: string[] }[] = [];
  const seen = new Map<string, (typeof fields)[number]>();
  for (const rev of [...revisions].reverse()) {
    const at = docAt(rev);
    for (const field of signatureFields(at, budget)) {
      // One signature dictionary, however many revisions list it: by its object, or by its field's when it is direct.
      // Two fields whose /V is the same dictionary (a writer's habit, DSS's signature-referenced-from-multiple-fields
      // .pdf) are one signature: judged once, both names reported.
      const key = field.sigRef ? `sig ${field.sigRef.num}` : field.fieldRef ? `field ${field.fieldRef.num}` : `${rev.number}:${field.name}`;
      const earlier = seen.get(key);
      if (earlier) {
        if (field.name !== earlier.field.name && !earlier.otherFields.includes(field.name)) earlier.otherFields.push(field.name);
        continue;
      }
      const entry = { field, doc: at, otherFields: [] };
      seen.set(key, entry);
      fields.push(entry);
    }
    if (fields.length > budget.limits.maxSignatures) break;
  }
  if (fields.length > budget.limits.maxSignatures) {
    return failed('INDETERMINATE', `the document has ${fields.length} signatures, more than the limit of ${budget.limits.maxSignatures}`, revisions.length);
  }
  let certification: Certification | undefined;
  const locks: FieldLock[] = [];
  const reports: SignatureReport[] = [];
  const revocationEmbedded = new Set<SignatureReport>();
  const dss = dssMaterial(doc);
  const perms = permsOf(doc);
  for (const { field, doc: at, otherFields } of fields) {
    budget.time();
    const checked = await checkSignature(source, at, field, layout, docAt, {
      budget,
      anchors: options.trustAnchors,
      dss,
      now: options.now ?? new Date(),
    });
    if (otherFields.length > 0) {
      checked.report.otherFields = otherFields;
      checked.report.reasons.push(`the same signature dictionary is also the value of field${otherFields.length > 1 ? 's' : ''} ${otherFields.map((f) => `"${f}"`).join(', ')}: one signature, judged once`);
    }
    reports.push(checked.report);
    if (checked.revocationEmbedded) revocationEmbedded.add(checked.report);
    const sigNum = field.sigRef?.num;
    if (sigNum !== undefined && sigNum === perms.docMdp) checked.report.perms = 'DocMDP';
    const rights = perms.usageRights.find((u) => u.num !== undefined && u.num === sigNum);
    if (rights) checked.report.perms = rights.entry;
    const revision = checked.report.revision;
    const level = certificationOf(at, field, revision ?? 0)?.p;
    if (level !== undefined) checked.report.certificationLevel = level;
    if (revision === null) continue;
    const c = certificationOf(at, field, revision);
    if (c && (!certification || c.revision < certification.revision)) certification = c;
    locks.push(...locksOf(at, field, revision));
  }
  reports.sort((x, y) => (x.revision ?? Infinity) - (y.revision ?? Infinity));
  const first = reports.find((r) => r.revision !== null);
  const judged = judge(changes, certification, locks, options.strict === true, first ? { revision: first.revision!, field: first.field } : undefined);

  const visualCheck = new VisualCheck(source, doc, doc.source.size, options.visual ?? {}, budget);
  for (const r of reports) {
    const after = r.revision === null ? [] : judged.filter((c) => c.revision > r.revision!);
    if (r.revision !== null) {
      const signed = revisions[r.revision - 1]!;
      const visual = await visualCheck.check(docAt(signed), signed.end, after);
      r.visualCheck = visual.report;
      if (visual.change) after.push(visual.change);
    }
    r.changes = after;
    r.changesAfter = after.length === 0 ? 'NONE' : after.every((c) => c.allowed) ? 'ALLOWED' : 'NOT_ALLOWED';
    if (r.changesAfter === 'NOT_ALLOWED') {
      const bad = after.filter((c) => !c.allowed);
      r.reasons.push(`changed after signing in a way that is not allowed: ${bad.slice(0, 5).map((c) => c.description).join('; ')}${bad.length > 5 ? `; and ${bad.length - 5} more` : ''}`);
    }
    r.verdict = signatureVerdict(r);
    if (r.weakAlgorithm && r.verdict === 'INDETERMINATE' && r.trust === 'TRUSTED' && r.integrity === 'INTACT' && r.changesAfter !== 'NOT_ALLOWED') {
      r.reasons.push(`the signature relies on ${r.weakAlgorithm}, a weak algorithm: acceptable only with a time-stamp from before its sunset (2012-08-01, as EU DSS's default policy), and none proves that`);
    }
  }
  assignLevels(reports, revocationEmbedded, firstDssRevision(revisions, docAt));

  const reasons: string[] = [];
  let verdict: VerificationReport['verdict'] = 'VALID';
  if (reports.length === 0) {
    verdict = 'INDETERMINATE';
    reasons.push(NO_SIGNATURES);
  }
  for (const r of reports) {
    verdict = worse(verdict, r.verdict);
    if (r.verdict !== 'VALID') reasons.push(`signature "${r.field}": ${r.verdict}`);
  }
  if (opened.damaged) {
    verdict = worse(verdict, 'INVALID');
    reasons.push(opened.damaged);
  }
  // Structure that hides or rewrites history is forged whether or not a signature it hides is still found — once a
  // signature exists to be fooled. Up to the first signed revision every signature covers the bytes as they are, so
  // a writer's quirk there fools no one (MS Word's hybrid files: an empty update whose /XRefStm, in the original's
  // bytes, lists the original's compressed objects; DSS's TEST2_signed_with_zero_policy_hash.pdf).
  const tricks = judged.filter((c) => STRUCTURAL_TRICKS.has(c.kind) && (first === undefined || c.revision > first.revision!));
  if (tricks.length > 0) {
    verdict = worse(verdict, 'INVALID');
    reasons.push(`the file's structure hides or rewrites revisions: ${tricks.slice(0, 3).map((c) => c.description).join('; ')}`);
  }
  const lastRevision = revisions.length;
  const lastRevisionCovered =
    !opened.damaged && reports.some((r) => r.revision === lastRevision && r.integrity === 'INTACT' && r.coversWholeDocument);
  if (!lastRevisionCovered && reports.length > 0 && verdict === 'VALID') {
    reasons.push(`the last revision (${lastRevision}) is not covered by a signature; its changes are allowed`);
  }
  if (verdict === 'VALID' && reasons.length === 0) reasons.push('every signature is intact and trusted, and nothing not allowed changed after it');
  // Usage rights signatures no field holds (§12.8.2.3): reported with the rights they grant, not judged.
  const reportedSigs = new Set(fields.map((f) => f.field.sigRef?.num).filter((n) => n !== undefined));
  const usageRights = perms.usageRights.filter((u) => u.num === undefined || !reportedSigs.has(u.num)).map(({ num: _num, ...u }) => u);
  for (const u of usageRights) {
    reasons.push(`a usage rights signature (/Perms /${u.entry}${u.name ? `, "${u.name}"` : ''}) enables in its vendor's reader: ${u.permissions.join('; ') || 'nothing listed'}; it approves no content and is not judged`);
  }
  const repaired = layout.repairedBase;
  if (repaired !== undefined) {
    reasons.push(`the original (revision${repaired.revisions === 1 ? '' : 's'} 1${repaired.revisions === 1 ? '' : `–${repaired.revisions}`}, signed by none) was damaged and is read by repairing it: ${repaired.reason}`);
  }
  return {
    reportVersion: 1,
    verdict,
    reasons,
    revisions: revisions.length,
    lastRevisionCovered,
    signatures: reports,
    ...(repaired === undefined ? {} : { repairedOriginal: { revisions: repaired.revisions, end: repaired.end, reason: repaired.reason } }),
    ...(usageRights.length === 0 ? {} : { usageRights }),
  };
}

/** ETSI EN 319 102-1 indications per signature and for the document (indications.ts); the strict flag. */
function withIndications(report: VerificationReport, strict: boolean): VerificationReport {
  for (const s of report.signatures) {
    s.indication = indicationOf(s.verdict);
    s.subIndication = subIndicationOf(s);
    s.algorithmFamily = algorithmFamilyOf(s);
  }
  report.indication = indicationOf(report.verdict);
  const cause = report.signatures.find((s) => s.verdict === report.verdict && s.subIndication !== null);
  report.subIndication =
    report.verdict === 'VALID' ? null
    : cause ? cause.subIndication!
    : report.verdict === 'INVALID' ? 'FORMAT_FAILURE' // a damaged file, an xref trick: the document's structure
    : report.signatures.length === 0 && report.reasons[0] === NO_SIGNATURES ? 'SIGNED_DATA_NOT_FOUND'
    : 'GENERIC';
  report.strict = strict;
  return report;
}

const NO_SIGNATURES = 'the document has no signatures';

const STRUCTURAL_TRICKS = new Set(['hidden-revision', 'xref-out-of-place', 'xref-points-outside-revision']);

function signatureVerdict(r: SignatureReport): SignatureReport['verdict'] {
  if (r.integrity !== 'INTACT' || r.changesAfter === 'NOT_ALLOWED' || r.trust === 'REVOKED') {
    return r.integrity === 'UNSUPPORTED' && r.changesAfter !== 'NOT_ALLOWED' ? 'INDETERMINATE' : 'INVALID';
  }
  if (r.formatFailure !== undefined || r.trust !== 'TRUSTED') return 'INDETERMINATE';
  if (r.weakAlgorithm && !provenBeforeSunset(r)) return 'INDETERMINATE';
  // A signature time-stamp that is not for this signature: a forged time claim (integrity.ts signatureTime).
  if (r.signatureTimestamp === 'FAILED') return 'INDETERMINATE';
  return 'VALID';
}

/**
 * SHA-1 is weak: a signature that relies on it is acceptable only with a proof of existence — a verified time-stamp
 * — from before its sunset. The date is EU DSS's default validation policy's: `AlgoExpirationDate`,
 * `<Algo Date="2012-08-01">SHA1</Algo>` (ETSI TS 119 312 v1.5.1), in esig/dss
 * dss-policy-jaxb/src/main/resources/policy/constraint.xml at d9473b8efe. Otherwise INDETERMINATE,
 * CRYPTO_CONSTRAINTS_FAILURE_NO_POE: intact and perhaps genuine, but nothing proves it was made while SHA-1 was safe.
 */
const SHA1_SUNSET = Date.UTC(2012, 7, 1);

function provenBeforeSunset(r: SignatureReport): boolean {
  if (r.timestampTime === null) return false;
  const proven = Date.parse(r.timestampTime);
  if (!(proven < SHA1_SUNSET)) return false;
  return true;
}

type Opened =
  | { doc: PdfDocument; damaged?: string }
  | { error: string; verdict: 'INVALID' | 'INDETERMINATE' };

/**
 * Open the document; when its end is damaged or cut off, the longest prefix that ends a complete revision — a
 * separate, reported recovery path: whatever follows that prefix is a change no signature can allow.
 */
function openLastComplete(source: ByteSource, eofs: number[]): Opened {
  let first: SealdError;
  try {
    return { doc: PdfDocument.open(source, { recover: false }) };
  } catch (error) {
    if (!(error instanceof SealdError)) throw error;
    if (error.code === 'PDF_ENCRYPTED' || error.code === 'PDF_PASSWORD_REQUIRED') return { error: error.message, verdict: 'INDETERMINATE' };
    if (error.code === 'NOT_A_PDF') return { error: error.message, verdict: 'INVALID' };
    first = error;
  }
  for (const eof of [...eofs].reverse().slice(0, 8)) {
    try {
      const doc = PdfDocument.open(prefixSource(source, afterEol(source, eof)), { recover: false });
      return {
        doc,
        damaged: `the file is damaged or truncated after offset ${eof} (${first.message}); verified up to its last complete revision`,
      };
    } catch {
      // try an earlier revision end
    }
  }
  return { error: first.message, verdict: 'INVALID' };
}

/** Bytes after the last revision, and `%%EOF`s of revisions the xref chain skips. */
function unaccounted(source: ByteSource, layout: RevisionLayout, damaged: string | undefined): RawChange[] {
  const out: RawChange[] = [];
  const after = layout.revisions.length + 1;
  if (damaged === undefined && layout.end < source.size) {
    const tail = Buffer.from(source.read(layout.end, Math.min(source.size - layout.end, 4096)));
    if (source.size - layout.end > 4096 || /[^\x00\x09\x0a\x0c\x0d\x20]/.test(tail.toString('latin1'))) {
      out.push({
        revision: after,
        class: 'forbidden',
        kind: 'unreferenced-bytes',
        description: `${source.size - layout.end} bytes after the last %%EOF belong to no revision (no cross-reference section describes them)`,
      });
    }
  }
  if (damaged !== undefined) {
    out.push({ revision: after, class: 'forbidden', kind: 'damaged-tail', description: 'the end of the file is damaged or cut off' });
  }
  const firstEnd = layout.revisions[0]?.eofEnd ?? 0;
  for (const e of layout.strayEofs) {
    if (e <= firstEnd) continue; // e.g. a %%EOF inside an embedded file of the original
    const inside = layout.revisions.find((r) => e > r.start && e <= r.eofEnd);
    out.push({
      revision: inside?.number ?? after,
      class: 'forbidden',
      kind: 'hidden-revision',
      description: `a %%EOF at offset ${e} ends a revision that the cross-reference chain skips`,
    });
  }
  return out;
}

export interface DssMaterial {
  certs: Uint8Array[];
  crls: Uint8Array[];
  ocsps: Uint8Array[];
}

/** The document security store (ETSI EN 319 142-1 §5.4.2.2): /Certs, /CRLs, /OCSPs arrays of streams. */
function dssMaterial(doc: PdfDocument): DssMaterial {
  const dss = doc.resolveDict(doc.catalog.get('DSS'));
  const streams = (key: string): Uint8Array[] => {
    const arr = doc.resolve(dss?.get(key));
    if (!Array.isArray(arr)) return [];
    const out: Uint8Array[] = [];
    for (const item of arr.slice(0, 1000) as PdfObject[]) {
      const s = item instanceof PdfRef ? doc.getObject(item) : item;
      if (s instanceof PdfStream) out.push(decodedOrRaw(doc, s));
    }
    return out;
  };
  return { certs: streams('Certs'), crls: streams('CRLs'), ocsps: streams('OCSPs') };
}

function decodedOrRaw(doc: PdfDocument, s: PdfStream): Uint8Array {
  if (s.dict.get('Filter') === undefined) return s.encoded();
  try {
    return doc.decode(s);
  } catch {
    return new Uint8Array();
  }
}

/** The first revision whose catalog has a /DSS (validation data), or undefined. */
function firstDssRevision(revisions: readonly Revision[], docAt: (rev: Revision) => PdfDocument): number | undefined {
  for (const rev of revisions) {
    try {
      if (docAt(rev).catalog.get('DSS') !== undefined) return rev.number;
    } catch {
      // a revision that does not open has no say here
    }
  }
  return undefined;
}

/**
 * PAdES baseline levels (ETSI EN 319 142-1 §5, §6): B-T needs a verified signature time-stamp or a valid document
 * time-stamp in a later revision; B-LT also the signer's revocation status in embedded validation data; B-LTA also a
 * valid document time-stamp in a revision after the DSS appeared.
 */
function assignLevels(reports: SignatureReport[], revocationEmbedded: ReadonlySet<SignatureReport>, dssRevision: number | undefined): void {
  const documentTimestamps = reports
    .filter((r) => r.subFilter === 'ETSI.RFC3161' && r.verdict === 'VALID' && r.revision !== null)
    .map((r) => r.revision!);
  for (const r of reports) {
    if (r.subFilter === 'ETSI.RFC3161' || r.integrity !== 'INTACT' || r.revision === null || r.formatFailure !== undefined) continue;
    const t = r.timestampTime !== null || documentTimestamps.some((rev) => rev > r.revision!);
    const lt = t && revocationEmbedded.has(r);
    const lta = lt && dssRevision !== undefined && documentTimestamps.some((rev) => rev > dssRevision);
    r.level = lta ? 'B-LTA' : lt ? 'B-LT' : t ? 'B-T' : 'B-B';
  }
}
