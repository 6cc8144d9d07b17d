/**
 * X.501 Names: rendering as RFC 4514 strings (UTF-8, so CJK names read as written) and building them for the
 * development CA. pkijs flattens multi-valued RDNs and, when building, puts every attribute into ONE SET; both are
 * wrong for us, so Names are walked and built here with asn1js directly.
 */
import * as asn1js from 'asn1js';
import { SealdError } from '../errors.ts';

/** RFC 4514 §3 short names, plus the attribute names X.520 / RFC 5280 / ETSI EN 319 412 certificates commonly use. */
const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  // Not in RFC 4514's table but universally understood (OpenSSL and Java print them the same way).
  '2.5.4.5': 'serialNumber',
  '2.5.4.4': 'SN',
  '2.5.4.42': 'GN',
  '2.5.4.12': 'title',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

export const OID_COMMON_NAME = '2.5.4.3';
export const OID_ORGANIZATION = '2.5.4.10';
export const OID_COUNTRY = '2.5.4.6';

export interface NameAttribute {
  /** Dotted OID of the attribute type. */
  type: string;
  /** Decoded string value, or undefined when the value is not a character string. */
  value: string | undefined;
  /** The value's BER encoding (for the RFC 4514 `#hex` form). */
  encoded: Uint8Array;
}

/** A Name as its RDNs in encoding order (most significant first); each RDN is one or more attributes. */
export type ParsedName = NameAttribute[][];

function stringValue(block: asn1js.AsnType): string | undefined {
  if (
    block instanceof asn1js.Utf8String ||
    block instanceof asn1js.PrintableString ||
    block instanceof asn1js.IA5String ||
    block instanceof asn1js.TeletexString ||
    block instanceof asn1js.BmpString ||
    block instanceof asn1js.UniversalString ||
    block instanceof asn1js.VisibleString ||
    block instanceof asn1js.NumericString
  ) {
    return block.valueBlock.value;
  }
  return undefined;
}

/** Parse the DER of an X.501 Name (RFC 5280 §4.1.2.4). */
export function parseName(der: Uint8Array): ParsedName {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) {
    throw new SealdError('invalid-input', 'BAD_NAME', 'X.501 Name is not a DER SEQUENCE');
  }
  return parsed.result.valueBlock.value.map((rdn) => {
    if (!(rdn instanceof asn1js.Set)) throw new SealdError('invalid-input', 'BAD_NAME', 'RDN is not a SET');
    return rdn.valueBlock.value.map((atv) => {
      const parts = atv instanceof asn1js.Sequence ? atv.valueBlock.value : [];
      const [type, value] = parts;
      if (!(type instanceof asn1js.ObjectIdentifier) || value === undefined) {
        throw new SealdError('invalid-input', 'BAD_NAME', 'AttributeTypeAndValue is malformed');
      }
      return { type: type.valueBlock.toString(), value: stringValue(value), encoded: new Uint8Array(value.toBER()) };
    });
  });
}

/** RFC 4514 §2.4 escaping of an attribute value string. */
function escapeValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\0') out += '\\00';
    else if ('"+,;<>\\'.includes(ch)) out += `\\${ch}`;
    else if ((i === 0 && (ch === ' ' || ch === '#')) || (i === value.length - 1 && ch === ' ')) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** RFC 4514 §2.1: RDNs from last to first, separated by ',', multi-valued RDNs joined by '+'. */
export function formatName(name: ParsedName): string {
  return [...name]
    .reverse()
    .map((rdn) =>
      rdn
        .map((atv) => {
          const short = SHORT_NAMES[atv.type];
          // §2.3: a type without a short name is written as its OID; §2.4: then (or for non-strings) the value is #hex.
          if (short !== undefined && atv.value !== undefined) return `${short}=${escapeValue(atv.value)}`;
          return `${short ?? atv.type}=#${hex(atv.encoded)}`;
        })
        .join('+'),
    )
    .join(',');
}

/** First value of an attribute type in a parsed Name, in encoding order. */
export function nameAttribute(name: ParsedName, type: string): string | undefined {
  for (const rdn of name) for (const atv of rdn) if (atv.type === type && atv.value !== undefined) return atv.value;
  return undefined;
}

export interface SubjectName {
  /** ISO 3166 two-letter country code (encoded as PrintableString, RFC 5280 Appendix A). */
  country?: string;
  /** Organisation (UTF8String, so Chinese names work). */
  organization?: string;
  /** Common name (UTF8String). */
  commonName: string;
}

/** DER of a Name with one attribute per RDN, in the order C, O, CN (RFC 5280 §4.1.2.4 recommends UTF8String). */
export function encodeSubjectName(subject: SubjectName): Uint8Array {
  const rdns: asn1js.Set[] = [];
  const add = (type: string, value: asn1js.BaseBlock) =>
    rdns.push(new asn1js.Set({ value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: type }), value] })] }));
  if (subject.country !== undefined) {
    if (!/^[A-Z]{2}$/.test(subject.country)) {
      throw new SealdError('invalid-input', 'BAD_COUNTRY', `country must be two capital letters (ISO 3166), got "${subject.country}"`);
    }
    add(OID_COUNTRY, new asn1js.PrintableString({ value: subject.country }));
  }
  if (subject.organization !== undefined) add(OID_ORGANIZATION, new asn1js.Utf8String({ value: subject.organization }));
  add(OID_COMMON_NAME, new asn1js.Utf8String({ value: subject.commonName }));
  return new Uint8Array(new asn1js.Sequence({ value: rdns }).toBER());
}
