/**
 * The authorisation policy (员工授权): principals, matched by certificate subject attributes and/or
 * subjectAltNames, each with grants — which seals, which operations, an optional validity window, optional page and
 * placement limits — and a `disabled` flag on a principal or a grant for a temporary cancel.
 *
 *   principals:
 *     - name: erp
 *       match: { subject: { CN: erp, O: Acme }, san: ["URI:spiffe://acme/erp"] }
 *       grants:
 *         - seals: [acme-org]
 *           operations: [seal, list, rollback]
 *         - kinds: [contract]               # every seal of a kind: "procurement may use contract seals"
 *           operations: [seal]
 *           not_after: 2027-01-01T00:00:00Z
 *           pages: [1, "3-5"]
 *
 * `authorize` answers with the permission that is missing (or nothing when the call is allowed). Its message names
 * only what the caller asked for, never which other seals exist.
 */
import { SealdError } from '../errors.ts';
import { isOperation, OPERATIONS, ORDINARY_OPERATIONS, SEAL_OPERATIONS, type Operation } from './operations.ts';
import type { Principal } from './principal.ts';
import { SEAL_KIND_WORDS, sealKindOf, type SealKindName } from './seal-kinds.ts';

export interface PrincipalMatch {
  /** Every attribute given must be one of the certificate subject's values for it. */
  subject?: Record<string, string>;
  /** At least one of these subjectAltNames must be in the certificate. */
  san?: string[];
  /** Matches the unauthenticated caller (no TLS). */
  anonymous?: boolean;
}

export interface Grant {
  /** Seal ids, or ['*'] for every seal. Ignored for operations that use no seal (verify, list, timestamp, locate). */
  seals: string[];
  /** Seal kinds (official, contract, …): the grant also covers every seal of these kinds. */
  kinds?: SealKindName[];
  operations: Operation[];
  notBefore?: Date;
  notAfter?: Date;
  /** Pages a seal may be placed on (1-based); undefined = any. */
  pages?: Set<number>;
  /** Placement kinds allowed (position, keyword, cross-page…); undefined = any. */
  placements?: string[];
  disabled: boolean;
}

export interface PolicyPrincipal {
  name: string;
  match: PrincipalMatch;
  grants: Grant[];
  disabled: boolean;
}

export interface Policy {
  principals: PolicyPrincipal[];
  /** Where it came from, for logs. */
  source: string;
}

/** What the call is about, beyond operation and seal: checked against a grant's limits. */
export interface AuthorizationDetails {
  /** The kind of the seal the call names (grants by kind cover it). */
  sealKind?: SealKindName;
  pages?: readonly number[];
  placement?: string;
  now?: Date;
}

export interface MissingPermission {
  /** e.g. `seal on seal "acme-org"`, `list`. */
  permission: string;
  /** Why the grants the caller has do not cover it. */
  reason: string;
}

/** The built-in policy when none is configured: the caller without TLS (loopback) and any verified client may do everything. */
export function defaultPolicy(): Policy {
  // Everything but the named-only operations (sign-digest): those are granted deliberately or not at all.
  const everything: Grant = { seals: ['*'], operations: [...ORDINARY_OPERATIONS], disabled: false };
  return {
    source: '(built-in default: every caller may do everything)',
    principals: [
      { name: 'anonymous', match: { anonymous: true }, grants: [everything], disabled: false },
      { name: 'any verified client', match: { subject: {} }, grants: [everything], disabled: false },
    ],
  };
}

/**
 * The built-in policy of a server that listens without TLS on the network (allowed explicitly): every caller is
 * anonymous there, so anonymous callers may verify and list, nothing that uses a seal.
 */
export function networkPlaintextPolicy(): Policy {
  return {
    source: '(built-in default for plaintext on the network: anonymous callers may verify and list only)',
    principals: [{ name: 'anonymous', match: { anonymous: true }, grants: [{ seals: [], operations: ['verify', 'list'], disabled: false }], disabled: false }],
  };
}

export function matches(match: PrincipalMatch, principal: Principal): boolean {
  if (match.anonymous === true) return !principal.authenticated;
  if (!principal.authenticated) return false;
  for (const [key, value] of Object.entries(match.subject ?? {})) {
    if (!(principal.subject[key] ?? []).includes(value)) return false;
  }
  if (match.san !== undefined && !match.san.some((san) => principal.sans.includes(san))) return false;
  return true;
}

