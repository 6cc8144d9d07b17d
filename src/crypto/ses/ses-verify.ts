/**
 * The cryptographic checks of an electronic seal signature, in the order GB/T 38540-2020's verification process
 * takes them (and GM/T 0031-2014's before it), each a distinct finding:
 *   1. the document: dataHash is the hash of the signed data (for a PDF, its /ByteRange);
 *   2. the signer's signature over TBS_Sign, with the signer's certificate;
 *   3. the seal: the maker's (制章人) signature over the seal information, with the maker's certificate;
 *   4. the signer is entitled to the seal: their certificate is in the seal's certList (or its digest in the
 *      certDigestList), when the seal lists any;
 * then, for the caller, the seal's validity period at the signing time. Certificate paths and validity are the trust
 * evaluator's business (trust.ts). SM2 signatures use GM/T 0009's default identity, as the standard prescribes.
 */
import { createHash } from 'node:crypto';
import { Certificate } from '../certificate.ts';
import { equalBytes } from '../der.ts';
import { id_sm2, id_sm2sign, id_sm2sign_with_sm3, id_sm3 } from '../oids-gm.ts';
import type { Integrity } from '../signed-data.ts';
import { bytesToInteger } from '../sm2-curve.ts';
import { SM2_DEFAULT_ID, verifySm2 } from '../sm2-signature.ts';
import { sm3 } from '../sm3.ts';
import { signatureHash, verifyWithCertificate } from '../verify-signature.ts';
import type { SesSeal, SesSignature } from './ses-signature.ts';

/** Signature algorithm identifiers that mean SM2 with SM3 when the key is an SM2 key (GM/T 0006-2012). */
const SM2_ALGORITHMS = new Set([id_sm2sign_with_sm3, id_sm2sign, id_sm2, id_sm3]);

export type SignatureCheck = 'VALID' | 'INVALID' | 'UNSUPPORTED';

/** A readable name for a seal's signature algorithm OID. */
export function sesAlgorithmName(algorithm: string): string {
  if (SM2_ALGORITHMS.has(algorithm)) return 'SM2-with-SM3';
  const hash = signatureHash(algorithm);
  return hash ? `${algorithm.startsWith('1.2.840.10045') ? 'ECDSA' : 'RSA'}-with-${hash.toUpperCase()}` : algorithm;
}

/**
 * The hash dataHash is made with: SM3 for SM2 seals (GB/T 38540-2020), the signature algorithm's hash for the
 * RSA seals GM/T 0031 also allowed; undefined when unknown.
 */
export function sesDataHashAlgorithm(ses: SesSignature): string | undefined {
  return SM2_ALGORITHMS.has(ses.signatureAlgorithm) ? 'sm3' : signatureHash(ses.signatureAlgorithm);
}

/**
 * A signature value of a seal: DER SM2Signature (GM/T 0009-2012 §7.3) as most writers put it in the BIT STRING, or the
 * raw 64 octets r ‖ s some write instead.
 */
export function verifySesValue(certificate: Uint8Array, algorithm: string, message: Uint8Array, value: Uint8Array): SignatureCheck {
  let cert;
  try {
    cert = Certificate.from(certificate);
  } catch {
    return 'INVALID';
  }
  if (SM2_ALGORITHMS.has(algorithm)) {
    const key = cert.sm2PublicKey;
    if (key === undefined) return 'UNSUPPORTED';
    try {
      if (verifySm2(key, message, value, SM2_DEFAULT_ID)) return 'VALID';
      if (value.length === 64 && verifySm2(key, message, { r: bytesToInteger(value.subarray(0, 32)), s: bytesToInteger(value.subarray(32)) }, SM2_DEFAULT_ID)) {
        return 'VALID';
      }
    } catch {
      return 'INVALID';
    }
    return 'INVALID';
  }
  const hash = signatureHash(algorithm);
  if (!hash || hash === 'sm3') return 'UNSUPPORTED';
  return verifyWithCertificate(cert, hash, message, value) ? 'VALID' : 'INVALID';
}

