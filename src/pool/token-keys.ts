/** The private keys of a logged-in token, by CKA_LABEL: what a Signer names when it asks for a signature. */
import graphene from 'graphene-pk11';
import pkcs11js from 'pkcs11js';
import type { Logger } from 'pino';
import { readTokenKeyFacts, type TokenKeyFacts } from './public-key.ts';

export interface TokenKey {
  label: string;
  handle: Buffer;
  facts: TokenKeyFacts;
}

/**
 * Index the private keys (RSA and EC; others are skipped) by CKA_LABEL, the first of two that share a label winning.
 * Handles change after a re-login (SoftHSM drops private handles on logout): list them again then.
 */
export function findPrivateKeys(session: graphene.Session, logger: Logger): Map<string, TokenKey> {
  const found = session.find({ class: graphene.ObjectClass.PRIVATE_KEY });
  const keys = new Map<string, TokenKey>();
  for (let i = 0; i < found.length; i++) {
    const object = found.items(i);
    const label = (object.getAttribute(pkcs11js.CKA_LABEL) as Buffer).toString('utf8');
    const facts = readTokenKeyFacts(session, object);
    if (facts === undefined) {
      logger.debug({ key: label }, 'ignoring private key that is neither RSA nor EC');
      continue;
    }
    if (keys.has(label)) {
      logger.warn({ key: label }, 'two private keys share a label on this token; using the first');
      continue;
    }
    keys.set(label, { label, handle: object.handle, facts });
  }
  return keys;
}
