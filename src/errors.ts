/**
 * The one error type every layer raises. A layer picks a stable `code` (machine-readable, e.g. `PDF_ENCRYPTED`) and a
 * `category` that says what the caller can do about it; the server maps categories to gRPC status codes in one place
 * (src/rpc/status.ts). Messages are written for the caller and never contain secrets (PINs, keys).
 */
export type ErrorCategory =
  | 'invalid-input' // the request or document is malformed: fix the input
  | 'not-found' // a named thing (seal, page, keyword) does not exist
  | 'precondition' // valid input that cannot be processed in its state (encrypted, certified, expired cert)
  | 'too-large' // over a configured limit
  | 'permission' // the caller may not do this
  | 'unavailable' // a dependency (token, TSA) is down: retry later, maybe elsewhere
  | 'deadline' // took longer than allowed
  | 'cancelled' // the caller went away
  | 'internal'; // a bug or an unexpected state

export class SealdError extends Error {
  constructor(
    readonly category: ErrorCategory,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SealdError';
  }
}
