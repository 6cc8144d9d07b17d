/** What a CMS builder must know about a public key to size and name a signature (RSA modulus, NIST curve). */
import { createPublicKey } from 'node:crypto';
import { SealdError } from '../errors.ts';

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
