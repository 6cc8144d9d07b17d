/**
 * The standard security handler (ISO 32000-1 §7.6.3; ISO 32000-2 §7.6.4): which password opens the document, the file
 * key it yields, and the crypt filters strings and streams use.
 *
 *   R2      RC4, 40-bit key (V1)                       Algorithms 2, 4, 6, 7
 *   R3      RC4, 40 to 128 bits (V2)                   Algorithms 2, 5, 6, 7
 *   R4      crypt filters /StdCF: RC4 or AES-128 (V4)  as R3, plus /EncryptMetadata
 *   R5      AES-256 (V5), Adobe extension level 3      Algorithm 2.A with SHA-256 alone (deprecated by ISO 32000-2)
 *   R6      AES-256 (V5), ISO 32000-2                  Algorithms 2.A, 2.B, 11, 12, 13
 *
 * Nothing here logs, and no error message carries a password.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { PdfDict, PdfName, PdfString, type PdfObject } from '../objects.ts';
import { malformed } from '../errors.ts';
import { SealdError } from '../../errors.ts';
import { rc4 } from './rc4.ts';
import { SaslprepError, saslprep } from './saslprep.ts';
import { CryptFilter, aes256CbcNoIv, type CryptFilterMethod } from './crypt-filter.ts';
import { readPermissions, type Permissions } from './permissions.ts';

export type Password = string | Uint8Array;

/** What a caller (the engine) needs to know about a document's encryption. */
export interface EncryptionInfo {
  filter: 'Standard';
  /** /V, the algorithm version (§7.6.1 Table 20). */
  version: number;
  /** /R, the standard security handler's revision (§7.6.3.2 Table 21). */
  revision: number;
  /** Streams' method, as a person says it: 'RC4-40', 'RC4-128', 'AES-128', 'AES-256' (or 'none' for /Identity). */
  algorithm: string;
  keyBits: number;
  streamMethod: CryptFilterMethod;
  stringMethod: CryptFilterMethod;
  encryptMetadata: boolean;
  permissions: Permissions;
  /** True when the owner password opened the document: every permission is granted (§7.6.3.1). */
  ownerAuthenticated: boolean;
}

/** Algorithm 2 step a: the padding string of 32 bytes. */
const PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');

export class StandardSecurityHandler {
  private constructor(
    readonly info: EncryptionInfo,
    readonly fileKey: Uint8Array,
    private readonly filters: Map<string, CryptFilter>,
    private readonly stmF: string,
    private readonly strF: string,
  ) {}

