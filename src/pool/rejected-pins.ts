/**
 * PINs a token has rejected in this process. A rejected PIN is never presented again (real tokens lock after a few
 * wrong tries, SoftHSM never does — NOTES.md), even by a new TokenPool or the admin helper. Only an HMAC under a
 * random per-process key is kept, so the set can never reveal a PIN.
 */
import { createHmac, randomBytes } from 'node:crypto';

const processKey = randomBytes(32);
const rejected = new Set<string>();

function fingerprint(module: string, serial: string, pin: string): string {
  return createHmac('sha256', processKey).update(`${module}\0${serial}\0${pin}`).digest('base64');
}

export function isPinRejected(module: string, serial: string, pin: string): boolean {
  return rejected.has(fingerprint(module, serial, pin));
}

export function markPinRejected(module: string, serial: string, pin: string): void {
  rejected.add(fingerprint(module, serial, pin));
}
