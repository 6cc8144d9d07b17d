/**
 * The public half of a token key as a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), built from PKCS#11 attributes
 * (PKCS#11 v2.40 §2.1.2 RSA: CKA_MODULUS, CKA_PUBLIC_EXPONENT; §2.3.3 EC: CKA_EC_PARAMS, CKA_EC_POINT).
 */
import { createPublicKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import graphene from 'graphene-pk11';
import pkcs11js from 'pkcs11js';
import { SealdError } from '../errors.ts';
import { secp256r1, secp384r1, secp521r1 } from '../crypto/oids.ts';

export type TokenKeyType = 'RSA' | 'EC';

interface Curve {
  jwk: 'P-256' | 'P-384' | 'P-521';
  fieldBytes: number;
}

// RFC 5480 §2.1.1.1 named curves.
const CURVES: Record<string, Curve> = {
  [secp256r1]: { jwk: 'P-256', fieldBytes: 32 },
  [secp384r1]: { jwk: 'P-384', fieldBytes: 48 },
  [secp521r1]: { jwk: 'P-521', fieldBytes: 66 },
};

function base64url(bytes: Uint8Array): string {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return Buffer.from(bytes.subarray(start)).toString('base64url');
}

export function rsaSpki(modulus: Uint8Array, publicExponent: Uint8Array): Uint8Array {
  const key = createPublicKey({ key: { kty: 'RSA', n: base64url(modulus), e: base64url(publicExponent) }, format: 'jwk' });
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/** The named curve of DER ECParameters (only namedCurve is supported, as RFC 5480 §2.1.1 requires). */
export function curveOf(ecParams: Uint8Array): Curve {
  const parsed = asn1js.fromBER(new Uint8Array(ecParams));
  const oid = parsed.result instanceof asn1js.ObjectIdentifier ? parsed.result.valueBlock.toString() : undefined;
  const curve = oid === undefined ? undefined : CURVES[oid];
  if (curve === undefined) {
    throw new SealdError('precondition', 'UNSUPPORTED_KEY', `EC key on an unsupported curve (${oid ?? 'not a named curve'})`);
  }
  return curve;
}

/**
 * CKA_EC_POINT is the DER OCTET STRING wrapping the uncompressed point (PKCS#11 v2.40 §2.3.3); some tokens return
 * the bare point. The bare point has exactly 1 + 2·fieldBytes octets, the wrapped one more, so they cannot be confused.
 */
export function uncompressedPoint(ecPoint: Uint8Array, curve: Curve): Uint8Array {
  const bareLength = 1 + 2 * curve.fieldBytes;
  let point = ecPoint;
  if (ecPoint.length !== bareLength) {
    const parsed = asn1js.fromBER(new Uint8Array(ecPoint));
    if (!(parsed.result instanceof asn1js.OctetString)) {
      throw new SealdError('precondition', 'UNSUPPORTED_KEY', 'CKA_EC_POINT is neither a point nor a DER OCTET STRING');
    }
    point = new Uint8Array(parsed.result.valueBlock.valueHexView);
  }
  if (point.length !== bareLength || point[0] !== 0x04) {
    throw new SealdError('precondition', 'UNSUPPORTED_KEY', 'CKA_EC_POINT is not an uncompressed point of its curve');
  }
  return point;
}

export function ecSpki(ecParams: Uint8Array, ecPoint: Uint8Array): Uint8Array {
  const curve = curveOf(ecParams);
  const point = uncompressedPoint(ecPoint, curve);
  const x = Buffer.from(point.subarray(1, 1 + curve.fieldBytes)).toString('base64url');
  const y = Buffer.from(point.subarray(1 + curve.fieldBytes)).toString('base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: curve.jwk, x, y }, format: 'jwk' });
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/** Canonical DER of any SubjectPublicKeyInfo, so keys from a token and from a certificate compare byte for byte. */
export function canonicalSpki(spki: Uint8Array): Buffer {
  let canonical = canonicalSpkis.get(spki);
  if (canonical === undefined) {
    canonical = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' });
    canonicalSpkis.set(spki, canonical);
  }
  return canonical;
}

/** By the array a token's key facts or a certificate hold: the signer asks on every signature (eligibility). */
const canonicalSpkis = new WeakMap<Uint8Array, Buffer>();

export interface TokenKeyFacts {
  type: TokenKeyType;
  /** Undefined when the token exposes no public key for it (EC private keys carry no CKA_EC_POINT). */
  spki: Uint8Array | undefined;
  /** Bytes C_Sign returns: RSA k octets, ECDSA r‖s = 2·fieldBytes. */
  signatureLength: number;
  /**
   * CKA_ALWAYS_AUTHENTICATE (PKCS#11 v2.40 §4.9): every signature needs its own C_Login(CKU_CONTEXT_SPECIFIC) between
   * C_SignInit and C_Sign — the token, not seald, enforces the holder's consent (sole control).
   */
  alwaysAuthenticate: boolean;
}

/**
 * One attribute as raw bytes, by CKA_ number. (graphene's by-name reads fail for attributes with two names: it maps
 * CKA_EC_PARAMS back to "paramsECDSA", so getAttribute('paramsEC') answers undefined.)
 */
function rawAttribute(object: graphene.SessionObject, type: number): Buffer | undefined {
  try {
    const value = object.getAttribute(type);
    return Buffer.isBuffer(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** CK_ULONG attributes are native-endian machine words; the values used here fit in their low 32 bits. */
function ulongAttribute(object: graphene.SessionObject, type: number): number | undefined {
  const value = rawAttribute(object, type);
  return value === undefined || value.length < 4 ? undefined : value.readUInt32LE(0);
}

/** Find the public key object paired with a private key: same CKA_ID, else same CKA_LABEL (PKCS#11 §4.4 convention). */
function pairedPublicKey(session: graphene.Session, privateKey: graphene.SessionObject, keyType: number): graphene.SessionObject | undefined {
  const id = rawAttribute(privateKey, pkcs11js.CKA_ID);
  const label = rawAttribute(privateKey, pkcs11js.CKA_LABEL);
  const templates: graphene.ITemplate[] = [];
  if (id !== undefined && id.length > 0) templates.push({ class: graphene.ObjectClass.PUBLIC_KEY, keyType, id });
  if (label !== undefined) templates.push({ class: graphene.ObjectClass.PUBLIC_KEY, keyType, label: label.toString('utf8') });
  for (const template of templates) {
    const found = session.find(template);
    if (found.length > 0) return found.items(0);
  }
  return undefined;
}

/** CK_BBOOL attribute; undefined when the token does not answer it. */
function boolAttribute(object: graphene.SessionObject, type: number): boolean | undefined {
  const value = rawAttribute(object, type);
  return value === undefined || value.length < 1 ? undefined : value[0] !== 0;
}

/** Key type, public key and signature size of a private key object, read with synchronous calls (warm-up only). */
export function readTokenKeyFacts(session: graphene.Session, privateKey: graphene.SessionObject): TokenKeyFacts | undefined {
  const keyType = ulongAttribute(privateKey, pkcs11js.CKA_KEY_TYPE);
  const alwaysAuthenticate = boolAttribute(privateKey, pkcs11js.CKA_ALWAYS_AUTHENTICATE) ?? false;
  if (keyType === pkcs11js.CKK_RSA) {
    let modulus = rawAttribute(privateKey, pkcs11js.CKA_MODULUS);
    let exponent = rawAttribute(privateKey, pkcs11js.CKA_PUBLIC_EXPONENT);
    if (modulus === undefined || exponent === undefined) {
      const pub = pairedPublicKey(session, privateKey, keyType);
      if (pub) {
        modulus = rawAttribute(pub, pkcs11js.CKA_MODULUS);
        exponent = rawAttribute(pub, pkcs11js.CKA_PUBLIC_EXPONENT);
      }
    }
    if (modulus === undefined) return undefined;
    let bytes = modulus.length;
    while (bytes > 0 && modulus[modulus.length - bytes] === 0) bytes--;
    return { type: 'RSA', spki: exponent === undefined ? undefined : rsaSpki(modulus, exponent), signatureLength: bytes, alwaysAuthenticate };
  }
  if (keyType === pkcs11js.CKK_EC) {
    const params = rawAttribute(privateKey, pkcs11js.CKA_EC_PARAMS);
    if (params === undefined) return undefined;
    const curve = curveOf(params);
    const pub = pairedPublicKey(session, privateKey, keyType);
    const point = pub ? rawAttribute(pub, pkcs11js.CKA_EC_POINT) : undefined;
    return { type: 'EC', spki: point === undefined ? undefined : ecSpki(params, point), signatureLength: 2 * curve.fieldBytes, alwaysAuthenticate };
  }
  return undefined;
}
