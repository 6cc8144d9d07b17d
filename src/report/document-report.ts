/**
 * The HTML report of one verified document, as `seald verify --html` writes it and the Verify RPC returns it: the
 * verification's report (unchanged: the same one `--json` prints), plus what the page shows beside it, read from
 * the same bytes: the seal images, thumbnails of the pages they mark, the document's SHA-256, and the expected
 * signers check.
 */
import type { VerificationReport } from '../engine/verify/report.ts';
import type { ByteSource } from '../pdf/source.ts';
import { checkExpectedSigners, parseExpectedSigner } from './expected-signers.ts';
import { renderReportHtml } from './html.ts';
import type { ReportLanguage } from './language.ts';
import type { PageRenderer } from './page-render.ts';
import { RevisionDocuments } from './revision-documents.ts';
import { documentDigest, sealImages } from './seal-images.ts';
import { signatureThumbnails } from './thumbnails.ts';

export interface HtmlReportOptions {
  language: ReportLanguage;
  /** The document's name as the reader knows it (a file name); shown, never opened. */
  documentName: string;
  /** `O=甲方公司`, `CN=张三` or a bare name; none means no expected signers section. */
  expectedSigners?: readonly string[];
  generatedAt?: Date;
  /**
   * Renders the signed pages for the thumbnails (page-render.ts findPageRenderer: pdftoppm); absent, the thumbnails
   * are page outlines with the seal's rectangle.
   */
  pageRenderer?: PageRenderer;
  /** The caller went away (a cancelled Verify call): page renders stop. */
  signal?: AbortSignal;
}

export async function htmlReport(source: ByteSource, report: VerificationReport, options: HtmlReportOptions): Promise<string> {
  const expected = options.expectedSigners ?? [];
  const docs = report.signatures.length === 0 ? undefined : await RevisionDocuments.open(source);
  return renderReportHtml({
    report,
    language: options.language,
    images: await sealImages(source, report, docs),
    ...(docs === undefined ? {} : {
          thumbnails: await signatureThumbnails(docs, report, {
            renderer: options.pageRenderer,
            ...(options.signal === undefined ? {} : { signal: options.signal }),
          }),
        }),
    ...(expected.length === 0 ? {} : { expected: checkExpectedSigners(report, expected.map(parseExpectedSigner)) }),
    document: { name: options.documentName, size: source.size, sha256: await documentDigest(source) },
    generatedAt: options.generatedAt ?? new Date(),
  });
}