  /**
   * Authenticate `password` (the empty password when absent) against the /Encrypt dictionary: first as the owner
   * password, then as the user password. `firstId`: the first element of the trailer's /ID (Algorithm 2 step e).
   */
  static open(encrypt: PdfDict, firstId: Uint8Array, password: Password | undefined, resolve: (o: PdfObject | undefined) => PdfObject | undefined): StandardSecurityHandler {
    const filter = resolve(encrypt.get('Filter'));
    const filterName = filter instanceof PdfName ? filter.name : undefined;
    if (filterName !== 'Standard') {
      const which = filterName === 'Adobe.PubSec' ? 'the public-key security handler (/Adobe.PubSec, §7.6.4)' : `the security handler /${filterName ?? '?'}`;
      throw new SealdError(
        'precondition',
        'PDF_ENCRYPTED',
        `the PDF is encrypted with ${which}, which seald cannot open: only password (standard security handler) encryption is supported; remove the encryption (e.g. \`qpdf --decrypt\`) and retry`,
      );
    }
    const num = (key: string, fallback?: number): number => {
      const v = resolve(encrypt.get(key));
      if (typeof v === 'number') return v;
      if (fallback !== undefined) return fallback;
      throw malformed(`the /Encrypt dictionary has no /${key}`);
    };
    const bytes = (key: string, min: number): Uint8Array => {
      const v = resolve(encrypt.get(key));
      if (!(v instanceof PdfString) || v.bytes.length < min) throw malformed(`the /Encrypt dictionary's /${key} is missing or too short`);
      return v.bytes;
    };
    const version = num('V', 0);
    const revision = num('R');
    const p = num('P');
    const encryptMetadata = resolve(encrypt.get('EncryptMetadata')) !== false;
    if (![1, 2, 4, 5].includes(version) || revision < 2 || revision > 6) {
      throw new SealdError('precondition', 'PDF_ENCRYPTED', `the PDF uses standard security handler /V ${version} /R ${revision}, which seald does not support`);
    }

    // Crypt filters: V4 and V5 name them in /CF, /StmF and /StrF (§7.6.5); V1 and V2 use RC4 for everything.
    const filterMethods = new Map<string, CryptFilterMethod>([['Identity', 'None']]);
    let stmF = 'StdCF';
    let strF = 'StdCF';
    let keyBytes: number;
    if (version >= 4) {
      const cf = resolve(encrypt.get('CF'));
      if (cf instanceof PdfDict) {
        for (const [name, value] of cf.entries) {
          const d = resolve(value);
          const cfm = d instanceof PdfDict ? resolve(d.get('CFM')) : undefined;
          const method = cfm instanceof PdfName ? cfm.name : 'None';
          if (!['None', 'V2', 'AESV2', 'AESV3'].includes(method)) throw malformed(`crypt filter /${name} has an unknown /CFM /${method}`);
          filterMethods.set(name, method as CryptFilterMethod);
        }
      }
      const nameOf = (key: string): string => {
        const v = resolve(encrypt.get(key));
        return v instanceof PdfName ? v.name : 'Identity';
      };
      stmF = nameOf('StmF');
      strF = nameOf('StrF');
      for (const f of [stmF, strF]) if (!filterMethods.has(f)) throw malformed(`/StmF or /StrF names the undefined crypt filter /${f}`);
      keyBytes = version === 5 ? 32 : 16;
    } else {
      filterMethods.set('StdCF', 'V2');
      keyBytes = revision === 2 ? 5 : num('Length', 40) / 8;
      if (!Number.isInteger(keyBytes) || keyBytes < 5 || keyBytes > 16) throw malformed('the /Encrypt /Length is not 40 to 128 bits in steps of 8');
    }
    if (version === 4) {
      // §7.6.3.1: the key length for V4 is 128 bits, whatever /Length says (some writers give it in bytes).
      const len = num('Length', 128);
      keyBytes = len === 40 || len === 5 ? 5 : 16;
    }

    const o = bytes('O', revision >= 5 ? 48 : 32);
    const u = bytes('U', revision >= 5 ? 48 : 32);
    const given = password !== undefined;
    const candidates = revision >= 5 ? utf8Candidates(password ?? '') : [pdfDocEncoded(password ?? '')];
    let fileKey: Uint8Array | undefined;
    let owner = false;
    for (const pw of candidates) {
      if (revision >= 5) {
        const r = authenticateAes256(revision, pw, o, u, bytes('OE', 32), bytes('UE', 32));
        if (r) ({ fileKey, owner } = r);
      } else {
        const params = { revision, keyBytes, o, u, p, firstId, encryptMetadata };
        const ownerKey = authenticateOwnerRc4(params, pw);
        if (ownerKey) [fileKey, owner] = [ownerKey, true];
        else fileKey = authenticateUserRc4(params, pw);
      }
      if (fileKey) break;
    }
    if (!fileKey) {
      throw new SealdError(
        'precondition',
        'PDF_PASSWORD_REQUIRED',
        given
          ? 'the password given is neither the PDF\'s user password nor its owner password'
          : 'the PDF is protected by a password (a user password is needed to open it): supply the document\'s password',
      );
    }
    if (revision >= 5) checkPerms(resolve(encrypt.get('Perms')), fileKey, p, encryptMetadata, revision);

    const filters = new Map<string, CryptFilter>();
    for (const [name, method] of filterMethods) filters.set(name, method === 'None' ? CryptFilter.identity : new CryptFilter(method, fileKey));
    const streamMethod = filterMethods.get(stmF)!;
    const info: EncryptionInfo = {
      filter: 'Standard',
      version,
      revision,
      algorithm: algorithmName(streamMethod, keyBytes),
      keyBits: keyBytes * 8,
      streamMethod,
      stringMethod: filterMethods.get(strF)!,
      encryptMetadata,
      permissions: readPermissions(p, revision),
      ownerAuthenticated: owner,
    };
    return new StandardSecurityHandler(info, fileKey, filters, stmF, strF);
  }

  get stringFilter(): CryptFilter {
    return this.filters.get(this.strF)!;
  }

  get streamFilter(): CryptFilter {
    return this.filters.get(this.stmF)!;
  }

