/** The operations a policy grants. Each RPC authorises exactly one of them. */
export const OPERATIONS = ['seal', 'timestamp', 'verify', 'rollback', 'list', 'locate', 'batch'] as const;

export type Operation = (typeof OPERATIONS)[number];

/** Operations that use a configured seal: a grant for them names the seals it covers. */
export const SEAL_OPERATIONS: ReadonlySet<Operation> = new Set(['seal', 'rollback', 'batch']);

export function isOperation(value: unknown): value is Operation {
  return typeof value === 'string' && (OPERATIONS as readonly string[]).includes(value);
}
