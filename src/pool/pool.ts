/**
 * TokenPool: the tokens of one or more PKCS#11 modules, warmed up once, handing out Signers that sign
 * asynchronously. Tokens holding the same key (same CKA_LABEL and public key) form a replica set: each sign goes to
 * the least busy ready one, and to the next when a token goes down under it.
 * See token.ts for login, faults and recovery (session-pool.ts for session leases, sign-operation.ts for one C_Sign);
 * module-registry.ts for initialisation.
 */
import type { Logger } from 'pino';
import { SealdError } from '../errors.ts';
import { certificatePublicKeyInfo } from '../crypto/certificate.ts';
import { publicKeyParameters } from '../crypto/key-parameters.ts';
import type { SignatureAlgorithm, Signer } from '../crypto/signer.ts';
import type { SignatureActivation } from './activation.ts';
import type { Pkcs11Config } from './config.ts';
import { acquireModule, type ModuleLease } from './module-registry.ts';
import { canonicalSpki, type TokenKeyType } from './public-key.ts';
import { describeWanted, listTokens, matchTokens } from './slots.ts';
import { PooledToken, tokenTiming, type SignObserver, type TokenStatus } from './token.ts';

export type { PinSource, Pkcs11Config, PoolHealthConfig, TokenConfig } from './config.ts';
export { SignatureActivation } from './activation.ts';
import { readSealObjects, type SealObjects } from './token-objects.ts';
export type { FaultClass, TokenState, TokenStatus } from './token.ts';

/** A Signer that can also make one signature with its holder's PIN (signature activation). */
export interface ActivatableSigner extends Signer {
  activated(activation: SignatureActivation): Signer;
}

function algorithmOf(type: TokenKeyType): SignatureAlgorithm {
  return type === 'RSA' ? 'RSASSA-PKCS1-v1_5' : 'ECDSA';
}

/**
 * A Signer for one key over candidate tokens. Which of them may sign is decided at each sign, not once: a token
 * that was down at warm-up (keys unknown) and has recovered since joins the replica set when it holds the key.
 */
class PoolSigner implements ActivatableSigner {
  constructor(
    private readonly keyLabel: string,
    private readonly candidates: PooledToken[],
    /** Canonical SPKI the key must have (from the certificate), or undefined to accept the key as found. */
    private readonly wantedSpki: Buffer | undefined,
    readonly certificates: readonly Uint8Array[],
    readonly algorithm: SignatureAlgorithm,
  ) {}

  #eligible(token: PooledToken): boolean {
    const facts = token.keyFacts(this.keyLabel);
    if (token.state !== 'ready' || facts === undefined || algorithmOf(facts.type) !== this.algorithm) return false;
    return this.wantedSpki === undefined || facts.spki === undefined || canonicalSpki(facts.spki).equals(this.wantedSpki);
  }

  /**
   * A Signer for one signature made with the holder's PIN (keys with CKA_ALWAYS_AUTHENTICATE). Never cached: the
   * caller makes one per signature and disposes of the activation afterwards.
   */
  activated(activation: SignatureActivation): Signer {
    return {
      certificates: this.certificates,
      algorithm: this.algorithm,
      signDigest: (digest, signal) => this.signDigest(digest, signal, activation),
    };
  }

  async signDigest(digest: Uint8Array, signal?: AbortSignal, activation?: SignatureActivation): Promise<Uint8Array> {
    if (digest.length !== 32) {
      throw new SealdError('invalid-input', 'BAD_DIGEST_LENGTH', `a SHA-256 digest has 32 bytes, got ${digest.length}`);
    }
    const ready = this.candidates.filter((t) => this.#eligible(t)).sort((a, b) => a.pressure() - b.pressure());
    let lastError: SealdError | undefined;
    for (const token of ready) {
      try {
        return await token.sign(this.keyLabel, digest, signal, activation);
      } catch (error) {
        // Fail over only when the token itself became unusable; a cancelled or refused request is final, and so is
        // any signature whose activation PIN already reached a token (a replica would spend another attempt).
        if (
          error instanceof SealdError &&
          (error.code === 'TOKEN_DOWN' || error.code === 'TOKEN_QUARANTINED') &&
          activation?.presented !== true
        ) {
          lastError = error;
          continue;
        }
        throw error;
      }
    }
    if (lastError !== undefined) throw lastError;
    const notReady = this.candidates.find((t) => t.state !== 'ready');
    if (notReady !== undefined) throw notReady.unavailableError();
    throw new SealdError('not-found', 'KEY_NOT_FOUND', `no token holds a private key labelled "${this.keyLabel}"`);
  }
}

