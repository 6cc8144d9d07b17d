/**
 * Signature activation (sole control): the holder's PIN for ONE signature of a key with CKA_ALWAYS_AUTHENTICATE,
 * presented to the token as C_Login(CKU_CONTEXT_SPECIFIC) between C_SignInit and C_Sign on the same session
 * (PKCS#11 v2.40 §5.6 "user types", §10.9 / §5.12 C_SignInit). The token enforces it; seald only carries the PIN.
 *
 * A SignatureActivation is used at most once: the token marks it `presented` just before the C_Login, after which no
 * layer may retry it (on this token, another session or a replica) — a retry would spend another of the holder's PIN
 * attempts. The PIN lives in a Buffer that `dispose()` zeroes. pkcs11js takes the PIN as a JS string (C_Login(session,
 * type, pin?: string)); that transient copy cannot be zeroed and is left to the garbage collector.
 */
import { SealdError } from '../errors.ts';

/** CKU_CONTEXT_SPECIFIC (PKCS#11 v2.40 §3.2 CK_USER_TYPE); pkcs11js exports no name for it. */
export const CKU_CONTEXT_SPECIFIC = 2;

export class SignatureActivation {
  #pin: Buffer;
  #presented = false;
  #disposed = false;

  /** Takes ownership of `pin` (it is zeroed by dispose()). */
  constructor(pin: Buffer) {
    this.#pin = pin;
  }

  /** True once the PIN went to the token: from then on the signature is never retried. */
  get presented(): boolean {
    return this.#presented;
  }

  /** The PIN for the one C_Login; refuses a second use. */
  present(): string {
    if (this.#presented || this.#disposed) {
      throw new SealdError('internal', 'ACTIVATION_REUSED', 'a signature activation is used for one signature only');
    }
    this.#presented = true;
    return this.#pin.toString('utf8');
  }

  /** Zero the PIN. Safe to call more than once. */
  dispose(): void {
    this.#pin.fill(0);
    this.#disposed = true;
  }

  /** Never the PIN in a log line, JSON or inspection. */
  toJSON(): string {
    return '[activation]';
  }
}

/** The token's word on the holder's PIN after a refused context login (CK_TOKEN_INFO.flags, PKCS#11 v2.40 §3.2). */
export interface PinState {
  countLow: boolean;
  finalTry: boolean;
  locked: boolean;
}

/** The error for a context login the token refused. Never retried; never quarantines the token (the caller's PIN). */
export function activationRefused(ckr: string, tokenLabel: string, state: PinState | undefined): SealdError {
  if (ckr === 'CKR_PIN_LOCKED' || state?.locked === true) {
    return new SealdError(
      'precondition',
      'ACTIVATION_PIN_LOCKED',
      `the signature PIN of this seal is locked on token "${tokenLabel}": the holder must have it unblocked`,
    );
  }
  if (ckr === 'CKR_PIN_EXPIRED') {
    return new SealdError('precondition', 'ACTIVATION_PIN_EXPIRED', `the signature PIN of this seal has expired on token "${tokenLabel}"`);
  }
  const warning = state?.finalTry === true
    ? ' — the token says the next wrong PIN locks it: last attempt'
    : state?.countLow === true
      ? ' — the token reports that few attempts remain before it locks'
      : '';
  return new SealdError('permission', 'ACTIVATION_FAILED', `the token refused the signature PIN (${ckr})${warning}`);
}
