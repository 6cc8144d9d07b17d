/**
 * The proto TimestampMode as the engine's (src/rpc/seal-options-of.ts): unset and UNSPECIFIED leave the server's
 * default, a number no client should send is INVALID_ARGUMENT (BAD_TIMESTAMP_MODE), never a silent strict seal.
 */
import { describe, expect, it } from 'vitest';
import { SealdError } from '../../src/errors.ts';
import { TimestampMode } from '../../src/gen/seald/v1/seald_pb.ts';
import { timestampModeOf } from '../../src/rpc/seal-options-of.ts';

describe('timestampModeOf', () => {
  it('maps the proto modes, leaving unset and UNSPECIFIED to the server', () => {
    expect([undefined, TimestampMode.UNSPECIFIED, TimestampMode.STRICT, TimestampMode.BEST_EFFORT].map(timestampModeOf)).toEqual([
      undefined,
      undefined,
      'strict',
      'best-effort',
    ]);
  });

  it('refuses a mode it does not know', () => {
    const error = (() => {
      try {
        timestampModeOf(7 as TimestampMode);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SealdError);
    expect(error).toMatchObject({ category: 'invalid-input', code: 'BAD_TIMESTAMP_MODE' });
  });
});
