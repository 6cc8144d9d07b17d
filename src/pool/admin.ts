/**
 * Provisioning helpers (token initialisation, key generation and lookup) for the embedded defaults and operators.
 * They use synchronous PKCS#11 calls — fine for rare admin work, and the async key generation of pkcs11js leaks per
 * call (issue #120). They lease the module from the registry, so a TokenPool in the same process keeps working:
 * no user C_Logout here (it would log out every session of the token), and closing the admin session only logs the
 * token out when no other session of this process is open on it.
 */
import { randomBytes } from 'node:crypto';
import graphene from 'graphene-pk11';
import type { Logger } from 'pino';
import { SealdError } from '../errors.ts';
import { acquireModule } from './module-registry.ts';
import { ckrOf, PIN_FAULTS } from './pkcs11-errors.ts';
import { readTokenKeyFacts } from './public-key.ts';
import { isPinRejected, markPinRejected } from './rejected-pins.ts';
import { describeWanted, listTokens, matchTokens } from './slots.ts';

export type AdminKeyType = 'RSA-2048' | 'EC-P256';

export interface AdminOptions {
  /** Environment for the module's first initialisation (e.g. SOFTHSM2_CONF). */
  env?: Record<string, string>;
  logger?: Logger;
}

export interface GenerateKeyOptions extends AdminOptions {
  /** CKA_LABEL of both halves. */
  label: string;
  type: AdminKeyType;
  /**
   * CKA_ALWAYS_AUTHENTICATE on the private key: each signature then needs C_Login(CKU_CONTEXT_SPECIFIC) with the
   * holder's PIN (signature activation, sole control). On SoftHSM that PIN is the token's user PIN.
   */
  alwaysAuthenticate?: boolean;
}

// DER OID secp256r1 (RFC 5480 §2.1.1.1) as CKA_EC_PARAMS.
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');

export function withTokenSession<T>(
  modulePath: string,
  tokenLabel: string,
  pin: string,
  opts: AdminOptions,
  work: (session: graphene.Session) => T,
): T {
  const lease = acquireModule(modulePath, opts);
  try {
    const [token, ...others] = matchTokens(listTokens(lease.module), { label: tokenLabel });
    if (token === undefined) {
      throw new SealdError('not-found', 'TOKEN_NOT_FOUND', `no initialised token with ${describeWanted({ label: tokenLabel })} in ${modulePath}`);
    }
    if (others.length > 0) {
      throw new SealdError('precondition', 'TOKEN_AMBIGUOUS', `more than one token has ${describeWanted({ label: tokenLabel })}`);
    }
    if (isPinRejected(lease.path, token.serial, pin)) {
      throw new SealdError('precondition', 'PIN_REJECTED', `token "${tokenLabel}" already rejected this PIN in this process`);
    }
    const session = token.slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    try {
      try {
        session.login(pin, graphene.UserType.USER);
      } catch (cause) {
        const ckr = ckrOf(cause);
        if (ckr !== 'CKR_USER_ALREADY_LOGGED_IN') {
          if (ckr !== undefined && PIN_FAULTS.has(ckr)) markPinRejected(lease.path, token.serial, pin);
          throw new SealdError('precondition', ckr !== undefined && PIN_FAULTS.has(ckr) ? 'PIN_REJECTED' : 'LOGIN_FAILED', `login to token "${tokenLabel}" failed: ${ckr ?? 'error'}`, {
            cause,
          });
        }
      }
      return work(session);
    } finally {
      session.close();
    }
  } finally {
    lease.release();
  }
}

/** Initialised tokens of the module: label and serial. */
export function listTokenLabels(modulePath: string, opts: AdminOptions = {}): { label: string; serial: string }[] {
  const lease = acquireModule(modulePath, opts);
  try {
    return listTokens(lease.module).map(({ label, serial }) => ({ label, serial }));
  } finally {
    lease.release();
  }
}

/**
 * Initialise a free (uninitialised) token slot: C_InitToken with the SO PIN and label, then, as SO, C_InitPIN with
 * the user PIN (PKCS#11 v2.40 §5.6). Done through the module rather than `softhsm2-util --pin …`, so no PIN ever
 * appears on a command line. SoftHSM keeps the token in that slot and adds a new free slot. Returns the serial.
 */