  /** A crypt filter by name (a stream's /Crypt filter, §7.4.10), /Identity when unknown. */
  filter(name: string): CryptFilter {
    return this.filters.get(name) ?? CryptFilter.identity;
  }
}

function algorithmName(method: CryptFilterMethod, keyBytes: number): string {
  if (method === 'None') return 'none';
  if (method === 'V2') return `RC4-${keyBytes * 8}`;
  return method === 'AESV2' ? 'AES-128' : 'AES-256';
}

/**
 * R2–R4 passwords are PDFDocEncoding (§7.6.3.3 Algorithm 2 step a); a password with characters beyond Latin-1 cannot
 * be one, so it is tried as UTF-8, which some writers use.
 */
function pdfDocEncoded(password: Password): Uint8Array {
  if (typeof password !== 'string') return password;
  return /^[\u0000-\u00ff]*$/.test(password) ? Buffer.from(password, 'latin1') : Buffer.from(password, 'utf8');
}

/**
 * R5 and R6 passwords: SASLprep, then UTF-8, then at most 127 bytes (Algorithm 2.A step a). The password as typed is
 * tried too when SASLprep changes or refuses it: writers that skip SASLprep exist (pdf.js never applies it).
 */
function utf8Candidates(password: Password): Uint8Array[] {
  if (typeof password !== 'string') return [password.subarray(0, 127)];
  const out: Uint8Array[] = [];
  try {
    out.push(Buffer.from(saslprep(password), 'utf8').subarray(0, 127));
  } catch (e) {
    if (!(e instanceof SaslprepError)) throw e;
  }
  const raw = Buffer.from(password, 'utf8').subarray(0, 127);
  if (!out.some((c) => Buffer.from(c).equals(raw))) out.push(raw);
  return out;
}

interface Rc4Params {
  revision: number;
  keyBytes: number;
  o: Uint8Array;
  u: Uint8Array;
  p: number;
  firstId: Uint8Array;
  encryptMetadata: boolean;
}

function padded(password: Uint8Array): Buffer {
  return Buffer.concat([password.subarray(0, 32), PAD.subarray(0, 32 - Math.min(32, password.length))]);
}

