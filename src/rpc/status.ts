/**
 * The one place where seald's error categories become gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
 * Every layer raises SealdError(category, code, message); handlers pass whatever they caught through `grpcStatusOf`.
 * The stable machine-readable code travels in the trailing metadata key `seald-error-code`; the status message is the
 * caller-facing message. Anything that is not a SealdError, or is one of category 'internal', is reported to the
 * caller as a generic INTERNAL (the detail stays in the server log, under the request id the caller is given).
 */
import { Metadata, status as Status, type ServerErrorResponse } from '@grpc/grpc-js';
import { SealdError, type ErrorCategory } from '../errors.ts';
import { ERROR_CODE_METADATA_KEY } from './metadata.ts';

export { ERROR_CODE_METADATA_KEY };

const STATUS_BY_CATEGORY: Record<ErrorCategory, Status> = {
  'invalid-input': Status.INVALID_ARGUMENT,
  'not-found': Status.NOT_FOUND,
  precondition: Status.FAILED_PRECONDITION,
  'too-large': Status.RESOURCE_EXHAUSTED,
  permission: Status.PERMISSION_DENIED,
  unavailable: Status.UNAVAILABLE,
  deadline: Status.DEADLINE_EXCEEDED,
  cancelled: Status.CANCELLED,
  internal: Status.INTERNAL,
};

export interface GrpcErrorStatus extends ServerErrorResponse {
  code: Status;
  details: string;
  metadata: Metadata;
  /** The stable seald error code (also in the metadata). */
  sealdCode: string;
  /** True when the caller got a generic message and the server log must carry the detail. */
  internal: boolean;
}

/** Map anything a handler caught to the status it sends. `requestId` lets a caller quote an internal error. */
export function grpcStatusOf(error: unknown, requestId?: string): GrpcErrorStatus {
  const known = error instanceof SealdError && error.category !== 'internal';
  const code = known ? STATUS_BY_CATEGORY[error.category] : Status.INTERNAL;
  const sealdCode = error instanceof SealdError ? error.code : 'INTERNAL';
  const details = known
    ? error.message
    : `internal error${requestId === undefined ? '' : ` (request ${requestId})`}`;
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, sealdCode);
  return Object.assign(new Error(details), { code, details, metadata, sealdCode, internal: !known });
}

/** The gRPC status name of a code, e.g. `NOT_FOUND` (for logs, metrics labels and the CLI). */
export function statusName(code: number): string {
  return Status[code] ?? `STATUS_${code}`;
}
