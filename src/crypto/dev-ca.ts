/**
 * A development certification authority for the embedded defaults (never for production trust): an EC P-256 key
 * held in software, a self-signed CA certificate, and end-entity certificates issued for keys that live on a token
 * (only their SubjectPublicKeyInfo is needed). Profile per RFC 5280 §4.2.1.
 */
import { createHash, webcrypto } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SealdError } from '../errors.ts';
import { Certificate } from './certificate.ts';
import { encodeSubjectName, type SubjectName } from './distinguished-name.ts';
import {
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_cRLDistributionPoints,
  id_ce_extKeyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
  id_ad_ocsp,
  id_pe_authorityInfoAccess,
} from './oids.ts';

export const DEV_CA_SUBJECT: SubjectName = { country: 'CN', organization: 'seald demo', commonName: 'seald Development CA' };

export interface DevCa {
  /** DER of the self-signed CA certificate. */
  certificate: Uint8Array;
  /** The CA's private key as PKCS#8 DER (the caller stores it, e.g. as PEM with mode 0600). */
  privateKeyPkcs8: Uint8Array;
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** pkijs' engine over Node's WebCrypto, passed explicitly so nothing depends on pkijs' global engine. */
function cryptoEngine(): pkijs.CryptoEngine {
  return new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as Crypto });
}

function randomSerialNumber(): asn1js.Integer {
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random octets with the top bit clear and a non-zero first octet.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return new asn1js.Integer({ valueHex: bytes });
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function certificateTime(date: Date): pkijs.Time {
  return new pkijs.Time({ type: date.getUTCFullYear() < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime, value: date });
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(subjectPublicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(subjectPublicKey).digest());
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock | Uint8Array): pkijs.Extension {
  const der = value instanceof Uint8Array ? value : new Uint8Array(value.toBER());
  return new pkijs.Extension({ extnID, critical, extnValue: der.slice().buffer });
}

// RFC 5280 §4.2.1.3 KeyUsage as DER BIT STRINGs (named bit lists drop trailing zero bits, X.690 §11.2.2).
const KEY_USAGE_CA = Uint8Array.from([0x03, 0x02, 0x01, 0x06]); // keyCertSign(5) | cRLSign(6)
const KEY_USAGE_SIGNING = Uint8Array.from([0x03, 0x02, 0x06, 0xc0]); // digitalSignature(0) | nonRepudiation(1)

function checkValidity(validity: Validity): void {
  if (!(validity.notBefore.getTime() < validity.notAfter.getTime())) {
    throw new SealdError('invalid-input', 'BAD_VALIDITY', 'notBefore must be earlier than notAfter');
  }
}

async function signedCertificate(opts: {
  issuerName: Uint8Array;
  subjectName: Uint8Array;
  subjectPublicKeyInfo: pkijs.PublicKeyInfo;
  validity: Validity;
  extensions: pkijs.Extension[];
  issuerKey: CryptoKey;
}): Promise<Uint8Array> {
  checkValidity(opts.validity);
  const cert = new pkijs.Certificate({
    version: 2, // v3
    serialNumber: randomSerialNumber(),
    issuer: pkijs.RelativeDistinguishedNames.fromBER(new Uint8Array(opts.issuerName)),
    subject: pkijs.RelativeDistinguishedNames.fromBER(new Uint8Array(opts.subjectName)),
    notBefore: certificateTime(opts.validity.notBefore),
    notAfter: certificateTime(opts.validity.notAfter),
    subjectPublicKeyInfo: opts.subjectPublicKeyInfo,
    extensions: opts.extensions,
  });
  await cert.sign(opts.issuerKey, 'SHA-256', cryptoEngine());
  return new Uint8Array(cert.toSchema(true).toBER());
}

/** A new self-signed CA: CN=seald Development CA, O=seald demo, C=CN. Default validity: yesterday to +10 years. */
export async function createDevCa(validity?: Validity): Promise<DevCa> {
  const now = Date.now();
  const period = validity ?? { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 10 * 365 * 86_400_000) };
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const spki = pkijs.PublicKeyInfo.fromBER(new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey)));
  const name = encodeSubjectName(DEV_CA_SUBJECT);
  const ski = keyIdentifier(spki.subjectPublicKey.valueBlock.valueHexView);
  const certificate = await signedCertificate({
    issuerName: name,
    subjectName: name,
    subjectPublicKeyInfo: spki,
    validity: period,
    extensions: [
      extension(id_ce_basicConstraints, true, new pkijs.BasicConstraints({ cA: true, pathLenConstraint: 0 }).toSchema()),
      extension(id_ce_keyUsage, true, KEY_USAGE_CA),
      extension(id_ce_subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: ski })),
    ],
    issuerKey: keys.privateKey as CryptoKey,
  });
  const privateKeyPkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certificate, privateKeyPkcs8 };
}

