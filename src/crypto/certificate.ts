/**
 * The one certificate model of seald (RFC 5280 §4.1): `Certificate`, a DER certificate whose fields are decoded from
 * its bytes on first use with der.ts. Every reader — path validation (trust.ts), the CMS signer lookup
 * (signed-data.ts), revocation, time-stamp tokens, the verification report, the CMS writer and the dev CA — reads
 * certificates through it. Fields keep their exact encodings: issuer and serial as a CMS sid or an OCSP CertID needs
 * them, tbsCertificate as it was signed.
 *
 * Signature checks dispatch by algorithm: SM2-with-SM3 (GM/T 0015-2012) through sm2-signature.ts (noble), since
 * Node's crypto does not know SM2 keys; everything else through Node's X509Certificate, which also answers the issuer
 * match (names, key identifiers) as OpenSSL does. Node's object is made lazily and never leaves this file.
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { SealdError } from '../errors.ts';
import type { SignatureAlgorithm } from './signer.ts';
import { children, expectTag, oid, readTlv, type Tlv } from './der.ts';
import { formatName, nameAttribute, OID_COMMON_NAME, OID_ORGANIZATION, parseName } from './distinguished-name.ts';
import { id_ce_basicConstraints, id_ce_extKeyUsage, id_ce_keyUsage, id_ecPublicKey, rsaEncryption } from './oids.ts';
import { id_sm2sign_with_sm3 } from './oids-gm.ts';
import type { Sm2PublicKey } from './sm2-curve.ts';
import { decodeSm2SubjectPublicKeyInfo } from './sm2-encoding.ts';
import { SM2_DEFAULT_ID, verifySm2 } from './sm2-signature.ts';

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

/** One extension (RFC 5280 §4.1.2.9): its criticality and the DER inside extnValue's OCTET STRING. */
export interface CertificateExtension {
  critical: boolean;
  value: Uint8Array;
}

/** By the byte array a certificate came from: a seal's chain is the same arrays for every signature. */
const byArray = new WeakMap<Uint8Array, Certificate>();
/** By content: a document's signatures and DSS carry the same few certificates and anchors as distinct arrays. */
const byContent = new Map<string, Certificate>();
const MAX_BY_CONTENT = 512;

function bad(message: string, cause?: unknown): SealdError {
  return new SealdError('invalid-input', 'BAD_CERTIFICATE', `not a DER X.509 certificate: ${message}`, cause === undefined ? undefined : { cause });
}

/** X.680 UTCTime (two-digit years: 50–99 are 19xx, RFC 5280 §4.1.2.5.1) or GeneralizedTime, in UTC. */
function decodeTime(tlv: Tlv | undefined): Date {
  if (tlv === undefined || (tlv.tag !== 0x17 && tlv.tag !== 0x18)) throw bad('validity time is missing or malformed');
  const text = Buffer.from(tlv.value).toString('latin1');
  const match = (tlv.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.(\d+))?Z$/).exec(text);
  if (match === null) throw bad(`validity time "${text}" is not in UTC`);
  let year = Number(match[1]);
  if (tlv.tag === 0x17) year += year >= 50 ? 1900 : 2000;
  const ms = match[7] === undefined ? 0 : Math.round(Number(`0.${match[7]}`) * 1000);
  return new Date(Date.UTC(year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6] ?? 0), ms));
}

function serialHex(content: Uint8Array): string {
  const value = content.length > 1 && content[0] === 0 && content[1]! >= 0x80 ? content.subarray(1) : content;
  return Buffer.from(value).toString('hex');
}

interface Decoded {
  tbs: Tlv;
  serialNumber: Tlv;
  tbsSignatureAlgorithm: string;
  issuerName: Tlv;
  validity: [Tlv | undefined, Tlv | undefined];
  subjectName: Tlv;
  subjectPublicKeyInfo: Tlv;
  extensions: Tlv | undefined;
  signatureAlgorithm: string;
  signatureValue: Tlv;
}