export function authorize(
  policy: Policy,
  principal: Principal,
  operation: Operation,
  sealId: string | undefined,
  details: AuthorizationDetails = {},
): MissingPermission | undefined {
  const usesSeal = SEAL_OPERATIONS.has(operation) && sealId !== undefined;
  const permission = usesSeal ? `${operation} on seal "${sealId}"` : operation;
  const now = details.now ?? new Date();
  const reasons: string[] = [];
  const entries = policy.principals.filter((p) => matches(p.match, principal));
  for (const entry of entries) {
    if (entry.disabled) {
      reasons.push(`the authorisation of "${entry.name}" is suspended`);
      continue;
    }
    for (const grant of entry.grants) {
      if (!grant.operations.includes(operation)) continue;
      if (usesSeal && !coversSeal(grant, sealId, details.sealKind)) continue;
      const refusal = grantRefusal(grant, operation, now, details);
      if (refusal === undefined) return undefined;
      reasons.push(refusal);
    }
  }
  const reason = reasons[0] ?? (entries.length === 0 ? `no grant for ${principal.name}` : 'no grant covers it');
  return { permission, reason };
}

function coversSeal(grant: Grant, sealId: string, kind: SealKindName | undefined): boolean {
  if (grant.seals.includes('*') || grant.seals.includes(sealId)) return true;
  return kind !== undefined && grant.kinds !== undefined && grant.kinds.includes(kind);
}

/** Why a grant that names the operation and seal does not cover this call, or undefined when it does. */
function grantRefusal(grant: Grant, operation: Operation, now: Date, details: AuthorizationDetails): string | undefined {
  if (grant.disabled) return 'the grant is suspended';
  if (operation === 'sign-digest' && (grant.pages !== undefined || grant.placements !== undefined)) {
    // The server signs a digest of a revision it never sees: it cannot know where the marks went.
    return 'a grant limited to pages or placements cannot cover sign-digest (the server cannot see where a prepared document is sealed)';
  }
  if (grant.notBefore !== undefined && now < grant.notBefore) return `the grant starts on ${grant.notBefore.toISOString()}`;
  if (grant.notAfter !== undefined && now > grant.notAfter) return `the grant ended on ${grant.notAfter.toISOString()}`;
  if (grant.pages !== undefined && details.pages !== undefined) {
    const outside = details.pages.filter((p) => !grant.pages!.has(p));
    if (outside.length > 0) return `page ${outside.join(', ')} is outside the pages the grant allows`;
  }
  if (grant.placements !== undefined && details.placement !== undefined && !grant.placements.includes(details.placement)) {
    return `placement "${details.placement}" is not allowed by the grant`;
  }
  return undefined;
}

/** A caller-facing refusal: PERMISSION_DENIED naming the missing permission. */
export function permissionDenied(principal: Principal, missing: MissingPermission): SealdError {
  return new SealdError(
    'permission',
    'PERMISSION_MISSING',
    `${principal.name} lacks the permission "${missing.permission}": ${missing.reason}`,
  );
}

// --- parsing -------------------------------------------------------------------------------------------------------

type Table = Record<string, unknown>;

function policyError(key: string, message: string, source: string): SealdError {
  return new SealdError('invalid-input', 'POLICY_INVALID', `${source}: ${key}: ${message}`);
}

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(table: Table, allowed: readonly string[], name: string, source: string): void {
  for (const key of Object.keys(table)) {
    if (!allowed.includes(key)) throw policyError(`${name}.${key}`, `unknown setting (expected one of: ${allowed.join(', ')})`, source);
  }
}

/** Validate a parsed YAML value (the `policy` mapping) into a Policy; errors name the offending key. */
export function parsePolicy(value: unknown, source: string): Policy {
  if (!isTable(value)) throw policyError('policy', 'expected a mapping with a principals list', source);
  checkKeys(value, ['principals'], 'policy', source);
  const list = value.principals;
  if (!Array.isArray(list)) throw policyError('policy.principals', 'expected a list', source);
  const names = new Set<string>();
  const principals = list.map((item: unknown, i) => {
    const at = `policy.principals[${i}]`;
    if (!isTable(item)) throw policyError(at, 'expected a mapping', source);
    checkKeys(item, ['name', 'match', 'grants', 'disabled'], at, source);
    if (typeof item.name !== 'string' || item.name === '') throw policyError(`${at}.name`, 'required', source);
    if (names.has(item.name)) throw policyError(`${at}.name`, `duplicate principal "${item.name}"`, source);
    names.add(item.name);
    if (!Array.isArray(item.grants)) throw policyError(`${at}.grants`, 'expected a list', source);
    return {
      name: item.name,
      match: parseMatch(item.match, `${at}.match`, source),
      grants: item.grants.map((g: unknown, j) => parseGrant(g, `${at}.grants[${j}]`, source)),
      disabled: parseFlag(item.disabled, `${at}.disabled`, source),
    };
  });
  return { principals, source };
}

