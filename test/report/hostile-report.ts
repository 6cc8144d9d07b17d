/** A report as a forged document could make it: every string the document controls carries markup. */
import type { VerificationReport } from '../../src/engine/verify/report.ts';

export const SCRIPT = `<script>document.title='pwned'</script>`;
export const IMG = `<img src=x onerror="document.title='pwned'">`;

export function hostileReport(): VerificationReport {
  return {
    reportVersion: 1,
    verdict: 'INVALID',
    reasons: [`signature "${SCRIPT}" is broken`],
    revisions: 3,
    lastRevisionCovered: false,
    signatures: [
      {
        field: `甲方${SCRIPT}`,
        revision: 2,
        placement: { kind: 'Position', pages: [1] },
        signer: {
          subject: `CN=${IMG},O=恶意公司${SCRIPT},C=CN`,
          organisation: `恶意公司${SCRIPT}`,
          serial: `01"><b>x</b>`,
          issuer: `CN=CA ${IMG}`,
          notBefore: '2026-01-01T00:00:00.000Z',
          notAfter: '2028-01-01T00:00:00.000Z',
        },
        claimedSigningTime: '2026-06-01T08:00:00.000Z',
        timestampTime: null,
        signatureTimestamp: 'NONE',
        level: 'B-B',
        subFilter: `ETSI.CAdES.detached${SCRIPT}`,
        digestAlgorithm: 'SHA-256',
        signatureAlgorithm: 'sha256WithRSAEncryption',
        byteRange: [0, 10, 20, 30],
        integrity: 'INTACT',
        coversWholeDocument: false,
        changesAfter: 'NOT_ALLOWED',
        changes: [{ revision: 3, allowed: false, kind: `page-content-changed${SCRIPT}`, description: `page 1 content ${IMG}` }],
        trust: 'TRUSTED',
        verdict: 'INVALID',
        reasons: [`the field ${SCRIPT} was changed`],
      },
    ],
  };
}
