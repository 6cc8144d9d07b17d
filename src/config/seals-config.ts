/** The seals and tls sections of the configuration. */
import { checkKeys, configError, isTable, optionalString, requiredString, type Table } from './values.ts';
import { SEAL_KINDS, sealKindOf, type SealKindName } from '../auth/seal-kinds.ts';

export type { SealKindName };

export interface SealConfig {
  id: string;
  /** 公章 official, 合同专用章 contract, …  (src/auth/seal-kinds.ts); `organization` in the file means official. */
  kind: SealKindName;
  name: string;
  /** Label of the private key on the token (CKA_LABEL). */
  key: string;
  /**
   * PEM file: the signing certificate first, then its issuers. Absent: read from the token, next to the key
   * (src/pool/token-objects.ts; written with `seald admin write-certificate`).
   */
  certificates?: string;
  /** PNG file of the seal's mark. Absent: read from the token (`seald admin write-image`). */
  image?: string;
  /** Default size of the mark's longer side, in millimetres. */
  sizeMm: number;
  /**
   * `required`: every signature needs the holder's PIN (signature activation, sole control); the key must carry
   * CKA_ALWAYS_AUTHENTICATE so the token enforces it. Absent or `none`: the seal signs on the caller's grant alone.
   */
  activation?: 'required' | 'none';
  /**
   * Draw the signing date under the seal by default (时间章): `true` for YYYY年MM月DD日, or a format
   * (src/pdf/date-stamp.ts). A request's SignatureOptions.date_stamp overrides it.
   */
  dateStamp?: string;
  /**
   * The zone /M and the date stamp are written in (seals[].time_zone, else the top-level time_zone): an IANA name
   * such as Asia/Shanghai, an offset such as +08:00, UTC or local (src/pdf/pdf-date.ts; checked when the seal loads).
   * Absent: UTC. A request's SignatureOptions.time_zone overrides it.
   */
  timeZone?: string;
  /**
   * `disabled: true`: the seal stays configured and listed (ListSeals says disabled) but seals nothing
   * (FAILED_PRECONDITION, SEAL_DISABLED) until a reload enables it again — a temporary stop without losing its set-up.
   */
  disabled?: true;
}

/** Mutual TLS: the server's certificate chain and key, and the CA bundle client certificates must chain to. */
export interface TlsConfig {
  cert: string;
  key: string;
  clientCa: string;
}

export function sealsFrom(value: unknown, fromFile: (p: string) => string, source: string, timeZone?: string): SealConfig[] {
  if (value === undefined || value === null) throw configError('seals', 'at least one seal is required', source);
  if (!Array.isArray(value) || value.length === 0) throw configError('seals', 'expected a non-empty list of seals', source);
  const seen = new Set<string>();
  // A seal configured by its key alone reads its certificate chain and image from the token (token-objects.ts).
  const optionalFile = (item: Table, key: 'certificates' | 'image', at: string): { certificates?: string; image?: string } => {
    const value = item[key];
    if (value === undefined || value === null) return {};
    if (typeof value !== 'string' || value === '') throw configError(at, 'expected a file path (or leave it out to read it from the token)', source);
    return { [key]: fromFile(value) };
  };
  return value.map((item: unknown, index) => {
    const name = `seals[${index}]`;
    if (!isTable(item)) throw configError(name, 'expected a mapping', source);
    checkKeys(item, ['id', 'kind', 'name', 'key', 'certificates', 'image', 'size_mm', 'activation', 'date_stamp', 'time_zone', 'disabled'], `${name}.`, source);
    const id = requiredString(item, 'id', `${name}.id`, source);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) {
      throw configError(`${name}.id`, `"${id}": use letters, digits, ".", "_" and "-"`, source);
    }
    if (seen.has(id)) throw configError(`${name}.id`, `duplicate seal id "${id}"`, source);
    seen.add(id);
    const kindWord = requiredString(item, 'kind', `${name}.kind`, source);
    const kind = sealKindOf(kindWord);
    if (kind === undefined) {
      throw configError(`${name}.kind`, `expected one of ${SEAL_KINDS.join(', ')} (or organization, meaning official), got "${kindWord}"`, source);
    }
    const sizeMm = item.size_mm;
    if (typeof sizeMm !== 'number' || !Number.isFinite(sizeMm) || sizeMm <= 0 || sizeMm > 1000) {
      throw configError(`${name}.size_mm`, `expected a size in millimetres (0 < size ≤ 1000), got ${JSON.stringify(sizeMm)}`, source);
    }
    const activation = item.activation;
    if (activation !== undefined && activation !== 'required' && activation !== 'none') {
      throw configError(`${name}.activation`, `expected required or none, got ${JSON.stringify(activation)}`, source);
    }
    const disabled = item.disabled;
    if (disabled !== undefined && disabled !== null && typeof disabled !== 'boolean') {
      throw configError(`${name}.disabled`, `expected true or false, got ${JSON.stringify(disabled)}`, source);
    }
    const dateStamp = item.date_stamp;
    if (dateStamp !== undefined && dateStamp !== true && dateStamp !== false && (typeof dateStamp !== 'string' || dateStamp === '')) {
      throw configError(`${name}.date_stamp`, `expected true, false or a format such as "YYYY年MM月DD日", got ${JSON.stringify(dateStamp)}`, source);
    }
    const zone = optionalString(item, 'time_zone', source, name) ?? timeZone;
    return {
      id,
      kind,
      ...(zone === undefined ? {} : { timeZone: zone }),
      ...(activation === undefined ? {} : { activation }),
      ...(disabled === true ? { disabled: true as const } : {}),
      ...(dateStamp === undefined || dateStamp === false ? {} : { dateStamp: dateStamp === true ? 'YYYY年MM月DD日' : dateStamp }),
      name: requiredString(item, 'name', `${name}.name`, source),
      key: requiredString(item, 'key', `${name}.key`, source),
      ...optionalFile(item, 'certificates', `${name}.certificates`),
      ...optionalFile(item, 'image', `${name}.image`),
      sizeMm,
    };
  });
}

/** tls.cert / tls.key / tls.client_ca (or SEALD_TLS_*): all three, or none for plaintext. */
export function tlsFrom(
  table: Table,
  envValue: (name: 'SEALD_TLS_CERT' | 'SEALD_TLS_KEY' | 'SEALD_TLS_CLIENT_CA') => string | undefined,
  fromFile: (p: string) => string,
  fromCwd: (p: string) => string,
  source: string,
): TlsConfig | undefined {
  const pick = (key: string, envName: 'SEALD_TLS_CERT' | 'SEALD_TLS_KEY' | 'SEALD_TLS_CLIENT_CA'): string | undefined => {
    const fromEnv = envValue(envName);
    if (fromEnv !== undefined) return fromCwd(fromEnv);
    const value = optionalString(table, key, source, 'tls');
    return value === undefined ? undefined : fromFile(value);
  };
  const cert = pick('cert', 'SEALD_TLS_CERT');
  const key = pick('key', 'SEALD_TLS_KEY');
  const clientCa = pick('client_ca', 'SEALD_TLS_CLIENT_CA');
  if (cert === undefined && key === undefined && clientCa === undefined) return undefined;
  if (cert === undefined || key === undefined || clientCa === undefined) {
    const missing = [cert === undefined ? 'cert' : '', key === undefined ? 'key' : '', clientCa === undefined ? 'client_ca' : '']
      .filter((k) => k !== '')
      .map((k) => `tls.${k}`);
    throw configError('tls', `mutual TLS needs cert, key and client_ca: ${missing.join(', ')} missing`, source);
  }
  return { cert, key, clientCa };
}