/** The hash a CertDigestObj.type names, by name or OID text. */
function digestNamed(type: string): ((data: Uint8Array) => Uint8Array) | undefined {
  const t = type.trim().toLowerCase().replace(/[-_ ]/g, '');
  if (t === 'sm3' || t === id_sm3) return (d) => sm3(d);
  const node = ({ sha1: 'sha1', '1.3.14.3.2.26': 'sha1', sha256: 'sha256', '2.16.840.1.101.3.4.2.1': 'sha256' } as Record<string, string>)[t];
  return node ? (d) => new Uint8Array(createHash(node).update(d).digest()) : undefined;
}

/** true when `certificate` is one the seal lists, or the seal lists none (the check then does not apply). */
export function sealListsSigner(seal: SesSeal, certificate: Uint8Array): boolean {
  if (seal.certListType === 2 || seal.certDigests.length > 0) {
    return seal.certDigests.some((d) => {
      const hash = digestNamed(d.type);
      return hash !== undefined && equalBytes(hash(certificate), d.value);
    });
  }
  if (seal.certList.length === 0) return true;
  return seal.certList.some((c) => equalBytes(c, certificate));
}

export interface SesIntegrity {
  integrity: Integrity;
  reason?: string;
  /** The maker's signature over the seal (VALID also when the document hash failed first: it is checked anyway). */
  sealSignature: SignatureCheck;
}

/** Step 3: the maker's signature over the seal, in either signed form (ses-signature.ts, signedContents). */
export function checkSealMakerSignature(seal: SesSeal): SignatureCheck {
  let result: SignatureCheck = 'INVALID';
  for (const content of seal.signedContents) {
    result = verifySesValue(seal.makerCertificate, seal.signAlgorithm, content, seal.signedValue);
    if (result !== 'INVALID') break;
  }
  return result;
}

/** Steps 1–4 above. `documentDigest` is the hash of the signed data with sesDataHashAlgorithm(ses). */
export function checkSesSignature(ses: SesSignature, documentDigest: Uint8Array): SesIntegrity {
  const seal = ses.seal;
  const sealSignature = checkSealMakerSignature(seal);
  if (!equalBytes(ses.dataHash, documentDigest)) {
    return { integrity: 'DIGEST_MISMATCH', reason: 'the signed bytes have changed: their hash is not the dataHash the seal signature signs', sealSignature };
  }
  const signer = verifySesValue(ses.signerCertificate, ses.signatureAlgorithm, ses.tbsSign, ses.signature);
  if (signer === 'UNSUPPORTED') {
    return { integrity: 'UNSUPPORTED', reason: `the seal signature's algorithm ${sesAlgorithmName(ses.signatureAlgorithm)} or the signer's key is not one seald verifies`, sealSignature };
  }
  if (signer === 'INVALID') {
    return { integrity: 'BAD_SIGNATURE', reason: "the signer's signature over TBS_Sign does not verify with the signer's certificate (SM2 identity 1234567812345678)", sealSignature };
  }
  if (sealSignature === 'UNSUPPORTED') {
    return { integrity: 'UNSUPPORTED', reason: `the seal's algorithm ${sesAlgorithmName(seal.signAlgorithm)} or its maker's key is not one seald verifies`, sealSignature };
  }
  if (sealSignature === 'INVALID') {
    return { integrity: 'BAD_SIGNATURE', reason: "the seal's own signature by its maker does not verify: the seal (image, name, code, validity or certificate list) was altered, or not made by the maker it names", sealSignature };
  }
  if (!sealListsSigner(seal, ses.signerCertificate)) {
    return { integrity: 'SIGNER_CERT_MISMATCH', reason: "the signer's certificate is not among the certificates the seal lists: the signer is not entitled to this seal", sealSignature };
  }
  return { integrity: 'INTACT', sealSignature };
}

export type SealValidity = 'VALID' | 'EXPIRED' | 'NOT_YET_VALID' | 'UNKNOWN';

/** The seal's validity period (property.validStart … validEnd) at `at`. */
export function sealValidityAt(seal: SesSeal, at: Date): SealValidity {
  if (!seal.validStart || !seal.validEnd) return 'UNKNOWN';
  if (at < seal.validStart) return 'NOT_YET_VALID';
  if (at > seal.validEnd) return 'EXPIRED';
  return 'VALID';
}
