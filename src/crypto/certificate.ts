/** X.509 certificate helpers (RFC 5280): description for logs and API answers, PEM, validity checks. */
import { createPublicKey } from 'node:crypto';
import * as pkijs from 'pkijs';
import { SealdError } from '../errors.ts';
import type { SignatureAlgorithm } from './signer.ts';
import { formatName, nameAttribute, OID_COMMON_NAME, OID_ORGANIZATION, parseName } from './distinguished-name.ts';
import { id_ecPublicKey, rsaEncryption } from './oids.ts';

export interface CertificateDescription {
  /** RFC 4514 string, e.g. `CN=张三,O=示例商贸有限公司,C=CN`. */
  subject: string;
  issuer: string;
  organization?: string;
  commonName?: string;
  /** Serial number as lowercase hex of its value (without the 0x00 sign octet DER adds before a high bit). */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  keyAlgorithm: SignatureAlgorithm;
}

/**
 * Parsed certificates by the byte array they came from. A seal's chain is the same arrays for every signature, and
 * parsing it with pkijs (asn1js) cost a fifth of a seal's CPU when done several times per seal (bench/README.md).
 * Parsed certificates are never modified. Keyed weakly: a chain dropped by its owner is dropped here too.
 */
const parsed = new WeakMap<Uint8Array, pkijs.Certificate>();
const described = new WeakMap<Uint8Array, CertificateDescription>();

export function parseCertificate(der: Uint8Array): pkijs.Certificate {
  let cert = parsed.get(der);
  if (cert === undefined) {
    try {
      cert = pkijs.Certificate.fromBER(new Uint8Array(der));
    } catch (cause) {
      throw new SealdError('invalid-input', 'BAD_CERTIFICATE', 'not a DER X.509 certificate', { cause });
    }
    parsed.set(der, cert);
  }
  return cert;
}

function bytesOf(buffer: ArrayBuffer): Uint8Array {
  return new Uint8Array(buffer);
}

/** The key algorithm of a SubjectPublicKeyInfo as the Signer interface names it. */
export function keyAlgorithmOf(cert: pkijs.Certificate): SignatureAlgorithm {
  const oid = cert.subjectPublicKeyInfo.algorithm.algorithmId;
  if (oid === rsaEncryption) return 'RSASSA-PKCS1-v1_5';
  if (oid === id_ecPublicKey) return 'ECDSA';
  throw new SealdError('invalid-input', 'UNSUPPORTED_KEY_ALGORITHM', `certificate key algorithm ${oid} is not RSA or EC`);
}

function serialHex(content: Uint8Array): string {
  const value = content.length > 1 && content[0] === 0 && content[1]! >= 0x80 ? content.subarray(1) : content;
  return Buffer.from(value).toString('hex');
}

export function describeCertificate(der: Uint8Array): CertificateDescription {
  let description = described.get(der);
  if (description === undefined) {
    description = Object.freeze(describe(parseCertificate(der)));
    described.set(der, description);
  }
  return description;
}

function describe(cert: pkijs.Certificate): CertificateDescription {
  const subject = parseName(bytesOf(cert.subject.valueBeforeDecode));
  const issuer = parseName(bytesOf(cert.issuer.valueBeforeDecode));
  const description: CertificateDescription = {
    subject: formatName(subject),
    issuer: formatName(issuer),
    serialNumber: serialHex(cert.serialNumber.valueBlock.valueHexView),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    keyAlgorithm: keyAlgorithmOf(cert),
  };
  const organization = nameAttribute(subject, OID_ORGANIZATION);
  const commonName = nameAttribute(subject, OID_COMMON_NAME);
  if (organization !== undefined) description.organization = organization;
  if (commonName !== undefined) description.commonName = commonName;
  return description;
}

/** DER SubjectPublicKeyInfo of a certificate (RFC 5280 §4.1.2.7), byte-exact as encoded in the certificate. */
export function certificatePublicKeyInfo(der: Uint8Array): Uint8Array {
  const cert = parseCertificate(der);
  return new Uint8Array(cert.subjectPublicKeyInfo.toSchema().toBER());
}

/** What a CMS builder must know about the key to size a signature. */
export type PublicKeyParameters =
  | { algorithm: 'RSASSA-PKCS1-v1_5'; modulusBytes: number }
  | { algorithm: 'ECDSA'; namedCurve: string; fieldBytes: number; orderBits: number };

// SEC 2 §2.4.2, §2.5.1, §2.6.1: field element size and group order size of the NIST curves (Node's curve names).
const CURVES: Record<string, { fieldBytes: number; orderBits: number }> = {
  prime256v1: { fieldBytes: 32, orderBits: 256 },
  secp384r1: { fieldBytes: 48, orderBits: 384 },
  secp521r1: { fieldBytes: 66, orderBits: 521 },
};

export function publicKeyParameters(spkiDer: Uint8Array): PublicKeyParameters {
  const key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' && details.modulusLength !== undefined) {
    return { algorithm: 'RSASSA-PKCS1-v1_5', modulusBytes: Math.ceil(details.modulusLength / 8) };
  }
  if (key.asymmetricKeyType === 'ec' && details.namedCurve !== undefined) {
    const curve = CURVES[details.namedCurve];
    if (curve !== undefined) return { algorithm: 'ECDSA', namedCurve: details.namedCurve, ...curve };
  }
  throw new SealdError(
    'invalid-input',
    'UNSUPPORTED_KEY_ALGORITHM',
    `unsupported public key (${key.asymmetricKeyType ?? 'unknown'} ${details.namedCurve ?? ''}): use RSA or EC P-256/P-384/P-521`,
  );
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle (RFC 7468 §5), in file order; text outside the blocks is ignored. */
export function pemToDer(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const match of pem.matchAll(PEM_CERTIFICATE)) {
    out.push(new Uint8Array(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

/** RFC 7468 PEM with 64-character lines. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** RFC 5280 §4.1.2.5: refuse to sign with a certificate outside its validity period at `at`. */
export function checkCertificateValidAt(der: Uint8Array, at: Date): void {
  const { subject, notBefore, notAfter } = describeCertificate(der);
  const window = `valid from ${notBefore.toISOString()} to ${notAfter.toISOString()}`;
  if (at.getTime() > notAfter.getTime()) {
    throw new SealdError(
      'precondition',
      'CERT_EXPIRED',
      `certificate "${subject}" expired on ${notAfter.toISOString()} (${window}); signing time ${at.toISOString()}`,
    );
  }
  if (at.getTime() < notBefore.getTime()) {
    throw new SealdError(
      'precondition',
      'CERT_NOT_YET_VALID',
      `certificate "${subject}" is not valid until ${notBefore.toISOString()} (${window}); signing time ${at.toISOString()}`,
    );
  }
}
