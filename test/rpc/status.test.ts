import { status as Status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { SealdError, type ErrorCategory } from '../../src/errors.ts';
import { ERROR_CODE_METADATA_KEY, grpcStatusOf, statusName } from '../../src/rpc/status.ts';

describe('grpcStatusOf', () => {
  const cases: [ErrorCategory, Status][] = [
    ['invalid-input', Status.INVALID_ARGUMENT],
    ['not-found', Status.NOT_FOUND],
    ['precondition', Status.FAILED_PRECONDITION],
    ['too-large', Status.RESOURCE_EXHAUSTED],
    ['permission', Status.PERMISSION_DENIED],
    ['unavailable', Status.UNAVAILABLE],
    ['deadline', Status.DEADLINE_EXCEEDED],
    ['cancelled', Status.CANCELLED],
  ];
  it.each(cases)('maps %s to %s with the message and the stable code in metadata', (category, code) => {
    const status = grpcStatusOf(new SealdError(category, 'SOME_CODE', 'what to fix'));
    expect(status.code).toBe(code);
    expect(status.details).toBe('what to fix');
    expect(status.metadata.get(ERROR_CODE_METADATA_KEY)).toEqual(['SOME_CODE']);
    expect(status.internal).toBe(false);
  });

  it('hides the detail of internal errors', () => {
    const status = grpcStatusOf(new SealdError('internal', 'XREF_STATE', 'secret detail at offset 42'), 'req-1');
    expect(status.code).toBe(Status.INTERNAL);
    expect(status.details).toBe('internal error (request req-1)');
    expect(status.details).not.toContain('secret');
    expect(status.metadata.get(ERROR_CODE_METADATA_KEY)).toEqual(['XREF_STATE']);
    expect(status.internal).toBe(true);
  });

  it('treats anything else as internal', () => {
    for (const error of [new TypeError('x is undefined'), 'a string', undefined, { code: 5 }]) {
      const status = grpcStatusOf(error);
      expect(status.code).toBe(Status.INTERNAL);
      expect(status.details).toBe('internal error');
      expect(status.metadata.get(ERROR_CODE_METADATA_KEY)).toEqual(['INTERNAL']);
    }
  });

  it('names status codes', () => {
    expect(statusName(Status.NOT_FOUND)).toBe('NOT_FOUND');
    expect(statusName(Status.OK)).toBe('OK');
    expect(statusName(99)).toBe('STATUS_99');
  });
});