/** Issue an end-entity signing certificate for a public key (e.g. one read from a token). */
export async function issueEndEntityCertificate(opts: {
  ca: DevCa;
  subjectPublicKeyInfo: Uint8Array;
  subject: SubjectName;
  validity: Validity;
  /** Where relying parties find revocation status: AIA id-ad-ocsp and a CRL distribution point (RFC 5280 §4.2.2.1, §4.2.1.13). */
  revocation?: { ocspUrl?: string; crlUrl?: string };
  /** A TLS certificate (the embedded demo's gRPC port): subjectAltName and extendedKeyUsage, RFC 5280 §4.2.1.6, §4.2.1.12. */
  tls?: TlsProfile;
}): Promise<Uint8Array> {
  const caCert = Certificate.from(opts.ca.certificate);
  let caKey: CryptoKey;
  try {
    caKey = (await webcrypto.subtle.importKey('pkcs8', new Uint8Array(opts.ca.privateKeyPkcs8), EC_P256, false, ['sign'])) as CryptoKey;
  } catch (cause) {
    throw new SealdError('invalid-input', 'BAD_CA_KEY', 'the development CA key is not an EC P-256 PKCS#8 key', { cause });
  }
  let spki: pkijs.PublicKeyInfo;
  try {
    spki = pkijs.PublicKeyInfo.fromBER(new Uint8Array(opts.subjectPublicKeyInfo));
  } catch (cause) {
    throw new SealdError('invalid-input', 'BAD_PUBLIC_KEY', 'subjectPublicKeyInfo is not DER SubjectPublicKeyInfo', { cause });
  }
  return signedCertificate({
    issuerName: caCert.subjectName.bytes,
    subjectName: encodeSubjectName(opts.subject),
    subjectPublicKeyInfo: spki,
    validity: opts.validity,
    extensions: [
      extension(id_ce_basicConstraints, true, new pkijs.BasicConstraints({ cA: false }).toSchema()),
      extension(id_ce_keyUsage, true, KEY_USAGE_SIGNING),
      extension(id_ce_subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: keyIdentifier(spki.subjectPublicKey.valueBlock.valueHexView) })),
      extension(
        id_ce_authorityKeyIdentifier,
        false,
        new pkijs.AuthorityKeyIdentifier({
          keyIdentifier: new asn1js.OctetString({ valueHex: keyIdentifier(caCert.subjectPublicKey) }),
        }).toSchema(),
      ),
      ...revocationExtensions(opts.revocation),
      ...(opts.tls === undefined ? [] : tlsExtensions(opts.tls)),
    ],
    issuerKey: caKey,
  });
}

const URI = 6; // GeneralName uniformResourceIdentifier [6]
const DNS_NAME = 2; // GeneralName dNSName [2]
const IP_ADDRESS = 7; // GeneralName iPAddress [7]

export interface TlsProfile {
  /** serverAuth and/or clientAuth (RFC 5280 §4.2.1.12). */
  usage: ('serverAuth' | 'clientAuth')[];
  /** dNSName entries (RFC 5280 §4.2.1.6; RFC 6125 matches a server against these, never against the CN). */
  dnsNames?: string[];
  /** iPAddress entries, IPv4 or IPv6 literals. */
  ipAddresses?: string[];
}

/** An IP literal as the 4 or 16 octets of a GeneralName iPAddress (RFC 5280 §4.2.1.6). */
function ipOctets(address: string): Uint8Array {
  if (isIPv4(address)) return Uint8Array.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new SealdError('invalid-input', 'BAD_IP_ADDRESS', `not an IP address: ${address}`);
  const [head, tail = ''] = address.includes('::') ? address.split('::') : [address, undefined];
  const groups = (text: string | undefined): number[] => (text === undefined || text === '' ? [] : text.split(':').map((g) => parseInt(g, 16)));
  const first = groups(head);
  const last = address.includes('::') ? groups(tail) : [];
  const all = [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
  return Uint8Array.from(all.flatMap((g) => [g >> 8, g & 0xff]));
}

function tlsExtensions(profile: TlsProfile): pkijs.Extension[] {
  const purposes = profile.usage.map((u) => (u === 'serverAuth' ? id_kp_serverAuth : id_kp_clientAuth));
  const extensions = [extension(id_ce_extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: purposes }).toSchema())];
  const names = [
    ...(profile.dnsNames ?? []).map((value) => new pkijs.GeneralName({ type: DNS_NAME, value })),
    ...(profile.ipAddresses ?? []).map((ip) => new pkijs.GeneralName({ type: IP_ADDRESS, value: new asn1js.OctetString({ valueHex: ipOctets(ip) }) })),
  ];
  if (names.length > 0) extensions.push(extension(id_ce_subjectAltName, false, new pkijs.GeneralNames({ names }).toSchema()));
  return extensions;
}

function revocationExtensions(revocation: { ocspUrl?: string; crlUrl?: string } | undefined): pkijs.Extension[] {
  const extensions: pkijs.Extension[] = [];
  if (revocation?.ocspUrl !== undefined) {
    const aia = new pkijs.InfoAccess({
      accessDescriptions: [
        new pkijs.AccessDescription({
          accessMethod: id_ad_ocsp,
          accessLocation: new pkijs.GeneralName({ type: URI, value: revocation.ocspUrl }),
        }),
      ],
    });
    extensions.push(extension(id_pe_authorityInfoAccess, false, aia.toSchema()));
  }
  if (revocation?.crlUrl !== undefined) {
    const cdp = new pkijs.CRLDistributionPoints({
      distributionPoints: [
        new pkijs.DistributionPoint({
          distributionPoint: [new pkijs.GeneralName({ type: URI, value: revocation.crlUrl })],
        }),
      ],
    });
    extensions.push(extension(id_ce_cRLDistributionPoints, false, cdp.toSchema()));
  }
  return extensions;
}
