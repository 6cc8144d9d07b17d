/**
 * Seal certificates that expire soon (issue 22; the UKey clients warn "即将过期，则需要尽快办理续期"): a warning
 * for ListSeals, and a log line at start and once a day for every seal whose certificate ends within
 * EXPIRY_WARNING_DAYS (or has ended). The Prometheus side is the gauge
 * seald_seal_certificate_expiry_timestamp_seconds and the alert SealdSealCertificateExpiresSoon (same threshold).
 */
import type { Logger } from './logger.ts';
import type { ConfiguredSeal } from './seals.ts';

export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

/** The warning for a certificate ending within the threshold (or ended), else undefined. */
export function expiryWarning(notAfter: Date, now = new Date()): string | undefined {
  const left = notAfter.getTime() - now.getTime();
  if (left <= 0) return `the seal certificate expired on ${notAfter.toISOString()}: seals with it are refused; renew it`;
  if (left > EXPIRY_WARNING_DAYS * DAY_MS) return undefined;
  const days = Math.floor(left / DAY_MS);
  return `the seal certificate expires on ${notAfter.toISOString()} (in ${days} day${days === 1 ? '' : 's'}): renew it`;
}

/** One warn line per seal under the threshold. */
export function logExpiringSeals(seals: Iterable<ConfiguredSeal>, logger: Logger, now = new Date()): number {
  let count = 0;
  for (const seal of seals) {
    const warning = expiryWarning(seal.certificate.notAfter, now);
    if (warning === undefined) continue;
    count++;
    logger.warn(
      {
        sealId: seal.config.id,
        notAfter: seal.certificate.notAfter.toISOString(),
        daysLeft: Math.floor((seal.certificate.notAfter.getTime() - now.getTime()) / DAY_MS),
        subject: seal.certificate.subject,
      },
      'seal certificate expires soon',
    );
  }
  return count;
}

/** Log now, then every `intervalMs` (a day); returns the function that stops it. The timer never holds the process. */
export function watchSealExpiry(seals: () => Iterable<ConfiguredSeal>, logger: Logger, intervalMs = DAY_MS): () => void {
  logExpiringSeals(seals(), logger);
  const timer = setInterval(() => logExpiringSeals(seals(), logger), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
