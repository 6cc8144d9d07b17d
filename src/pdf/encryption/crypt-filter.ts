/**
 * Crypt filters (ISO 32000-1 §7.6.5; ISO 32000-2 §7.6.6): how one string or stream of one object is encrypted once the
 * file key is known.
 *
 *   /V2     RC4 with the object key of Algorithm 1 (§7.6.2)
 *   /AESV2  AES-128-CBC with the object key of Algorithm 1 (salted with "sAlT"), a 16-byte IV first, PKCS#5 padding
 *   /AESV3  AES-256-CBC with the file key itself (ISO 32000-2 §7.6.3.2), IV first, PKCS#5 padding
 *   /None   (/Identity) the data as it is
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { rc4 } from './rc4.ts';
import { malformed } from '../errors.ts';

export type CryptFilterMethod = 'None' | 'V2' | 'AESV2' | 'AESV3';

const AES_BLOCK = 16;

export class CryptFilter {
  /** `fileKey`: 5 to 16 bytes for V2 and AESV2 (Algorithm 2), 32 for AESV3 (Algorithm 2.A). */
  constructor(
    readonly method: CryptFilterMethod,
    private readonly fileKey: Uint8Array,
  ) {}

  static readonly identity = new CryptFilter('None', new Uint8Array(0));

  /**
   * Algorithm 1 (ISO 32000-1 §7.6.2), steps a–d: MD5 of the file key, the object number's low three bytes and the
   * generation's low two (little-endian), and "sAlT" for AES; the first n + 5 bytes (at most 16) are the object key.
   * AESV3 uses the file key as it is (ISO 32000-2 §7.6.3.2, Algorithm 1.A).
   */
  objectKey(num: number, gen: number): Uint8Array {
    if (this.method === 'AESV3') return this.fileKey;
    const md5 = createHash('md5').update(this.fileKey);
    md5.update(Uint8Array.of(num & 0xff, (num >> 8) & 0xff, (num >> 16) & 0xff, gen & 0xff, (gen >> 8) & 0xff));
    if (this.method === 'AESV2') md5.update('sAlT', 'latin1');
    return md5.digest().subarray(0, Math.min(this.fileKey.length + 5, 16));
  }

  decrypt(data: Uint8Array, num: number, gen: number): Uint8Array {
    switch (this.method) {
      case 'None':
        return data;
      case 'V2':
        return rc4(this.objectKey(num, gen), data);
      default:
        return aesDecrypt(this.method, this.objectKey(num, gen), data, num);
    }
  }

  encrypt(data: Uint8Array, num: number, gen: number): Uint8Array {
    switch (this.method) {
      case 'None':
        return data;
      case 'V2':
        return rc4(this.objectKey(num, gen), data);
      default: {
        // §7.6.2 step g: a 16-byte random initialisation vector, then the CBC ciphertext with PKCS#5 padding.
        const iv = randomBytes(AES_BLOCK);
        const cipher = createCipheriv(aesName(this.method), this.objectKey(num, gen), iv);
        return Buffer.concat([iv, cipher.update(data), cipher.final()]);
      }
    }
  }
}

function aesName(method: 'AESV2' | 'AESV3'): string {
  return method === 'AESV2' ? 'aes-128-cbc' : 'aes-256-cbc';
}

/**
 * IV (16 bytes) then CBC blocks; the padding (§7.6.2: "PKCS#5", 1 to 16 bytes of value n) is removed when it is
 * well formed. An empty string stays empty (some writers encrypt "" to nothing). A trailing partial block is dropped,
 * as Acrobat and pdf.js do, rather than refusing the document.
 */
function aesDecrypt(method: 'AESV2' | 'AESV3', key: Uint8Array, data: Uint8Array, num: number): Uint8Array {
  if (data.length === 0) return data;
  if (data.length < AES_BLOCK) throw malformed(`an AES-encrypted string or stream of object ${num} is shorter than its IV`);
  const body = data.subarray(AES_BLOCK, AES_BLOCK + Math.floor((data.length - AES_BLOCK) / AES_BLOCK) * AES_BLOCK);
  if (body.length === 0) return new Uint8Array(0);
  const decipher = createDecipheriv(aesName(method), key, data.subarray(0, AES_BLOCK));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(body), decipher.final()]);
  const pad = plain[plain.length - 1]!;
  if (pad >= 1 && pad <= AES_BLOCK && plain.subarray(plain.length - pad).every((b) => b === pad)) {
    return plain.subarray(0, plain.length - pad);
  }
  return plain;
}

/** AES-256 without IV or padding over whole blocks: the file key out of /OE or /UE (Algorithm 2.A steps d–e). */
export function aes256CbcNoIv(key: Uint8Array, data: Uint8Array, direction: 'decrypt' | 'encrypt'): Buffer {
  const make = direction === 'decrypt' ? createDecipheriv : createCipheriv;
  const c = make('aes-256-cbc', key, Buffer.alloc(AES_BLOCK));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}
