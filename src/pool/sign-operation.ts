/**
 * One PKCS#11 signature on a leased session: C_SignInit, the context login of an activated signature (one attempt),
 * then C_Sign — each on the module's own thread (module-thread.ts), C_Sign in pkcs11js' callback form on the libuv
 * thread pool: the event loop never waits on the token, not even for C_SignInit, which is a network round trip on a
 * remote HSM. What a failure means for the token is decided in token.ts.
 */
import pkcs11js from 'pkcs11js';
import { sha256DigestInfo } from '../crypto/digest-info.ts';
import { ecdsaRawToDer } from '../crypto/ecdsa-signature.ts';
import { CKU_CONTEXT_SPECIFIC, type PinState, type SignatureActivation } from './activation.ts';
import { ckrOf } from './pkcs11-errors.ts';
import type { TokenKeyFacts } from './public-key.ts';
import type { ModuleBinding } from './module-thread.ts';
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
  lib: ModuleBinding,
  slot: PooledSession,
  key: TokenKey,
  input: Uint8Array,
  activation: SignatureActivation | undefined,
): Promise<Uint8Array> {
  const mechanism: pkcs11js.Mechanism = { mechanism: key.facts.type === 'RSA' ? pkcs11js.CKM_RSA_PKCS : pkcs11js.CKM_ECDSA };
  await lib.C_SignInitAsync(slot.session.handle, mechanism, key.handle);
  if (activation !== undefined) {
    try {
      // The PIN crosses to the module's thread as a string in one message (pkcs11js takes a string); nothing keeps it.
      await lib.C_LoginAsync(slot.session.handle, CKU_CONTEXT_SPECIFIC, activation.present());
    } catch (error) {
      await endSignOperation(lib, slot, key);
      throw new ContextLoginRefused(error);
    }
  }
  // pkcs11js #121 (an async call reads its buffers after the JS frame returns) is moot here: the buffers are copied to
  // the module's thread, which keeps its copies until the callback.
  return new Promise<Uint8Array>((resolve, reject) => {
    lib.C_Sign(slot.session.handle, Buffer.from(input), Buffer.alloc(key.facts.signatureLength), (error, signature) => {
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
function endSignOperation(lib: ModuleBinding, slot: PooledSession, key: TokenKey): Promise<void> {
  // Expected to fail: the failure is what ends the operation.
  return new Promise<void>((resolve) => lib.C_Sign(slot.session.handle, Buffer.alloc(32), Buffer.alloc(key.facts.signatureLength), () => resolve()));
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
