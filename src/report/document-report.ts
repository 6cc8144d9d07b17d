/**
 * The HTML report of one verified document, as `seald verify --html` writes it and the Verify RPC returns it: the
 * verification's report (unchanged: the same one `--json` prints), plus what the page shows beside it, read from
 * the same bytes: the seal images, the document's SHA-256, and the expected signers check.
 */
import type { VerificationReport } from '../engine/verify/report.ts';
import type { ByteSource } from '../pdf/source.ts';
import { checkExpectedSigners, parseExpectedSigner } from './expected-signers.ts';
import { renderReportHtml } from './html.ts';
import type { ReportLanguage } from './language.ts';
import { documentDigest, sealImages } from './seal-images.ts';

export interface HtmlReportOptions {
  language: ReportLanguage;
  /** The document's name as the reader knows it (a file name); shown, never opened. */
  documentName: string;
  /** `O=甲方公司`, `CN=张三` or a bare name; none means no expected signers section. */
  expectedSigners?: readonly string[];
  generatedAt?: Date;
}

export async function htmlReport(source: ByteSource, report: VerificationReport, options: HtmlReportOptions): Promise<string> {
  const expected = options.expectedSigners ?? [];
  return renderReportHtml({
    report,
    language: options.language,
    images: await sealImages(source, report),
    ...(expected.length === 0 ? {} : { expected: checkExpectedSigners(report, expected.map(parseExpectedSigner)) }),
    document: { name: options.documentName, size: source.size, sha256: await documentDigest(source) },
    generatedAt: options.generatedAt ?? new Date(),
  });
}
