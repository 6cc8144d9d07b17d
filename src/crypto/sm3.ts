/**
 * SM3 (GB/T 32905-2016, GM/T 0004-2012), the 256-bit hash of SM2 signatures and GB/T 38540 seals. Node's crypto
 * offers `sm3` when its OpenSSL does (Node 20's bundled OpenSSL 3.0 does); an OpenSSL built without SM3 leaves
 * `getHashes()` without it, and then the TypeScript implementation in sm3-portable.ts is used.
 */
import { createHash, getHashes } from 'node:crypto';
import { Sm3Portable } from './sm3-portable.ts';

export const SM3_DIGEST_BYTES = 32;

/** An SM3 computation fed in pieces, e.g. a signed PDF's two byte ranges. */
export interface Sm3Hash {
  update(data: Uint8Array): this;
  /** The 32-byte hash value; the object is spent afterwards. */
  digest(): Uint8Array;
}

/** Which implementation this process uses: for logs and the health report, and for tests to say what they cover. */
export const sm3Implementation: 'node:crypto' | 'portable' = getHashes().includes('sm3') ? 'node:crypto' : 'portable';

class NodeSm3 implements Sm3Hash {
  private readonly hash = createHash('sm3');
  update(data: Uint8Array): this {
    this.hash.update(data);
    return this;
  }
  digest(): Uint8Array {
    return this.hash.digest();
  }
}

export function createSm3(): Sm3Hash {
  return sm3Implementation === 'node:crypto' ? new NodeSm3() : new Sm3Portable();
}

export function sm3(...parts: readonly Uint8Array[]): Uint8Array {
  const hash = createSm3();
  for (const part of parts) hash.update(part);
  return hash.digest();
}
