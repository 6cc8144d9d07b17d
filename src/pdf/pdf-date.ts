/**
 * Dates as a PDF writes them (ISO 32000-1 §7.9.4): D:YYYYMMDDHHmmSSOHH'mm', the local time of a zone followed by that
 * zone's offset from UT at that instant. The signature dictionary's /M (§12.8.1, Table 252) is one, and the date
 * stamp (date-stamp.ts) draws the same wall-clock date, so a seal applied at 07:30 in Beijing (23:30 UT the day
 * before) says the Beijing date in both places.
 *
 * A zone is named as the IANA time zone database names it (Asia/Shanghai, Europe/Berlin: the offset follows daylight
 * saving time at the instant), as a fixed offset (+08:00, -0530), as UTC, or as `local` (the zone of the machine
 * seald runs on: TZ or the system's setting).
 */
import { SealdError } from '../errors.ts';

/** The zone seald writes dates in when none is configured: UT, the same on every machine (docs/date-stamp.md). */
export const DEFAULT_TIME_ZONE = 'UTC';

const FIXED_OFFSET = /^([+-])(\d{2}):?(\d{2})$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UT at `at`, in minutes east (Asia/Shanghai: 480). Throws BAD_TIME_ZONE for an unknown zone. */
export function utcOffsetMinutes(zone: string, at: Date): number {
  if (zone === 'UTC' || zone === 'Z') return 0;
  const fixed = FIXED_OFFSET.exec(zone);
  if (fixed !== null) {
    const minutes = Number(fixed[2]) * 60 + Number(fixed[3]);
    if (Number(fixed[2]) > 23 || Number(fixed[3]) > 59) throw badZone(zone);
    return fixed[1] === '-' ? -minutes : minutes;
  }
  const parts = Object.fromEntries(formatterOf(zone).formatToParts(at).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** Refuse a zone name before anything is signed (a configured seal at start-up, a request before its upload). */
export function checkTimeZone(zone: string): void {
  utcOffsetMinutes(zone, new Date(0));
}

/**
 * `at` as the wall clock of a zone `offsetMinutes` east of UT: a Date whose getUTC* fields read that local time
 * (an instant only in name; never compare it with real instants).
 */
export function wallClock(at: Date, offsetMinutes: number): Date {
  return new Date(at.getTime() + offsetMinutes * 60_000);
}

/** §7.9.4: D:YYYYMMDDHHmmSS+HH'mm' in the zone `offsetMinutes` east of UT (0: +00'00'). */
export function pdfDate(at: Date, offsetMinutes = 0): string {
  const p = (v: number, n = 2): string => String(v).padStart(n, '0');
  const d = wallClock(at, offsetMinutes);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const off = Math.abs(offsetMinutes);
  return (
    `D:${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${sign}${p(Math.floor(off / 60))}'${p(off % 60)}'`
  );
}

function formatterOf(zone: string): Intl.DateTimeFormat {
  const name = zone === 'local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : zone;
  let formatter = formatters.get(name);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw badZone(zone);
    }
    formatters.set(name, formatter);
  }
  return formatter;
}

function badZone(zone: string): SealdError {
  return new SealdError(
    'invalid-input',
    'BAD_TIME_ZONE',
    `unknown time zone ${JSON.stringify(zone.slice(0, 64))}: use an IANA name such as Asia/Shanghai, an offset such as +08:00, UTC or local`,
  );
}