/**
 * Re-initialise a module whose tokens are all down (or quarantined) and idle (no C_Sign running: finalising under a running sign is
 * known to crash SoftHSM, NOTES.md). Their sessions are closed first, since a new C_Initialize voids every handle and
 * may hand the same numbers out again. True when the module was re-initialised.
 */
function reinitializeWhenAllDown(lease: ModuleLease, tokens: readonly PooledToken[], logger: Logger): boolean {
  if (!tokens.every((t) => t.idleAndUnusable)) return false;
  for (const token of tokens) token.dropSessions();
  try {
    lease.reinitialize();
    return true;
  } catch (error) {
    logger.warn({ module: lease.path, err: (error as Error).message }, 'PKCS#11 module could not be re-initialised; probing again later');
    return false;
  }
}

export class TokenPool {
  #closed: Promise<void> | undefined;

  private constructor(
    private readonly leases: ModuleLease[],
    private readonly tokens: PooledToken[],
    private readonly logger: Logger,
  ) {}

  /**
   * Warm-up: load and initialise the module (once per process), find the configured tokens, open their sessions,
   * log in, list keys. Every synchronous PKCS#11 call of the pool's life happens here (and in rare recovery).
   * A token that is missing, refuses its PIN or fails is kept with state 'down'/'quarantined' and reported by
   * status(); configuration errors throw.
   */
  static async open(config: Pkcs11Config | readonly Pkcs11Config[], logger: Logger): Promise<TokenPool> {
    const log = logger.child({ component: 'pkcs11' });
    const modules: readonly Pkcs11Config[] = Array.isArray(config) ? config : [config as Pkcs11Config];
    if (modules.length === 0 || modules.some((m) => m.tokens.length === 0)) {
      throw new SealdError('invalid-input', 'NO_TOKENS', 'the pkcs11 configuration lists no tokens');
    }
    const leases: ModuleLease[] = [];
    const tokens: PooledToken[] = [];
    try {
      for (const moduleConfig of modules) {
        const callTimeout = moduleConfig.health?.callTimeoutSeconds;
        const lease = acquireModule(moduleConfig.module, {
          logger: log,
          ...(moduleConfig.env === undefined ? {} : { env: moduleConfig.env }),
          ...(callTimeout === undefined ? {} : { callTimeoutMs: callTimeout * 1000 }),
        });
        leases.push(lease);
        const timing = tokenTiming(moduleConfig.health);
        const present = listTokens(lease.module);
        const used = new Set<string>();
        for (const tokenConfig of moduleConfig.tokens) {
          const matches = matchTokens(present, tokenConfig);
          if (matches.length > 1) {
            log.warn({ token: describeWanted(tokenConfig), serials: matches.map((m) => m.serial) }, 'several tokens match; using the first (give a serial)');
          }
          const found = matches[0];
          if (found !== undefined) {
            if (used.has(found.serial)) {
              throw new SealdError('invalid-input', 'TOKEN_DUPLICATE', `token ${describeWanted(tokenConfig)} is configured twice`);
            }
            used.add(found.serial);
          }
          tokens.push(PooledToken.warmUp(lease, found, tokenConfig, log, timing));
        }
        const onModule = tokens.slice(tokens.length - moduleConfig.tokens.length);
        for (const token of onModule) token.onModuleLost(() => reinitializeWhenAllDown(lease, onModule, log));
      }
    } catch (error) {
      await Promise.all(tokens.map((t) => t.close()));
      for (const lease of leases) lease.release();
      if (error instanceof SealdError) throw error;
      throw new SealdError('unavailable', 'PKCS11_WARMUP', `PKCS#11 warm-up failed: ${(error as Error).message}`, { cause: error });
    }
    return new TokenPool(leases, tokens, log);
  }

  /** True when a healthy ('ready') token holds a private key with this CKA_LABEL. */
  hasKey(keyLabel: string): boolean {
    return this.tokens.some((t) => t.state === 'ready' && t.hasKey(keyLabel));
  }