export function initializeToken(
  modulePath: string,
  token: { label: string; soPin: string; userPin: string },
  opts: AdminOptions = {},
): string {
  const lease = acquireModule(modulePath, opts);
  try {
    if (matchTokens(listTokens(lease.module), { label: token.label }).length > 0) {
      throw new SealdError('precondition', 'TOKEN_EXISTS', `a token labelled "${token.label}" already exists`);
    }
    const slots = lease.module.getSlots(true);
    let free: graphene.Slot | undefined;
    for (let i = 0; i < slots.length && free === undefined; i++) {
      const slot = slots.items(i);
      if ((slot.getToken().flags & graphene.TokenFlag.TOKEN_INITIALIZED) === 0) free = slot;
    }
    if (free === undefined) {
      throw new SealdError('unavailable', 'NO_FREE_SLOT', `${modulePath} has no uninitialised token to initialise`);
    }
    lease.lib.C_InitToken(free.handle, token.soPin, token.label);
    const session = free.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    try {
      session.login(token.soPin, graphene.UserType.SO);
      session.initPin(token.userPin);
      // The SO logout only ends this SO login on a token nothing else in the process uses yet.
      session.logout();
    } finally {
      session.close();
    }
    const serial = free.getToken().serialNumber;
    opts.logger?.info({ token: token.label, serial }, 'initialised token');
    return serial;
  } finally {
    lease.release();
  }
}

function findPrivateKey(session: graphene.Session, label: string): graphene.SessionObject | undefined {
  const found = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label });
  return found.length > 0 ? found.items(0) : undefined;
}

/**
 * Generate a key pair on the token: private key CKA_TOKEN, CKA_PRIVATE, CKA_SIGN, CKA_SENSITIVE, not extractable;
 * public key CKA_VERIFY; both share CKA_LABEL and a random CKA_ID. Returns the DER SubjectPublicKeyInfo.
 * Refuses (KEY_EXISTS) when a private key with that label is already there.
 */
export function generateKeyPair(modulePath: string, tokenLabel: string, pin: string, opts: GenerateKeyOptions): Uint8Array {
  return withTokenSession(modulePath, tokenLabel, pin, opts, (session) => {
    if (findPrivateKey(session, opts.label) !== undefined) {
      throw new SealdError('precondition', 'KEY_EXISTS', `token "${tokenLabel}" already holds a private key labelled "${opts.label}"`);
    }
    const id = randomBytes(16);
    const common = { token: true, label: opts.label, id };
    const privateTemplate: graphene.ITemplate = {
      ...common,
      private: true,
      sign: true,
      sensitive: true,
      extractable: false,
      ...(opts.alwaysAuthenticate === true ? { alwaysAuth: true } : {}),
    };
    let pair: graphene.IKeyPair;
    if (opts.type === 'RSA-2048') {
      pair = session.generateKeyPair(
        graphene.KeyGenMechanism.RSA,
        { ...common, keyType: graphene.KeyType.RSA, verify: true, modulusBits: 2048, publicExponent: Buffer.from([1, 0, 1]) },
        { ...privateTemplate, keyType: graphene.KeyType.RSA },
      );
    } else {
      pair = session.generateKeyPair(
        graphene.KeyGenMechanism.EC,
        { ...common, keyType: graphene.KeyType.EC, verify: true, paramsECDSA: P256_PARAMS },
        { ...privateTemplate, keyType: graphene.KeyType.EC },
      );
    }
    const facts = readTokenKeyFacts(session, pair.privateKey);
    if (facts?.spki === undefined) {
      throw new SealdError('internal', 'KEYGEN_NO_PUBLIC_KEY', `generated key "${opts.label}" has no readable public key`);
    }
    opts.logger?.info({ token: tokenLabel, key: opts.label, type: opts.type, alwaysAuthenticate: opts.alwaysAuthenticate === true }, 'generated key pair on token');
    return facts.spki;
  });
}

/** DER SubjectPublicKeyInfo of the key labelled `keyLabel`, or undefined when the token has no such private key. */
export function findKeyPublicInfo(
  modulePath: string,
  tokenLabel: string,
  pin: string,
  keyLabel: string,
  opts: AdminOptions = {},
): Uint8Array | undefined {
  return withTokenSession(modulePath, tokenLabel, pin, opts, (session) => {
    const key = findPrivateKey(session, keyLabel);
    return key === undefined ? undefined : readTokenKeyFacts(session, key)?.spki;
  });
}