export class Certificate {
  readonly der: Uint8Array;
  readonly #decoded: Decoded;
  #extensions: Map<string, CertificateExtension> | undefined;
  #description: CertificateDescription | undefined;
  #node: X509Certificate | null | undefined;
  #publicKey: KeyObject | null | undefined;
  #sm2PublicKey: Sm2PublicKey | null | undefined;
  #notBefore: Date | undefined;
  #notAfter: Date | undefined;

  private constructor(der: Uint8Array) {
    this.der = der;
    try {
      // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
      const [tbs, algorithm, signatureValue] = children(expectTag(readTlv(der), 0x30, 'Certificate'));
      const fields = children(expectTag(tbs, 0x30, 'tbsCertificate'));
      let i = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
      const serialNumber = expectTag(fields[i++], 0x02, 'serialNumber');
      const tbsSignatureAlgorithm = oid(expectTag(children(expectTag(fields[i++], 0x30, 'signature'))[0], 0x06, 'signature algorithm'));
      const issuerName = expectTag(fields[i++], 0x30, 'issuer');
      const validity = children(expectTag(fields[i++], 0x30, 'validity'));
      const subjectName = expectTag(fields[i++], 0x30, 'subject');
      const subjectPublicKeyInfo = expectTag(fields[i++], 0x30, 'subjectPublicKeyInfo');
      this.#decoded = {
        tbs: tbs!,
        serialNumber,
        tbsSignatureAlgorithm,
        issuerName,
        validity: [validity[0], validity[1]],
        subjectName,
        subjectPublicKeyInfo,
        extensions: fields.slice(i).find((t) => t.tag === 0xa3), // [3] EXPLICIT Extensions
        signatureAlgorithm: oid(expectTag(children(expectTag(algorithm, 0x30, 'signatureAlgorithm'))[0], 0x06, 'algorithm')),
        signatureValue: expectTag(signatureValue, 0x03, 'signatureValue'),
      };
    } catch (cause) {
      if (cause instanceof SealdError) throw cause;
      throw bad((cause as Error).message, cause);
    }
  }

  /** The certificate in `der`, decoded once per array (and per content); throws BAD_CERTIFICATE. */
  static from(der: Uint8Array): Certificate {
    let cert = byArray.get(der);
    if (cert !== undefined) return cert;
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
    cert = byContent.get(key);
    if (cert === undefined) {
      cert = new Certificate(der);
      if (byContent.size >= MAX_BY_CONTENT) byContent.delete(byContent.keys().next().value!);
      byContent.set(key, cert);
    }
    byArray.set(der, cert);
    return cert;
  }

  /** As from(), but undefined for bytes that are not a certificate. */
  static tryFrom(der: Uint8Array): Certificate | undefined {
    try {
      return Certificate.from(der);
    } catch {
      return undefined;
    }
  }

  /** The DER of tbsCertificate, as signed. */
  get tbsCertificate(): Uint8Array {
    return this.#decoded.tbs.bytes;
  }

  /** serialNumber INTEGER, the whole element (what an IssuerAndSerialNumber or CertID holds). */
  get serialNumber(): Tlv {
    return this.#decoded.serialNumber;
  }

  /** The issuer Name, the whole DER element. */
  get issuerName(): Tlv {
    return this.#decoded.issuerName;
  }

  /** The subject Name, the whole DER element. */
  get subjectName(): Tlv {
    return this.#decoded.subjectName;
  }

  /** DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), byte-exact as encoded in the certificate. */
  get subjectPublicKeyInfo(): Uint8Array {
    return this.#decoded.subjectPublicKeyInfo.bytes;
  }

  /** The key bits of subjectPublicKey (the BIT STRING's contents after its unused-bits octet). */
  get subjectPublicKey(): Uint8Array {
    const bits = expectTag(children(this.#decoded.subjectPublicKeyInfo)[1], 0x03, 'subjectPublicKey');
    return bits.value.subarray(1);
  }

  /** Certificate.signatureAlgorithm (RFC 5280 §4.1.1.2), the algorithm its issuer signed it with. */
  get signatureAlgorithm(): string {
    return this.#decoded.signatureAlgorithm;
  }

  /** tbsCertificate.signature, which §4.1.2.3 requires to equal signatureAlgorithm. */
  get tbsSignatureAlgorithm(): string {
    return this.#decoded.tbsSignatureAlgorithm;
  }

  /** The signature octets, or undefined when the BIT STRING has unused bits (no algorithm here makes such). */
  get signatureValue(): Uint8Array | undefined {
    const value = this.#decoded.signatureValue.value;
    return value[0] === 0 ? value.subarray(1) : undefined;
  }

  get notBefore(): Date {
    this.#notBefore ??= decodeTime(this.#decoded.validity[0]);
    return this.#notBefore;
  }

  get notAfter(): Date {
    this.#notAfter ??= decodeTime(this.#decoded.validity[1]);
    return this.#notAfter;
  }

  /** Extensions by extnID. */
  get extensions(): ReadonlyMap<string, CertificateExtension> {
    if (this.#extensions === undefined) {
      const map = new Map<string, CertificateExtension>();
      const ext = this.#decoded.extensions;
      if (ext !== undefined) {
        for (const e of children(expectTag(children(ext)[0], 0x30, 'extensions'))) {
          // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
          const parts = children(e);
          const critical = parts.length === 3 && parts[1]!.tag === 0x01 && parts[1]!.value[0] !== 0;
          map.set(oid(parts[0]!), { critical, value: expectTag(parts[parts.length - 1], 0x04, 'extnValue').value });
        }
      }
      this.#extensions = map;
    }
    return this.#extensions;
  }

  /** basicConstraints cA (RFC 5280 §4.2.1.9); false when the extension is absent. */
  get isCA(): boolean {
    const ext = this.extensions.get(id_ce_basicConstraints);
    if (ext === undefined) return false;
    const first = children(readTlv(ext.value))[0];
    return first?.tag === 0x01 && first.value[0] !== 0;
  }

  /** keyUsage bits 0–8 (RFC 5280 §4.2.1.3) by bit number; undefined when the extension is absent (any use). */
  get keyUsage(): ((bit: number) => boolean) | undefined {
    const ext = this.extensions.get(id_ce_keyUsage);
    if (ext === undefined) return undefined;
    const bits = readTlv(ext.value); // BIT STRING: unused-bits octet, then the bits
    if (bits.tag !== 0x03) return () => false;
    return (bit) => ((bits.value[1 + (bit >> 3)] ?? 0) & (0x80 >> (bit & 7))) !== 0;
  }

  /** extKeyUsage purposes (RFC 5280 §4.2.1.12) and whether the extension is critical; undefined when absent. */
  get extendedKeyUsage(): { purposes: string[]; critical: boolean } | undefined {
    const ext = this.extensions.get(id_ce_extKeyUsage);
    if (ext === undefined) return undefined;
    return { purposes: children(readTlv(ext.value)).map(oid), critical: ext.critical };
  }

  /** The subject as RFC 4514 and the other fields a person reads. */
  get description(): CertificateDescription {
    if (this.#description === undefined) {
      const subject = parseName(this.subjectName.bytes);
      const description: CertificateDescription = {
        subject: formatName(subject),
        issuer: formatName(parseName(this.issuerName.bytes)),
        serialNumber: serialHex(this.serialNumber.value),
        notBefore: this.notBefore,
        notAfter: this.notAfter,
        keyAlgorithm: this.keyAlgorithm,
      };
      const organization = nameAttribute(subject, OID_ORGANIZATION);
      const commonName = nameAttribute(subject, OID_COMMON_NAME);
      if (organization !== undefined) description.organization = organization;
      if (commonName !== undefined) description.commonName = commonName;
      this.#description = Object.freeze(description);
    }
    return this.#description;
  }

  /** The key algorithm as the Signer interface names it; throws for keys a Signer cannot hold. */
  get keyAlgorithm(): SignatureAlgorithm {
    const algorithm = oid(expectTag(children(expectTag(children(this.#decoded.subjectPublicKeyInfo)[0], 0x30, 'algorithm'))[0], 0x06, 'algorithm'));
    if (algorithm === rsaEncryption) return 'RSASSA-PKCS1-v1_5';
    if (algorithm === id_ecPublicKey) return 'ECDSA';
    throw new SealdError('invalid-input', 'UNSUPPORTED_KEY_ALGORITHM', `certificate key algorithm ${algorithm} is not RSA or EC`);
  }

  /** The subject as one line in OpenSSL's order and spelling (`C=CN, O=…, CN=…`): what trust reasons name. */
  get subjectLine(): string {
    return this.#nodeCertificate()?.subject.replace(/\n/g, ', ') ?? formatName(parseName(this.subjectName.bytes));
  }

  /** The public key as Node's crypto reads it (RSA, EC on NIST curves…); undefined for keys it does not know (SM2). */
  get publicKey(): KeyObject | undefined {
    if (this.#publicKey === undefined) {
      try {
        this.#publicKey = createPublicKey({ key: Buffer.from(this.subjectPublicKeyInfo), format: 'der', type: 'spki' });
      } catch {
        this.#publicKey = null;
      }
    }
    return this.#publicKey ?? undefined;
  }

  /** The public key when it is an SM2 key (either SubjectPublicKeyInfo spelling, GM/T 0015), else undefined. */
  get sm2PublicKey(): Sm2PublicKey | undefined {
    if (this.#sm2PublicKey === undefined) {
      try {
        this.#sm2PublicKey = decodeSm2SubjectPublicKeyInfo(this.subjectPublicKeyInfo);
      } catch {
        this.#sm2PublicKey = null;
      }
    }
    return this.#sm2PublicKey ?? undefined;
  }

  /** True when both are the same certificate (same bytes). */
  equals(other: Certificate): boolean {
    return other === this || Buffer.compare(this.der, other.der) === 0;
  }

  /**
   * True when `issuer` issued this certificate (RFC 5280 §6.1.3 (a)(1), (a)(4)): its subject is this issuer and the
   * key identifiers agree (OpenSSL's check, through Node), and this certificate's signature verifies with its key.
   */
  isIssuedBy(issuer: Certificate): boolean {
    try {
      const node = this.#nodeCertificate();
      const issuerNode = issuer.#nodeCertificate();
      if (node === undefined || issuerNode === undefined || !node.checkIssued(issuerNode)) return false;
      return this.verifySignedBy(issuer);
    } catch {
      return false;
    }
  }

  /**
   * True when this certificate's signature verifies with `issuer`'s public key. SM2-with-SM3 (GM/T 0015-2012) with
   * GM/T 0009's default signer identity unless `sm2Id` says otherwise; false when tbsCertificate.signature names
   * another algorithm than signatureAlgorithm (RFC 5280 §4.1.1.2). Anything else goes to Node (OpenSSL).
   */
  verifySignedBy(issuer: Certificate, sm2Id: string | Uint8Array = SM2_DEFAULT_ID): boolean {
    try {
      if (this.signatureAlgorithm === id_sm2sign_with_sm3) {
        if (this.tbsSignatureAlgorithm !== this.signatureAlgorithm) return false;
        const key = issuer.sm2PublicKey;
        const signature = this.signatureValue;
        if (key === undefined || signature === undefined) return false;
        return verifySm2(key, this.tbsCertificate, signature, sm2Id);
      }
      const key = issuer.publicKey;
      const node = this.#nodeCertificate();
      return key !== undefined && node !== undefined && node.verify(key);
    } catch {
      return false;
    }
  }

  #nodeCertificate(): X509Certificate | undefined {
    if (this.#node === undefined) {
      try {
        this.#node = new X509Certificate(Buffer.from(this.der));
      } catch {
        this.#node = null;
      }
    }
    return this.#node ?? undefined;
  }
}

/** The description of the certificate in `der` (see Certificate.description). */
export function describeCertificate(der: Uint8Array): CertificateDescription {
  return Certificate.from(der).description;
}

/** DER SubjectPublicKeyInfo of the certificate in `der`, byte-exact as encoded there. */
export function certificatePublicKeyInfo(der: Uint8Array): Uint8Array {
  return Certificate.from(der).subjectPublicKeyInfo;
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
