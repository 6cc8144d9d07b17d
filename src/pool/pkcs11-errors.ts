/**
 * Classification of PKCS#11 return values (PKCS#11 v2.40 §5.1) into what the pool does about them. pkcs11js raises
 * an Error whose message is the CKR_ name ("CKR_PIN_INCORRECT"), with the numeric value in `code`.
 */

export function ckrOf(error: unknown): string | undefined {
  if (error instanceof Error) {
    const match = /CKR_[A-Z0-9_]+/.exec(error.message);
    if (match) return match[0];
  }
  return undefined;
}

/** The PIN itself is wrong or unusable: never retry it in this process (real tokens lock after a few tries). */
export const PIN_FAULTS: ReadonlySet<string> = new Set([
  'CKR_PIN_INCORRECT',
  'CKR_PIN_LOCKED',
  'CKR_PIN_EXPIRED',
  'CKR_PIN_INVALID',
  'CKR_PIN_LEN_RANGE',
]);

/** The session is gone (closed elsewhere, token re-inserted): open a new one and retry once. */
export const SESSION_FAULTS: ReadonlySet<string> = new Set(['CKR_SESSION_HANDLE_INVALID', 'CKR_SESSION_CLOSED']);

/**
 * The token logged out (a logout or the last session closing anywhere in the process logs the whole token out;
 * private key handles then become invalid — NOTES.md): log in again, find the key again, retry once.
 */
export const LOGIN_FAULTS: ReadonlySet<string> = new Set([
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_OBJECT_HANDLE_INVALID',
]);

/** The device is unusable: mark the token down. */
export const DEVICE_FAULTS: ReadonlySet<string> = new Set([
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_DEVICE_MEMORY',
]);

/** What a fault is, for the token's counters (TokenStatus.faults) and for what the token does about it. */
export type FaultClass = 'session' | 'login' | 'device' | 'pin' | 'other';

export function classifyFault(ckr: string | undefined): FaultClass {
  if (ckr === undefined) return 'other';
  if (SESSION_FAULTS.has(ckr)) return 'session';
  if (LOGIN_FAULTS.has(ckr)) return 'login';
  if (DEVICE_FAULTS.has(ckr)) return 'device';
  if (PIN_FAULTS.has(ckr)) return 'pin';
  return 'other';
}