/** Algorithm 2: the file key from a (user) password. */
function computeFileKey(params: Rc4Params, password: Uint8Array): Uint8Array {
  const p = Buffer.alloc(4);
  p.writeInt32LE(params.p | 0);
  const md5 = createHash('md5').update(padded(password)).update(params.o.subarray(0, 32)).update(p).update(params.firstId);
  if (params.revision >= 4 && !params.encryptMetadata) md5.update(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  let key: Uint8Array = md5.digest();
  if (params.revision >= 3) {
    for (let i = 0; i < 50; i++) key = createHash('md5').update(key.subarray(0, params.keyBytes)).digest();
  }
  return key.subarray(0, params.keyBytes);
}

/** Algorithm 4 (R2) or 5 (R3, R4): the /U value a file key produces; R3+ compares its first 16 bytes only. */
function computeU(params: Rc4Params, key: Uint8Array): Uint8Array {
  if (params.revision === 2) return rc4(key, PAD);
  let x: Uint8Array = createHash('md5').update(PAD).update(params.firstId).digest();
  x = rc4(key, x);
  for (let i = 1; i <= 19; i++) x = rc4(key.map((b) => b ^ i), x);
  return x;
}

/** Algorithm 6: is `password` the user password? Returns the file key when it is. */
function authenticateUserRc4(params: Rc4Params, password: Uint8Array): Uint8Array | undefined {
  const key = computeFileKey(params, password);
  const u = computeU(params, key);
  const n = params.revision === 2 ? 32 : 16;
  return Buffer.from(u.subarray(0, n)).equals(Buffer.from(params.u.subarray(0, n))) ? key : undefined;
}

/**
 * Algorithm 7: is `password` the owner password? The RC4 key of Algorithm 3 steps a–d decrypts /O back into the user
 * password (R3+: twenty rounds with the key XORed with 19 down to 0), which Algorithm 6 then checks.
 */
function authenticateOwnerRc4(params: Rc4Params, password: Uint8Array): Uint8Array | undefined {
  let key: Uint8Array = createHash('md5').update(padded(password)).digest();
  if (params.revision >= 3) for (let i = 0; i < 50; i++) key = createHash('md5').update(key).digest();
  key = key.subarray(0, params.keyBytes);
  let user: Uint8Array = params.o.subarray(0, 32);
  if (params.revision === 2) user = rc4(key, user);
  else for (let i = 19; i >= 0; i--) user = rc4(key.map((b) => b ^ i), user);
  return authenticateUserRc4(params, user);
}

/**
 * Algorithm 2.A (ISO 32000-2 §7.6.4.3.3) with Algorithms 11 and 12: the owner password hashes with /O's validation
 * salt and the 48 bytes of /U to /O's first 32 bytes, the user password with /U's validation salt to /U's; the key
 * salt's hash then decrypts /OE or /UE into the file key.
 */
function authenticateAes256(revision: number, password: Uint8Array, o: Uint8Array, u: Uint8Array, oe: Uint8Array, ue: Uint8Array): { fileKey: Uint8Array; owner: boolean } | undefined {
  const u48 = u.subarray(0, 48);
  const equal = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
  if (equal(hash(revision, password, o.subarray(32, 40), u48), o.subarray(0, 32))) {
    return { fileKey: aes256CbcNoIv(hash(revision, password, o.subarray(40, 48), u48), oe.subarray(0, 32), 'decrypt'), owner: true };
  }
  const none = new Uint8Array(0);
  if (equal(hash(revision, password, u.subarray(32, 40), none), u.subarray(0, 32))) {
    return { fileKey: aes256CbcNoIv(hash(revision, password, u.subarray(40, 48), none), ue.subarray(0, 32), 'decrypt'), owner: false };
  }
  return undefined;
}

/** R5: SHA-256 of password, salt and user data. R6: Algorithm 2.B. */
function hash(revision: number, password: Uint8Array, salt: Uint8Array, userData: Uint8Array): Uint8Array {
  const k = createHash('sha256').update(password).update(salt).update(userData).digest();
  return revision === 5 ? k : algorithm2B(k, password, userData);
}

/**
 * Algorithm 2.B (ISO 32000-2 §7.6.4.3.4): at least 64 rounds; each encrypts 64 repetitions of password ‖ K ‖ user data
 * with AES-128-CBC (key K[0..16], IV K[16..32]) and hashes the result with SHA-256, -384 or -512 chosen by the sum of
 * its first 16 bytes mod 3; it stops once the last byte of the round's ciphertext is at most round − 32.
 */
export function algorithm2B(initial: Uint8Array, password: Uint8Array, userData: Uint8Array): Uint8Array {
  let k: Uint8Array = initial;
  for (let round = 0; ; round++) {
    const k1 = Buffer.concat([password, k, userData]);
    const block = Buffer.concat(Array.from({ length: 64 }, () => k1));
    const cipher = createCipheriv('aes-128-cbc', k.subarray(0, 16), k.subarray(16, 32));
    cipher.setAutoPadding(false);
    const e = Buffer.concat([cipher.update(block), cipher.final()]);
    let sum = 0;
    for (let i = 0; i < 16; i++) sum += e[i]!;
    k = createHash(['sha256', 'sha384', 'sha512'][sum % 3]!).update(e).digest();
    if (round >= 63 && e[e.length - 1]! <= round + 1 - 32) return k.subarray(0, 32);
  }
}

/**
 * Algorithm 13 (ISO 32000-2 §7.6.4.4.12): /Perms, decrypted with the file key (AES-256-ECB), carries /P again, "adb",
 * and the /EncryptMetadata flag, so permissions edited in the clear /P are detected.
 */
function checkPerms(value: PdfObject | undefined, fileKey: Uint8Array, p: number, encryptMetadata: boolean, revision: number): void {
  if (!(value instanceof PdfString) || value.bytes.length < 16) {
    // Adobe's R5 files always carry /Perms; without it there is nothing to compare.
    if (revision === 6) throw malformed('the /Encrypt dictionary has no /Perms (required for revision 6)');
    return;
  }
  const d = createDecipheriv('aes-256-ecb', fileKey, null);
  d.setAutoPadding(false);
  const perms = Buffer.concat([d.update(value.bytes.subarray(0, 16)), d.final()]);
  if (perms.toString('latin1', 9, 12) !== 'adb') throw malformed('the /Encrypt /Perms does not decrypt with the file key');
  if (perms.readInt32LE(0) !== (p | 0) || (perms[8] === 0x54) !== encryptMetadata) {
    throw new SealdError('invalid-input', 'PDF_PERMISSIONS_TAMPERED', 'the PDF\'s permissions (/P) do not match its encrypted copy (/Perms): they were altered after encryption');
  }
}
