/**
 * contentsSizeOf: the room reserved for the CMS is worked out once per certificate chain, whatever Signer object
 * carries it. The server wraps the pool's signer anew for every seal (idempotency recorder, activation, metrics), so a
 * cache keyed by the Signer object missed on every document (session 9's profile: maxPadesCmsSize built a public key
 * object from the certificate on every seal).
 */
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevCa, issueEndEntityCertificate } from '../../src/crypto/dev-ca.ts';
import { maxPadesCmsSize } from '../../src/crypto/cms.ts';
import type { SignatureAlgorithm, Signer } from '../../src/crypto/signer.ts';
import { contentsSizeOf } from '../../src/engine/seal.ts';

let rsaChain: Uint8Array[];
let ecChain: Uint8Array[];

async function chainFor(type: 'rsa' | 'ec'): Promise<Uint8Array[]> {
  const ca = await createDevCa();
  const { publicKey } =
    type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = await issueEndEntityCertificate({
    ca,
    subjectPublicKeyInfo: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    subject: { country: 'CN', organization: 'seald test', commonName: `${type} seal` },
    validity: { notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 86_400_000) },
  });
  return [leaf, ca.certificate];
}

/** A Signer as the server builds one per seal: a new object over the same certificates array. Never signs here. */
function wrapper(certificates: readonly Uint8Array[], algorithm: SignatureAlgorithm): Signer {
  return {
    certificates,
    algorithm,
    signDigest: () => Promise.reject(new Error('contentsSizeOf must not sign')),
  };
}

beforeAll(async () => {
  rsaChain = await chainFor('rsa');
  ecChain = await chainFor('ec');
});

describe('contentsSizeOf', () => {
  it('is the exact bound maxPadesCmsSize gives, for each chain', () => {
    expect(contentsSizeOf(wrapper(rsaChain, 'RSASSA-PKCS1-v1_5'))).toBe(maxPadesCmsSize(wrapper(rsaChain, 'RSASSA-PKCS1-v1_5')));
    expect(contentsSizeOf(wrapper(ecChain, 'ECDSA'))).toBe(maxPadesCmsSize(wrapper(ecChain, 'ECDSA')));
    // Different chains keep different sizes (a cache keyed too coarsely would hand one chain's room to the other).
    expect(contentsSizeOf(wrapper(rsaChain, 'RSASSA-PKCS1-v1_5'))).not.toBe(contentsSizeOf(wrapper(ecChain, 'ECDSA')));
  });

  it('answers a new Signer over a chain it has seen from the cache, and works a new chain out afresh', () => {
    const chain = [...rsaChain];
    const size = contentsSizeOf(wrapper(chain, 'RSASSA-PKCS1-v1_5'));
    // Working the size out checks the signer's algorithm against its certificate: a wrapper that claims the wrong one
    // over the same array is answered without that work (the cache hit) ...
    expect(contentsSizeOf(wrapper(chain, 'ECDSA'))).toBe(size);
    // ... and over a copy of the array (a reloaded seal's new chain) the size is worked out again.
    expect(() => contentsSizeOf(wrapper([...rsaChain], 'ECDSA'))).toThrow(/KEY_ALGORITHM_MISMATCH|holds a RSASSA/);
  });
});
