/** The operations a policy grants. Each RPC authorises exactly one of them. */
const ORDINARY = ['seal', 'timestamp', 'verify', 'rollback', 'list', 'locate', 'batch'] as const;

/**
 * Operations granted only by name: never by the built-in policy, never by `operations: "*"`. `sign-digest`
 * (PreparedService.SignPrepared, `seald batch --prepare-locally`) signs a digest the server cannot inspect.
 */
export const NAMED_ONLY_OPERATIONS = ['sign-digest'] as const;

export const OPERATIONS = [...ORDINARY, ...NAMED_ONLY_OPERATIONS] as const;

/** What the built-in policy and `operations: "*"` grant: every operation but the named-only ones. */
export const ORDINARY_OPERATIONS: readonly Operation[] = ORDINARY;

export type Operation = (typeof OPERATIONS)[number];

/** Operations that use a configured seal: a grant for them names the seals it covers. */
export const SEAL_OPERATIONS: ReadonlySet<Operation> = new Set(['seal', 'rollback', 'batch', 'sign-digest']);

export function isOperation(value: unknown): value is Operation {
  return typeof value === 'string' && (OPERATIONS as readonly string[]).includes(value);
}
