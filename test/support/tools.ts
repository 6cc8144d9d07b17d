/**
 * Independent checks over real tools, for every test that needs a second opinion on a PDF seald wrote: qpdf for
 * structure, poppler for text, rendering and signatures, openssl for the CMS, and byte comparisons. None of these
 * uses seald's code.
 */
export { isPrefix, sha256File } from './bytes.ts';
export { pdfsig, parsePdfsigOutput } from './pdfsig.ts';
export type { PdfsigOptions, PdfsigReport, PdfsigSignature } from './pdfsig.ts';
export { pdfInfo, pdfText, popplerOpens } from './poppler.ts';
export type { PasswordOptions, PdfInfo } from './poppler.ts';
export { qpdfCheck } from './qpdf.ts';
export type { QpdfCheckResult, QpdfCheckStatus } from './qpdf.ts';
export { isSealRed, parsePpm, redBounds, redPixels, renderPage } from './render.ts';
export type { RectPts, RedPixelCount, RenderedPage } from './render.ts';
export { extractSignatures, opensslCmsVerify } from './signatures.ts';
export type { ByteRange, CmsVerifyResult, ExtractedSignature } from './signatures.ts';
