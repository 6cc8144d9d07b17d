/**
 * Reading values out of a parsed configuration file: typed getters that name the key and the file in every error
 * (`seald.yaml: limits.max_document_bytes: expected a byte size ...`), shared by every section's reader.
 */
import { SealdError } from '../errors.ts';

export type Table = Record<string, unknown>;

export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function configError(key: string, message: string, source?: string): SealdError {
  const where = source === undefined ? key : `${source}: ${key}`;
  return new SealdError('invalid-input', 'CONFIG_INVALID', `${where}: ${message}`);
}

export function checkKeys(table: Table, allowed: readonly string[], prefix: string, source: string): void {
  for (const key of Object.keys(table)) {
    if (!allowed.includes(key)) {
      throw configError(`${prefix}${key}`, `unknown setting (expected one of: ${allowed.join(', ')})`, source);
    }
  }
}

export function section(file: Table, key: string, source: string, allowed: readonly string[]): Table {
  const value = file[key];
  if (value === undefined || value === null) return {};
  if (!isTable(value)) throw configError(key, 'expected a mapping', source);
  checkKeys(value, allowed, `${key}.`, source);
  return value;
}

export function optionalString(table: Table, key: string, source: string, prefix?: string): string | undefined {
  const value = table[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value === '') {
    throw configError(prefix === undefined ? key : `${prefix}.${key}`, 'expected a non-empty string', source);
  }
  return value;
}

export function requiredString(table: Table, key: string, name: string, source: string): string {
  const value = optionalString(table, key, source);
  if (value === undefined) throw configError(name, 'required', source);
  return value;
}

export function stringList(value: unknown, name: string, source: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    throw configError(name, 'expected a list of non-empty strings', source);
  }
  return value as string[];
}

export function isDisabled(value: string): boolean {
  return ['', 'off', 'false', 'no', 'none', 'disabled'].includes(value.trim().toLowerCase());
}

/** host:port, [v6]:port; port 0 picks a free port. */
export function checkAddress(value: string, name: string, source?: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(value.trim());
  if (match === null || Number(match[2]) > 65535) {
    throw configError(name, `expected host:port (e.g. 127.0.0.1:50051), got "${value}"`, source);
  }
  return value.trim();
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** A byte count: an integer, or a number with a unit (`8MiB`, `256 MiB`, `1.5GB`; `M` means MiB). */
export function parseByteSize(value: unknown, name: string, source?: string): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  const match = text === undefined ? null : /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text);
  const unit = match === null ? undefined : BYTE_UNITS[match[2]!.toLowerCase()];
  if (match === null || unit === undefined) {
    throw configError(name, `expected a byte size such as 8388608, 8MiB or 256 MiB, got ${JSON.stringify(value)}`, source);
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw configError(name, `expected a positive byte size, got ${JSON.stringify(value)}`, source);
  }
  return bytes;
}

export function parseSeconds(value: unknown, name: string, source?: string): number {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!Number.isFinite(seconds) || seconds < 0 || (typeof value === 'string' && value.trim() === '')) {
    throw configError(name, `expected a number of seconds ≥ 0, got ${JSON.stringify(value)}`, source);
  }
  return seconds;
}

export function positiveInteger(value: unknown, name: string, source?: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw configError(name, `expected a positive integer, got ${JSON.stringify(value)}`, source);
  return n;
}
