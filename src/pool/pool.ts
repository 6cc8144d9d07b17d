/**
 * TokenPool: the tokens of one PKCS#11 module, warmed up once, handing out Signers that sign asynchronously.
 * See token.ts for sessions, login, faults; module-registry.ts for initialisation.
 */
import type { Logger } from 'pino';
import { SealdError } from '../errors.ts';
import { certificatePublicKeyInfo, publicKeyParameters } from '../crypto/certificate.ts';
import type { SignatureAlgorithm, Signer } from '../crypto/signer.ts';
import type { Pkcs11Config } from './config.ts';
import { acquireModule, type ModuleLease } from './module-registry.ts';
import { canonicalSpki, type TokenKeyType } from './public-key.ts';
import { describeWanted, listTokens, matchTokens } from './slots.ts';
import { PooledToken, type TokenStatus } from './token.ts';

export type { PinSource, Pkcs11Config, TokenConfig } from './config.ts';
export type { TokenState, TokenStatus } from './token.ts';

function algorithmOf(type: TokenKeyType): SignatureAlgorithm {
  return type === 'RSA' ? 'RSASSA-PKCS1-v1_5' : 'ECDSA';
}

/** A Signer over the tokens holding one key; each sign goes to the least busy healthy one. */
class PoolSigner implements Signer {
  constructor(
    private readonly keyLabel: string,
    private readonly tokens: PooledToken[],
    readonly certificates: readonly Uint8Array[],
    readonly algorithm: SignatureAlgorithm,
  ) {}

  async signDigest(digest: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    if (digest.length !== 32) {
      throw new SealdError('invalid-input', 'BAD_DIGEST_LENGTH', `a SHA-256 digest has 32 bytes, got ${digest.length}`);
    }
    const ready = this.tokens.filter((t) => t.state === 'ready').sort((a, b) => a.pressure() - b.pressure());
    let lastError: SealdError | undefined;
    for (const token of ready) {
      try {
        return await token.sign(this.keyLabel, digest, signal);
      } catch (error) {
        // Fail over only when the token itself became unusable; a cancelled or refused request is final.
        if (error instanceof SealdError && (error.code === 'TOKEN_DOWN' || error.code === 'TOKEN_QUARANTINED')) {
          lastError = error;
          continue;
        }
        throw error;
      }
    }
    throw lastError ?? this.tokens[0]!.unavailableError();
  }
}

export class TokenPool {
  #closed: Promise<void> | undefined;

  private constructor(
    private readonly lease: ModuleLease,
    private readonly tokens: PooledToken[],
    private readonly logger: Logger,
  ) {}

  /**
   * Warm-up: load and initialise the module (once per process), find the configured tokens, open their sessions,
   * log in, list keys. Every synchronous PKCS#11 call of the pool's life happens here (and in rare recovery).
   * A token that is missing, refuses its PIN or fails is kept with state 'down'/'quarantined' and reported by
   * status(); configuration errors throw.
   */
  static async open(config: Pkcs11Config, logger: Logger): Promise<TokenPool> {
    const log = logger.child({ component: 'pkcs11' });
    if (config.tokens.length === 0) throw new SealdError('invalid-input', 'NO_TOKENS', 'the pkcs11 configuration lists no tokens');
    const lease = acquireModule(config.module, config.env === undefined ? { logger: log } : { env: config.env, logger: log });
    const tokens: PooledToken[] = [];
    try {
      const present = listTokens(lease.module);
      const used = new Set<string>();
      for (const tokenConfig of config.tokens) {
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
        tokens.push(PooledToken.warmUp(lease, found, tokenConfig, log));
      }
    } catch (error) {
      await Promise.all(tokens.map((t) => t.close()));
      lease.release();
      if (error instanceof SealdError) throw error;
      throw new SealdError('unavailable', 'PKCS11_WARMUP', `PKCS#11 warm-up failed: ${(error as Error).message}`, { cause: error });
    }
    return new TokenPool(lease, tokens, log);
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
  signer(keyLabel: string, certificates: Uint8Array[]): Signer {
    if (this.#closed) throw new SealdError('unavailable', 'POOL_CLOSED', 'the PKCS#11 pool is closed');
    let holders = this.tokens.filter((t) => t.hasKey(keyLabel));
    const certificate = certificates[0];
    if (holders.length > 0 && certificate !== undefined) {
      const wanted = canonicalSpki(certificatePublicKeyInfo(certificate));
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
      holders = matching;
    }
    if (holders.length > 0) {
      const type = holders[0]!.keyFacts(keyLabel)!.type;
      const sameType = holders.filter((t) => t.keyFacts(keyLabel)!.type === type);
      return new PoolSigner(keyLabel, sameType, [...certificates], algorithmOf(type));
    }
    const unknown = this.tokens.filter((t) => !t.keysKnown);
    if (unknown.length === 0) {
      throw new SealdError('not-found', 'KEY_NOT_FOUND', `no token holds a private key labelled "${keyLabel}"`);
    }
    if (certificate === undefined) throw unknown[0]!.unavailableError();
    const algorithm = publicKeyParameters(certificatePublicKeyInfo(certificate)).algorithm;
    return new PoolSigner(keyLabel, unknown, [...certificates], algorithm);
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

  status(): { tokens: TokenStatus[] } {
    return { tokens: this.tokens.map((t) => t.status()) };
  }

  /** Stop taking signs, wait for the running and queued ones, close the sessions, release the module. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.all(this.tokens.map((t) => t.close()));
      this.lease.release();
      this.logger.info('PKCS#11 pool closed');
    })();
    return this.#closed;
  }
}
