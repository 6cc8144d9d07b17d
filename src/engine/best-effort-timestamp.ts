/**
 * Best-effort signature time-stamps: when the TSAs fail (down, too slow, a bad answer), the seal is made without its
 * time-stamp — PAdES B-B instead of B-T (ETSI EN 319 142-1 §5.3, §6.3) — and says why, for pipelines that add a
 * document time-stamp later (B-LTA over B-B, §5.5). Only a TSA's failure is settled for: a cancelled call, a bad
 * document or a token that outgrew its room fails the seal as it always does.
 */
import { SealdError } from '../errors.ts';

/** How a seal treats a time-stamp it cannot get: `strict` fails the seal (the default), `best-effort` seals B-B. */
export type TimestampMode = 'strict' | 'best-effort';

/** True when `error` is a TSA failure a best-effort seal goes on without (not the caller giving up). */
export function isTsaFailure(error: unknown, signal: AbortSignal | undefined): error is SealdError {
  if (signal?.aborted) return false;
  return error instanceof SealdError && (error.category === 'unavailable' || error.category === 'deadline');
}

/** Why a seal has no time-stamp: the TSA error's stable code and message (which never carry credentials). */
export interface MissingTimestamp {
  code: string;
  message: string;
}

export function missingTimestampOf(error: SealdError): MissingTimestamp {
  return { code: error.code, message: error.message };
}
