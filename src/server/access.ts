/**
 * Authorisation and audit for one call, in one object a handler creates at its start:
 *
 *   const access = callAccess(context, call, 'verify', requestId);
 *   access.authorize(sealId, { pages: [3] });   // throws PERMISSION_DENIED naming the missing permission
 *   access.note({ inputSha256, revision });     // what the audit record should say, as it becomes known
 *   await access.succeeded({ outputSha256 });   // durable before the handler sends its final message
 *   await access.failed(error);                 // in the catch: refusals and failures are recorded too
 *
 * The policy is read once per authorize (a reload between calls takes effect on the next call, never in the middle
 * of one). Records never hold document bytes, PINs or keys.
 */
import type { PeerCertificate } from 'node:tls';
import type { AuditEntry } from '../audit/record.ts';
import type { Operation } from '../auth/operations.ts';
import { authorize, permissionDenied, type AuthorizationDetails } from '../auth/policy.ts';
import type { Principal } from '../auth/principal.ts';
import type { ServiceContext } from './context.ts';
import { grpcStatusOf, statusName } from '../rpc/status.ts';
import { principalOf } from './tls.ts';

type Fields = Omit<AuditEntry, 'principal' | 'operation' | 'requestId' | 'result' | 'errorCode' | 'clientCertificateSerial'>;

export interface CallAccess {
  readonly principal: Principal;
  /** Throws a SealdError (PERMISSION_DENIED) when the policy does not allow the operation on this seal. */
  authorize(sealId?: string, details?: AuthorizationDetails): void;
  /** True when the policy allows it (no record, no error): ListSeals filters with it. */
  allows(operation: Operation, sealId?: string): boolean;
  note(fields: Partial<Fields>): void;
  /** Record success; resolves once the record is durable, rejects (UNAVAILABLE) when it cannot be written. */
  succeeded(fields?: Partial<Fields>): Promise<void>;
  /** Record a refusal or failure; never rejects (a failure to record is logged). */
  failed(error: unknown): Promise<void>;
}

export function callAccess(
  context: ServiceContext,
  call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } },
  operation: Operation,
  requestId: string,
): CallAccess {
  const principal = principalOf(call);
  // Grants by kind ("procurement may use contract seals") need the kind of the seal the call names.
  const withKind = (sealId: string | undefined, details: AuthorizationDetails = {}): AuthorizationDetails => {
    const kind = sealId === undefined ? undefined : context.seals.get(sealId)?.config.kind;
    return kind === undefined ? details : { ...details, sealKind: kind };
  };
  let fields: Partial<Fields> = {};
  let recorded = false;
  let policy: ReturnType<typeof context.policy.current> | undefined;
  const record = (result: string, errorCode?: string): Promise<unknown> => {
    recorded = true;
    const entry: AuditEntry = {
      principal: principal.name,
      ...(principal.certificateSerial === undefined ? {} : { clientCertificateSerial: principal.certificateSerial }),
      operation,
      requestId,
      ...fields,
      result,
      ...(errorCode === undefined ? {} : { errorCode }),
    };
    return context.audit.append(entry);
  };
  return {
    principal,
    authorize(sealId, details) {
      if (sealId !== undefined) fields.sealId = sealId;
      // The policy the call started with, for every check of this call: an edit applies from the next call on.
      policy ??= context.policy.current();
      const missing = authorize(policy, principal, operation, sealId, withKind(sealId, details));
      if (missing !== undefined) throw permissionDenied(principal, missing);
    },
    allows(op, sealId) {
      return authorize(context.policy.current(), principal, op, sealId, withKind(sealId)) === undefined;
    },
    note(more) {
      fields = { ...fields, ...more };
    },
    async succeeded(more = {}) {
      fields = { ...fields, ...more };
      await record('ok');
    },
    async failed(error) {
      if (recorded) return;
      const status = grpcStatusOf(error);
      try {
        await record(statusName(status.code), status.sealdCode);
      } catch (auditError) {
        context.logger.error({ err: auditError, requestId, operation }, 'cannot record the refusal in the audit log');
      }
    },
  };
}

/** The pages and placement kind a request asks for, as far as its header says (a position placement names its page). */
export function placementDetails(
  placement: { kind: { case: 'position'; value: { page: number } } | { case: string | undefined; value?: unknown } } | undefined,
): AuthorizationDetails {
  const kind = placement?.kind;
  if (kind?.case === undefined) return {};
  const page = kind.case === 'position' ? (kind.value as { page?: unknown }).page : undefined;
  return typeof page === 'number' ? { placement: kind.case, pages: [page] } : { placement: kind.case };
}
