/**
 * One PKCS#11 signature on a leased session: C_SignInit (synchronous, fast), the context login of an activated
 * signature (synchronous, one attempt), then the callback form of C_Sign, which pkcs11js runs on the libuv thread
 * pool — the event loop never waits on the token. What a failure means for the token is decided in token.ts.
 */
import pkcs11js from 'pkcs11js';
import { sha256DigestInfo } from '../crypto/digest-info.ts';
import { ecdsaRawToDer } from '../crypto/ecdsa-signature.ts';
import { CKU_CONTEXT_SPECIFIC, type PinState, type SignatureActivation } from './activation.ts';
import { ckrOf } from './pkcs11-errors.ts';
import type { TokenKeyFacts } from './public-key.ts';
import type { PooledSession } from './session-pool.ts';
import type { TokenKey } from './token-keys.ts';

/** What goes to C_Sign: RSA: CKM_RSA_PKCS over the DigestInfo (RFC 8017 §9.2); ECDSA: CKM_ECDSA over the bare digest. */
export function signInput(facts: TokenKeyFacts, digest: Uint8Array): Uint8Array {
  return facts.type === 'RSA' ? sha256DigestInfo(digest) : new Uint8Array(digest);
}

/** What CMS wants from what C_Sign returned: RSA octets as they are, ECDSA r‖s as a DER Ecdsa-Sig-Value. */
export function cmsSignatureValue(facts: TokenKeyFacts, raw: Uint8Array): Uint8Array {
  return facts.type === 'EC' ? ecdsaRawToDer(raw) : raw;
}

/** A C_Login(CKU_CONTEXT_SPECIFIC) the token refused (kept apart from the user login's PIN faults). */
export class ContextLoginRefused extends Error {
  readonly ckr: string | undefined;
  constructor(cause: unknown) {
    super('context login refused', { cause });
    this.ckr = ckrOf(cause);
  }
}

/**
 * C_SignInit, the context login when `activation` is given, then C_Sign on the libuv thread pool. Rejects with the
 * pkcs11js error, or with ContextLoginRefused when the token refused the holder's PIN.
 */
export async function signOnce(
  lib: pkcs11js.PKCS11,
  slot: PooledSession,
  key: TokenKey,
  input: Uint8Array,
  activation: SignatureActivation | undefined,
): Promise<Uint8Array> {
  const data = Buffer.from(input);
  const out = Buffer.alloc(key.facts.signatureLength);
  const mechanism: pkcs11js.Mechanism = { mechanism: key.facts.type === 'RSA' ? pkcs11js.CKM_RSA_PKCS : pkcs11js.CKM_ECDSA };
  lib.C_SignInit(slot.session.handle, mechanism, key.handle);
  if (activation !== undefined) {
    try {
      lib.C_Login(slot.session.handle, CKU_CONTEXT_SPECIFIC, activation.present());
    } catch (error) {
      endSignOperation(lib, slot, key);
      throw new ContextLoginRefused(error);
    }
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    // pkcs11js #121: the worker thread reads `data` and writes `out` after this frame returns; keep both reachable.
    slot.pinned = [data, out];
    lib.C_Sign(slot.session.handle, data, out, (error, signature) => {
      slot.pinned = [];
      if (error) reject(error);
      else resolve(new Uint8Array(signature));
    });
  });
}

/**
 * End the sign operation a refused context login left active (SoftHSM 2.6 then answers C_SignInit with
 * CKR_OPERATION_ACTIVE). PKCS#11 v2.40 has no C_SessionCancel; a C_Sign that fails with anything but
 * CKR_BUFFER_TOO_SMALL ends the operation (§5.12), and without the context login it fails (CKR_USER_NOT_LOGGED_IN).
 */
function endSignOperation(lib: pkcs11js.PKCS11, slot: PooledSession, key: TokenKey): void {
  try {
    lib.C_Sign(slot.session.handle, Buffer.alloc(32), Buffer.alloc(key.facts.signatureLength));
  } catch {
    // Expected: the failure is what ends the operation.
  }
}

/** The token's word on the user PIN (CK_TOKEN_INFO.flags), or undefined when it gives no token info. */
export function readPinState(lib: pkcs11js.PKCS11, slotHandle: Buffer): PinState | undefined {
  try {
    const flags = lib.C_GetTokenInfo(slotHandle).flags;
    return {
      countLow: (flags & pkcs11js.CKF_USER_PIN_COUNT_LOW) !== 0,
      finalTry: (flags & pkcs11js.CKF_USER_PIN_FINAL_TRY) !== 0,
      locked: (flags & pkcs11js.CKF_USER_PIN_LOCKED) !== 0,
    };
  } catch {
    return undefined;
  }
}
