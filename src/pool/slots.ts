/** Finding tokens among a module's slots (synchronous PKCS#11 calls: warm-up and admin only). */
import graphene from 'graphene-pk11';
import { SealdError } from '../errors.ts';

export interface FoundToken {
  slot: graphene.Slot;
  label: string;
  serial: string;
}

/** Initialised tokens present in the module's slots (C_GetSlotList(CK_TRUE), CKF_TOKEN_INITIALIZED). */
export function listTokens(module: graphene.Module): FoundToken[] {
  const slots = module.getSlots(true);
  const found: FoundToken[] = [];
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    const token = slot.getToken();
    if ((token.flags & graphene.TokenFlag.TOKEN_INITIALIZED) === 0) continue;
    found.push({ slot, label: token.label, serial: token.serialNumber });
  }
  return found;
}

/** Tokens matching a label and/or serial (both must match when both are given). */
export function matchTokens(tokens: FoundToken[], wanted: { label?: string; serial?: string }): FoundToken[] {
  if (wanted.label === undefined && wanted.serial === undefined) {
    throw new SealdError('invalid-input', 'TOKEN_UNSPECIFIED', 'a token entry needs a label or a serial');
  }
  return tokens.filter(
    (t) => (wanted.label === undefined || t.label === wanted.label) && (wanted.serial === undefined || t.serial === wanted.serial),
  );
}

export function describeWanted(wanted: { label?: string; serial?: string }): string {
  return [wanted.label !== undefined ? `label "${wanted.label}"` : '', wanted.serial !== undefined ? `serial ${wanted.serial}` : '']
    .filter(Boolean)
    .join(' and ');
}
