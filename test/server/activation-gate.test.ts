/**
 * The server's edge of signature activation (src/server/activation.ts), without a token: what is refused before any
 * token call (PIN over plaintext, missing PIN, throttled seal), the throttle's window and cool-down on a fake clock,
 * and the PIN zeroed whatever the outcome. The token side is test/pool/activation.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SealdError } from '../../src/errors.ts';
import { ACTIVATION_DEFAULTS } from '../../src/config/activation-config.ts';
import type { SignatureActivation } from '../../src/pool/activation.ts';
import { ActivationGate } from '../../src/server/activation.ts';
import type { ConfiguredSeal } from '../../src/server/seals.ts';
import { fakeSeal } from './harness.ts';

function requiring(id: string): ConfiguredSeal & { used: SignatureActivation[] } {
  const base = fakeSeal(id, 'personal');
  const used: SignatureActivation[] = [];
  return {
    ...base,
    config: { ...base.config, activation: 'required' },
    used,
    activate(activation) {
      used.push(activation);
      return base.material;
    },
  };
}

const refused = (run: () => unknown): SealdError => {
  try {
    run();
  } catch (error) {
    if (error instanceof SealdError) return error;
    throw error;
  }
  throw new Error('not refused');
};

/** What the token does with the PIN: present it (as token.ts does before C_Login). */
const presentTo = (seal: { used: SignatureActivation[] }): string => seal.used.at(-1)!.present();

describe('ActivationGate', () => {
  it('refuses a PIN over plaintext unless configured for development, and zeroes it', () => {
    const gate = new ActivationGate(ACTIVATION_DEFAULTS, false);
    const pin = Buffer.from('1234');
    const error = refused(() => gate.open(requiring('p'), { pin }));
    expect(error.code).toBe('ACTIVATION_NEEDS_TLS');
    expect(error.message).not.toContain('1234');
    expect(pin.every((b) => b === 0)).toBe(true);
    // Even for a seal that needs none: the PIN has already travelled in the clear.
    expect(refused(() => gate.open(fakeSeal('org'), { pin: Buffer.from('1') })).code).toBe('ACTIVATION_NEEDS_TLS');
  });

  it('refuses a seal that requires activation without a PIN; a seal without activation ignores one', () => {
    const gate = new ActivationGate(ACTIVATION_DEFAULTS, true);
    expect(refused(() => gate.open(requiring('p'), undefined)).code).toBe('ACTIVATION_REQUIRED');
    expect(refused(() => gate.open(requiring('p'), { pin: new Uint8Array(0) })).code).toBe('ACTIVATION_REQUIRED');
    const pin = Buffer.from('unused');
    const org = fakeSeal('org');
    expect(gate.open(org, { pin }).material).toBe(org.material);
    expect(pin.every((b) => b === 0)).toBe(true);
  });

  it('hands the token its own copy of the PIN, zeroed at settle', () => {
    const gate = new ActivationGate(ACTIVATION_DEFAULTS, true);
    const seal = requiring('p');
    const pin = Buffer.from('4321');
    const request = gate.open(seal, { pin });
    expect(pin.every((b) => b === 0)).toBe(true); // the request's bytes at once
    expect(presentTo(seal)).toBe('4321');
    expect(() => seal.used[0]!.present()).toThrow(/one signature only/);
    request.settle(undefined);
    expect(JSON.stringify({ activation: seal.used[0] })).not.toContain('4321');
  });

  it('throttles a seal after max_failures wrong PINs within the window, for the cool-down; a right PIN resets', () => {
    let now = 1_000_000;
    const gate = new ActivationGate({ ...ACTIVATION_DEFAULTS, maxFailures: 3, windowSeconds: 60, coolDownSeconds: 300 }, true, () => now);
    const seal = requiring('p');
    const wrong = new SealdError('permission', 'ACTIVATION_FAILED', 'wrong');
    const attempt = (error: unknown): void => {
      const request = gate.open(seal, { pin: Buffer.from('x') });
      presentTo(seal);
      request.settle(error);
    };
    attempt(wrong);
    attempt(wrong);
    attempt(undefined); // the holder got it right: count cleared
    attempt(wrong);
    attempt(wrong);
    now += 61_000; // those two left the window
    attempt(wrong);
    attempt(wrong);
    attempt(wrong); // three within 60 s
    const throttled = refused(() => gate.open(seal, { pin: Buffer.from('x') }));
    expect(throttled.code).toBe('ACTIVATION_THROTTLED');
    expect(throttled.category).toBe('too-large');
    expect(throttled.message).toMatch(/retry after 300 s/);
    // Other seals are not throttled; a refusal before the token (never presented) does not count.
    const other = requiring('q');
    gate.open(other, { pin: Buffer.from('x') }).settle(wrong);
    now += 299_000;
    expect(refused(() => gate.open(seal, { pin: Buffer.from('x') })).message).toMatch(/retry after 1 s/);
    now += 1_000;
    expect(() => gate.open(seal, { pin: Buffer.from('x') })).not.toThrow();
  });
});
