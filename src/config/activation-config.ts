/**
 * The `activation` section: how the server guards signature activation (sole control, issue 22).
 *
 *   activation:
 *     max_failures: 3            # wrong PINs for one seal within window_seconds…
 *     window_seconds: 900
 *     cool_down_seconds: 900     # …refuse activations of that seal for this long (before the token locks the holder)
 *     insecure_accept_pins_over_plaintext_for_development: false
 *
 * The last key lets a server without TLS accept PINs. It is named so nobody sets it by accident, and it is honoured
 * only on a loopback listen address (the embedded demo); anywhere else without TLS it is a configuration error (with
 * TLS it has no effect).
 */
import { configError, parseSeconds, positiveInteger, section, type Table } from './values.ts';

export interface ActivationSettings {
  maxFailures: number;
  windowSeconds: number;
  coolDownSeconds: number;
  /** Accept activation PINs over plaintext gRPC (development on loopback only). */
  plaintextPinsForDevelopment: boolean;
}

export const ACTIVATION_DEFAULTS: ActivationSettings = {
  maxFailures: 3,
  windowSeconds: 900,
  coolDownSeconds: 900,
  plaintextPinsForDevelopment: false,
};

const PLAINTEXT_KEY = 'insecure_accept_pins_over_plaintext_for_development';

export function isLoopbackAddress(listen: string): boolean {
  return /^(127\.|\[::1\]|localhost:)/.test(listen);
}

export function activationFrom(file: Table, listen: string, tls: boolean, source: string): ActivationSettings {
  const table = section(file, 'activation', source, ['max_failures', 'window_seconds', 'cool_down_seconds', PLAINTEXT_KEY]);
  const plaintext = table[PLAINTEXT_KEY];
  if (plaintext !== undefined && plaintext !== null && typeof plaintext !== 'boolean') {
    throw configError(`activation.${PLAINTEXT_KEY}`, 'expected true or false', source);
  }
  // With TLS the key has nothing to allow (PINs travel encrypted): the embedded demo's file keeps it for loopback.
  if (plaintext === true && !tls && !isLoopbackAddress(listen)) {
    throw configError(`activation.${PLAINTEXT_KEY}`, `PINs over plaintext are for development on a loopback address, not ${listen}: configure tls`, source);
  }
  const given = (key: string): unknown => (table[key] === null ? undefined : table[key]);
  return {
    maxFailures: given('max_failures') === undefined ? ACTIVATION_DEFAULTS.maxFailures : positiveInteger(table.max_failures, 'activation.max_failures', source),
    windowSeconds: given('window_seconds') === undefined ? ACTIVATION_DEFAULTS.windowSeconds : parseSeconds(table.window_seconds, 'activation.window_seconds', source),
    coolDownSeconds:
      given('cool_down_seconds') === undefined ? ACTIVATION_DEFAULTS.coolDownSeconds : parseSeconds(table.cool_down_seconds, 'activation.cool_down_seconds', source),
    plaintextPinsForDevelopment: plaintext === true && !tls,
  };
}