  /**
   * A Signer for the key labelled `keyLabel`, embedding `certificates` (signer first). When certificates are given,
   * only tokens whose key matches certificates[0]'s public key are used (KEY_CERTIFICATE_MISMATCH if none).
   * KEY_NOT_FOUND when no token holds the key. If the key may sit on a token that could not log in (quarantined
   * or down at warm-up, so its private keys are unknown), the Signer is returned and its signs reject with that
   * token's TOKEN_QUARANTINED / TOKEN_DOWN — the actionable error — rather than KEY_NOT_FOUND.
   */
  signer(keyLabel: string, certificates: Uint8Array[]): ActivatableSigner {
    if (this.#closed) throw new SealdError('unavailable', 'POOL_CLOSED', 'the PKCS#11 pool is closed');
    const holders = this.tokens.filter((t) => t.hasKey(keyLabel));
    const certificate = certificates[0];
    const wanted = certificate === undefined ? undefined : canonicalSpki(certificatePublicKeyInfo(certificate));
    if (holders.length > 0 && wanted !== undefined) {
      const matching = holders.filter((t) => {
        const spki = t.keyFacts(keyLabel)?.spki;
        return spki === undefined || canonicalSpki(spki).equals(wanted);
      });
      if (matching.length === 0) {
        throw new SealdError(
          'precondition',
          'KEY_CERTIFICATE_MISMATCH',
          `the certificate configured for key "${keyLabel}" does not match the key on token ${holders.map((t) => `"${t.label}"`).join(', ')}`,
        );
      }
      if (matching.length < holders.length) {
        this.logger.warn({ key: keyLabel }, 'some tokens hold a different key under this label; not using them');
      }
    }
    let algorithm: SignatureAlgorithm;
    if (certificate !== undefined) {
      algorithm = publicKeyParameters(certificatePublicKeyInfo(certificate)).algorithm;
    } else if (holders.length > 0) {
      algorithm = algorithmOf(holders[0]!.keyFacts(keyLabel)!.type);
    } else {
      const unknown = this.tokens.find((t) => !t.keysKnown);
      if (unknown === undefined) throw new SealdError('not-found', 'KEY_NOT_FOUND', `no token holds a private key labelled "${keyLabel}"`);
      throw unknown.unavailableError();
    }
    if (holders.length === 0 && this.tokens.every((t) => t.keysKnown)) {
      throw new SealdError('not-found', 'KEY_NOT_FOUND', `no token holds a private key labelled "${keyLabel}"`);
    }
    return new PoolSigner(keyLabel, this.tokens, wanted, [...certificates], algorithm);
  }

  /**
   * Whether the key needs signature activation (CKA_ALWAYS_AUTHENTICATE) on the tokens that hold it: true, false, or
   * undefined when no ready token has listed it. Holders that disagree are a configuration error.
   */
  requiresActivation(keyLabel: string): boolean | undefined {
    const answers = new Set(this.tokens.map((t) => t.requiresActivation(keyLabel)).filter((a) => a !== undefined));
    if (answers.size > 1) {
      throw new SealdError('precondition', 'ACTIVATION_MISMATCH', `tokens disagree on whether key "${keyLabel}" has CKA_ALWAYS_AUTHENTICATE`);
    }
    return answers.size === 0 ? undefined : answers.has(true);
  }

  /**
   * The certificate chain and seal image stored on the token next to the key (token-objects.ts), read on an idle
   * session of a ready token that holds it; undefined when no such token has an idle session.
   */
  sealObjects(keyLabel: string): SealObjects | undefined {
    for (const token of this.tokens.filter((t) => t.state === 'ready' && t.hasKey(keyLabel))) {
      const objects = token.readOnIdleSession((session) => readSealObjects(session, keyLabel));
      if (objects !== undefined) return objects;
    }
    return undefined;
  }

  /** DER SubjectPublicKeyInfo of the key (for issuing its certificate). */
  publicKeyInfo(keyLabel: string): Uint8Array {
    const holders = this.tokens.filter((t) => t.hasKey(keyLabel));
    if (holders.length === 0) {
      throw new SealdError('not-found', 'KEY_NOT_FOUND', `no token holds a private key labelled "${keyLabel}"`);
    }
    for (const token of holders) {
      const spki = token.keyFacts(keyLabel)?.spki;
      if (spki !== undefined) return new Uint8Array(spki);
    }
    throw new SealdError('not-found', 'PUBLIC_KEY_NOT_FOUND', `the token has no public key object for "${keyLabel}"`);
  }

  /** Report every signature of every token (for seald_slot_sign_duration_seconds). */
  observeSigns(observer: SignObserver): void {
    for (const token of this.tokens) token.observeSigns(observer);
  }

  status(): { tokens: TokenStatus[] } {
    return { tokens: this.tokens.map((t) => t.status()) };
  }

  /** Stop taking signs, wait for the running and queued ones, close the sessions, release the module. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.all(this.tokens.map((t) => t.close()));
      for (const lease of this.leases) lease.release();
      this.logger.info('PKCS#11 pool closed');
    })();
    return this.#closed;
  }
}
