/**
 * The gRPC metadata keys seald's client and server share (both sides read them from here).
 */

/** Trailing metadata: the stable seald error code of a failed call (status.ts). */
export const ERROR_CODE_METADATA_KEY = 'seald-error-code';

/** Request metadata: a caller-chosen request id, echoed in logs and audit records. */
export const REQUEST_ID_METADATA_KEY = 'x-request-id';

/** Initial response metadata: the request id the server used (the caller's, or one it made). */
export const RESPONSE_REQUEST_ID_METADATA_KEY = 'seald-request-id';

/** Initial response metadata of SealBatch: how many documents of one call the server seals at a time. */
export const MAX_INFLIGHT_METADATA_KEY = 'seald-batch-max-inflight';
