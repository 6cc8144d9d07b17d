/**
 * Signature activation at the server's edge (issue 22, sole control). For each request that signs, before any
 * token call: refuse activation data that came over plaintext gRPC (unless configured for development), refuse a
 * seal that requires activation when no PIN came, refuse a seal whose recent wrong PINs reached the throttle; then
 * hand the engine a seal material whose Signer makes its one signature with the PIN (src/pool/activation.ts).
 *
 * The throttle counts wrong PINs per seal, whoever sent them: the holder's PIN attempts live on the token per key,
 * and real tokens lock after a few (SoftHSM never does — NOTES.md). After `maxFailures` wrong PINs within
 * `windowSeconds` the seal's activations are refused for `coolDownSeconds` (RESOURCE_EXHAUSTED), before the token
 * locks the holder out. A right PIN clears the count. The PIN is never logged, audited or echoed, and its Buffer is
 * zeroed when the request ends.
 */
import { SealdError } from '../errors.ts';
import type { SealMaterial } from '../engine/seal.ts';
import type { ActivationSettings } from '../config/activation-config.ts';
import { SignatureActivation } from '../pool/activation.ts';
import type { ConfiguredSeal } from './seals.ts';

/** What a request carried (SealHeader.activation / DocumentStart.activation). */
export interface ActivationData {
  pin: Uint8Array;
}

/** One request's activation: the material to seal with, and the end of the PIN's life. */
export interface RequestActivation {
  material: SealMaterial;
  /** Count the outcome for the throttle and zero the PIN. Call once, when the signature is done or failed. */
  settle(error: unknown): void;
}

export class ActivationGate {
  readonly #failures = new Map<string, number[]>();
  readonly #coolingUntil = new Map<string, number>();

  constructor(
    private readonly settings: ActivationSettings,
    /** True when the gRPC port is TLS. */
    private readonly transportSecure: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** Refusals happen here, before any token call; the caller must settle() what it gets. */
  open(seal: ConfiguredSeal, given: ActivationData | undefined): RequestActivation {
    const hasPin = given !== undefined && given.pin.byteLength > 0;
    const zero = (): void => {
      if (given !== undefined) given.pin.fill(0);
    };
    if (hasPin && !this.transportSecure && !this.settings.plaintextPinsForDevelopment) {
      zero();
      throw new SealdError(
        'precondition',
        'ACTIVATION_NEEDS_TLS',
        'this server takes no signature PIN over plaintext gRPC: connect with TLS (the PIN you sent is discarded)',
      );
    }
    if (seal.config.activation !== 'required') {
      zero(); // not needed for this seal: discarded unused
      return { material: seal.material, settle: () => undefined };
    }
    if (!hasPin) {
      throw new SealdError(
        'precondition',
        'ACTIVATION_REQUIRED',
        `seal "${seal.config.id}" signs only with its holder's PIN: send it with the request (seald seal --pin-file / --pin-stdin)`,
      );
    }
    this.#checkThrottle(seal.config.id, zero);
    if (seal.activate === undefined) {
      zero();
      throw new SealdError('internal', 'ACTIVATION_UNSUPPORTED', `seal "${seal.config.id}" has no signer that takes an activation`);
    }
    // The activation owns its own copy (zeroed by dispose()); the request's bytes are zeroed now.
    const activation = new SignatureActivation(Buffer.from(given!.pin));
    zero();
    const material = seal.activate(activation);
    let settled = false;
    return {
      material,
      settle: (error) => {
        if (settled) return;
        settled = true;
        activation.dispose();
        if (!activation.presented) return; // never reached the token: says nothing about the PIN
        if (error instanceof SealdError && error.code === 'ACTIVATION_FAILED') this.#failed(seal.config.id);
        else if (error === undefined) this.#failures.delete(seal.config.id);
      },
    };
  }

  #checkThrottle(sealId: string, zero: () => void): void {
    const until = this.#coolingUntil.get(sealId);
    const now = this.now();
    if (until !== undefined && until > now) {
      zero();
      const seconds = Math.ceil((until - now) / 1000);
      throw new SealdError(
        'too-large',
        'ACTIVATION_THROTTLED',
        `seal "${sealId}" refuses activations for ${seconds} s after ${this.settings.maxFailures} wrong PINs (retry after ${seconds} s)`,
      );
    }
    if (until !== undefined) this.#coolingUntil.delete(sealId);
  }

  #failed(sealId: string): void {
    const now = this.now();
    const recent = (this.#failures.get(sealId) ?? []).filter((t) => t > now - this.settings.windowSeconds * 1000);
    recent.push(now);
    if (recent.length >= this.settings.maxFailures) {
      this.#coolingUntil.set(sealId, now + this.settings.coolDownSeconds * 1000);
      this.#failures.delete(sealId);
    } else {
      this.#failures.set(sealId, recent);
    }
  }
}
