/**
 * Seal certificates about to expire (issue 22): the gauge seald_seal_certificate_expiry_timestamp_seconds per seal,
 * the ListSeals warning, and the log line at start and again each interval (a day in production) — all at the same
 * 30-day threshold as the alert rule (test/deploy/prometheus-rules.test.ts).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSeals } from '../../src/cli/client.ts';
import { EXPIRY_WARNING_DAYS, expiryWarning, watchSealExpiry } from '../../src/server/seal-expiry.ts';
import type { ConfiguredSeal } from '../../src/server/seals.ts';
import { fakeSeal, startHarness, type Harness } from './harness.ts';

const DAY = 86_400_000;

function sealEnding(id: string, notAfter: Date): ConfiguredSeal {
  const seal = fakeSeal(id);
  return { ...seal, certificate: { ...seal.certificate, notAfter } };
}

let h: Harness;
const soon = new Date(Date.now() + 10 * DAY + 3_600_000);
const later = new Date(Date.now() + 31 * DAY + 3_600_000);

beforeAll(async () => {
  h = await startHarness({ metrics: true, seals: [sealEnding('org', new Date('2035-01-01T00:00:00Z')), sealEnding('contract', soon), sealEnding('finance', later)] });
});
afterAll(async () => h?.close());

describe('seal certificate expiry', () => {
  it('exports each seal certificate notAfter as a Unix timestamp', async () => {
    const text = await (await fetch(`http://127.0.0.1:${h.server.metricsPort}/metrics`)).text();
    const samples = Object.fromEntries(
      [...text.matchAll(/^seald_seal_certificate_expiry_timestamp_seconds\{seal="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]),
    );
    expect(samples).toEqual({
      org: Date.parse('2035-01-01T00:00:00Z') / 1000,
      contract: Math.floor(soon.getTime() / 1000),
      finance: Math.floor(later.getTime() / 1000),
    });
    expect(text).toContain('# TYPE seald_seal_certificate_expiry_timestamp_seconds gauge');
  });

  it('ListSeals warns about the seal within 30 days only', async () => {
    const { seals } = await listSeals(h.client);
    const warnings = Object.fromEntries(seals.map((s) => [s.id, s.warnings]));
    expect(warnings.org).toEqual([]);
    expect(warnings.finance).toEqual([]);
    expect(warnings.contract).toEqual([`the seal certificate expires on ${soon.toISOString()} (in 10 days): renew it`]);
  });

  it('logs a warning at start for the expiring seal only', () => {
    const lines = h.logs.map((l) => JSON.parse(l) as { msg: string; sealId?: string; daysLeft?: number; level: number });
    const expiring = lines.filter((l) => l.msg === 'seal certificate expires soon');
    expect(expiring.map((l) => [l.sealId, l.daysLeft, l.level])).toEqual([['contract', 10, 40]]);
  });

  it('the threshold: 30 days warns, 31 does not, an expired one says so', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    expect(EXPIRY_WARNING_DAYS).toBe(30);
    expect(expiryWarning(new Date(now.getTime() + 30 * DAY), now)).toMatch(/in 30 days/);
    expect(expiryWarning(new Date(now.getTime() + 30 * DAY + 1000), now)).toBeUndefined();
    expect(expiryWarning(new Date(now.getTime() + 31 * DAY), now)).toBeUndefined();
    expect(expiryWarning(new Date(now.getTime() - 1), now)).toMatch(/expired on 2026-05-31T23:59:59.999Z/);
  });

  it('logs again every interval (a day in production) while under the threshold', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const stop = watchSealExpiry(() => [sealEnding('contract', soon), fakeSeal('org')], logger, 100);
    await new Promise((resolve) => setTimeout(resolve, 350));
    stop();
    const count = lines.length;
    expect(count).toBeGreaterThanOrEqual(3); // at start, then each 100 ms
    expect(lines.every((l) => l.includes('"sealId":"contract"'))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(lines.length).toBe(count); // stopped
  });
});