function parseMatch(value: unknown, at: string, source: string): PrincipalMatch {
  if (!isTable(value)) throw policyError(at, 'expected a mapping with subject, san or anonymous', source);
  checkKeys(value, ['subject', 'san', 'anonymous'], at, source);
  const match: PrincipalMatch = {};
  if (value.anonymous !== undefined) {
    if (value.anonymous !== true) throw policyError(`${at}.anonymous`, 'only `true` is meaningful', source);
    if (value.subject !== undefined || value.san !== undefined) {
      throw policyError(at, 'anonymous cannot be combined with subject or san', source);
    }
    return { anonymous: true };
  }
  if (value.subject !== undefined) {
    if (!isTable(value.subject)) throw policyError(`${at}.subject`, 'expected a mapping such as { CN: erp, O: Acme }', source);
    match.subject = {};
    for (const [k, v] of Object.entries(value.subject)) {
      if (typeof v !== 'string' && typeof v !== 'number') throw policyError(`${at}.subject.${k}`, 'expected a string', source);
      match.subject[k] = String(v);
    }
  }
  if (value.san !== undefined) {
    const sans = typeof value.san === 'string' ? [value.san] : value.san;
    if (!Array.isArray(sans) || sans.some((s) => typeof s !== 'string' || !/^[A-Za-z ]+:./.test(s))) {
      throw policyError(`${at}.san`, 'expected entries such as "DNS:host", "URI:spiffe://x/y", "email:a@b"', source);
    }
    match.san = sans as string[];
  }
  if (match.subject === undefined && match.san === undefined) {
    throw policyError(at, 'give subject attributes, san entries, or anonymous: true', source);
  }
  return match;
}

function parseGrant(value: unknown, at: string, source: string): Grant {
  if (!isTable(value)) throw policyError(at, 'expected a mapping', source);
  checkKeys(value, ['seals', 'kinds', 'operations', 'not_before', 'not_after', 'pages', 'placements', 'disabled'], at, source);
  const operations = stringList(value.operations, `${at}.operations`, source);
  // `*` is every ordinary operation; named-only ones (sign-digest) must be listed by name.
  const expanded = operations.includes('*') ? [...ORDINARY_OPERATIONS, ...operations.filter((op) => op !== '*')] : operations;
  for (const op of expanded) {
    if (!isOperation(op)) throw policyError(`${at}.operations`, `unknown operation "${op}" (expected ${OPERATIONS.join(', ')} or *)`, source);
  }
  const seals = value.seals === undefined ? [] : stringList(value.seals, `${at}.seals`, source);
  const kinds = value.kinds === undefined ? undefined : stringList(value.kinds, `${at}.kinds`, source).map((word) => {
    const kind = sealKindOf(word);
    if (kind === undefined) throw policyError(`${at}.kinds`, `unknown seal kind "${word}" (expected ${SEAL_KIND_WORDS.join(', ')})`, source);
    return kind;
  });
  if (seals.length === 0 && kinds === undefined && expanded.some((op) => SEAL_OPERATIONS.has(op as Operation))) {
    throw policyError(`${at}.seals`, 'required for seal, rollback, batch and sign-digest (seal ids, or "*"), unless kinds names seal kinds', source);
  }
  const grant: Grant = { seals, operations: expanded as Operation[], disabled: parseFlag(value.disabled, `${at}.disabled`, source) };
  if (kinds !== undefined) grant.kinds = kinds;
  const notBefore = parseTime(value.not_before, `${at}.not_before`, source);
  const notAfter = parseTime(value.not_after, `${at}.not_after`, source);
  if (notBefore !== undefined) grant.notBefore = notBefore;
  if (notAfter !== undefined) grant.notAfter = notAfter;
  if (notBefore !== undefined && notAfter !== undefined && notBefore >= notAfter) {
    throw policyError(`${at}.not_after`, 'must be later than not_before', source);
  }
  if (value.pages !== undefined) grant.pages = parsePages(value.pages, `${at}.pages`, source);
  if (value.placements !== undefined) grant.placements = stringList(value.placements, `${at}.placements`, source);
  return grant;
}

function stringList(value: unknown, at: string, source: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== 'string' || v === '')) {
    throw policyError(at, 'expected a non-empty list of strings', source);
  }
  return list as string[];
}

function parseFlag(value: unknown, at: string, source: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw policyError(at, 'expected true or false', source);
  return value;
}

function parseTime(value: unknown, at: string, source: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw policyError(at, 'expected an ISO 8601 time such as 2027-01-01T00:00:00Z', source);
  }
  return date;
}

/** `[1, 2, "5-7"]` → {1, 2, 5, 6, 7}. */
function parsePages(value: unknown, at: string, source: string): Set<number> {
  const list = Array.isArray(value) ? value : [value];
  const pages = new Set<number>();
  for (const item of list) {
    const m = typeof item === 'number' ? [String(item), String(item), String(item)] : typeof item === 'string' ? /^(\d+)(?:-(\d+))?$/.exec(item.trim()) : null;
    const first = m === null ? NaN : Number(m[1]);
    const last = m === null ? NaN : Number(m[2] ?? m[1]);
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first < 1 || last < first || last - first > 100_000) {
      throw policyError(at, `expected page numbers or ranges such as 1 or "3-5", got ${JSON.stringify(item)}`, source);
    }
    for (let p = first; p <= last; p++) pages.add(p);
  }
  return pages;
}
