/** The `activation` section and seals[].activation (src/config/activation-config.ts, seals-config.ts). */
import { describe, expect, it } from 'vitest';
import { activationFrom, ACTIVATION_DEFAULTS } from '../../src/config/activation-config.ts';
import { sealsFrom } from '../../src/config/seals-config.ts';

const seal = { id: 's', kind: 'personal', name: 'S', key: 'k', certificates: 'c.pem', image: 'i.png', size_mm: 20 };

describe('activation configuration', () => {
  it('defaults, and reads every key', () => {
    expect(activationFrom({}, '127.0.0.1:50051', false, 'test')).toEqual(ACTIVATION_DEFAULTS);
    expect(
      activationFrom(
        { activation: { max_failures: 5, window_seconds: 60, cool_down_seconds: 30, insecure_accept_pins_over_plaintext_for_development: true } },
        '127.0.0.1:50051',
        false,
        'test',
      ),
    ).toEqual({ maxFailures: 5, windowSeconds: 60, coolDownSeconds: 30, plaintextPinsForDevelopment: true });
  });

  it('accepts PINs over plaintext only on a loopback address', () => {
    const file = { activation: { insecure_accept_pins_over_plaintext_for_development: true } };
    expect(() => activationFrom(file, '0.0.0.0:50051', false, 'test')).toThrow(/loopback/);
    expect(() => activationFrom({ activation: { insecure_accept_pins_over_plaintext_for_development: 'yes' } }, '127.0.0.1:1', false, 'test')).toThrow(/true or false/);
    expect(() => activationFrom({ activation: { allow_plaintext: true } }, '127.0.0.1:1', false, 'test')).toThrow();
  });

  it('with TLS the plaintext key has no effect, off loopback too (the embedded demo on 0.0.0.0)', () => {
    const file = { activation: { insecure_accept_pins_over_plaintext_for_development: true } };
    expect(activationFrom(file, '0.0.0.0:50051', true, 'test').plaintextPinsForDevelopment).toBe(false);
    expect(activationFrom(file, '127.0.0.1:50051', true, 'test').plaintextPinsForDevelopment).toBe(false);
  });

  it('seals[].activation is required or none', () => {
    const id = (p: string): string => p;
    expect(sealsFrom([{ ...seal, activation: 'required' }], id, 'test')[0]!.activation).toBe('required');
    expect(sealsFrom([seal], id, 'test')[0]!.activation).toBeUndefined();
    expect(() => sealsFrom([{ ...seal, activation: true }], id, 'test')).toThrow(/required or none/);
  });
});
