/**
 * The "expected signers" check of a verification report (确认双方完成签章): the caller names who must have sealed,
 * each as one attribute of the certificate subject (`O=甲方公司`, `CN=张三`, RFC 4514 attribute types) or as a bare
 * name, which matches the subject's O or CN. A signer counts when a signature of theirs is VALID; one whose only
 * signatures are not is reported as found but not valid.
 */
import type { SignatureReport, VerificationReport } from '../engine/verify/report.ts';

export interface ExpectedSigner {
  /** As the caller wrote it. */
  spec: string;
  /** Upper-case attribute type, or undefined for a bare name (O or CN). */
  attribute: string | undefined;
  value: string;
}

export interface ExpectedSignerResult {
  expected: ExpectedSigner;
  /** `signed`: a VALID signature; `not-valid`: signatures found, none VALID; `missing`: none at all. */
  outcome: 'signed' | 'not-valid' | 'missing';
  /** The fields of the matching signatures, in document order. */
  fields: string[];
}

export function parseExpectedSigner(spec: string): ExpectedSigner {
  const match = /^\s*([A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)\s*=(.*)$/s.exec(spec);
  if (match === null) return { spec, attribute: undefined, value: spec.trim() };
  return { spec, attribute: match[1]!.toUpperCase(), value: match[2]!.trim() };
}

/**
 * The attributes of an RFC 4514 distinguished name, as (TYPE, value) pairs, escapes undone (§2.4: `\,` `\+` `\"`
 * `\\` `\<` `\>` `\;` `\=` `\ ` `\#` and `\XX` hex pairs, which spell UTF-8 bytes). Multi-valued RDNs (`+`) give one
 * pair per value.
 */
export function subjectAttributes(dn: string): [string, string][] {
  const out: [string, string][] = [];
  let type = '';
  let bytes: number[] = [];
  let inValue = false;
  const flush = (): void => {
    if (inValue) out.push([type.trim().toUpperCase(), Buffer.from(bytes).toString('utf8').trim()]);
    type = '';
    bytes = [];
    inValue = false;
  };
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (!inValue) {
      if (c === '=') inValue = true;
      else type += c;
      continue;
    }
    if (c === '\\' && i + 1 < dn.length) {
      const hex = dn.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(dn[i + 1]!, 'utf8'));
        i += 1;
      }
    } else if (c === ',' || c === '+') {
      flush();
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  flush();
  return out;
}

function matches(expected: ExpectedSigner, signature: SignatureReport): boolean {
  if (signature.signer === null) return false;
  const attributes = subjectAttributes(signature.signer.subject);
  const types = expected.attribute === undefined ? ['O', 'CN'] : [expected.attribute === 'ORGANIZATIONNAME' ? 'O' : expected.attribute === 'COMMONNAME' ? 'CN' : expected.attribute];
  return attributes.some(([type, value]) => types.includes(type) && value === expected.value);
}

export function checkExpectedSigners(report: VerificationReport, expected: readonly ExpectedSigner[]): ExpectedSignerResult[] {
  return expected.map((e) => {
    const found = report.signatures.filter((s) => matches(e, s));
    const outcome = found.length === 0 ? 'missing' : found.some((s) => s.verdict === 'VALID') ? 'signed' : 'not-valid';
    return { expected: e, outcome, fields: found.map((s) => s.field) };
  });
}
