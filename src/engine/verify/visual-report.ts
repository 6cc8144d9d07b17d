/**
 * The visual check's part of the verification report (visual-check.ts), apart so that report.ts can name it without
 * importing the check: one per signature, in `SignatureReport.visualCheck`.
 */

/**
 * NOT_NEEDED: no change after the signature can alter what a page shows; SAME: the pages those changes touch look as
 * signed, but inside the changed annotations; DIFFERENT: they do not (a shadow attack: the signature is INVALID);
 * SKIPPED: no renderer, switched off, or a page the renderer could not render; BUDGET_EXCEEDED: the time or page
 * budget ran out before an answer (never a guess).
 */
export type VisualCheckResult = 'NOT_NEEDED' | 'SAME' | 'DIFFERENT' | 'SKIPPED' | 'BUDGET_EXCEEDED';

export type VisualDifferenceKind = 'outside-changes' | 'hides-signed-content' | 'page-size';

export interface VisualDifference {
  /** 1-based page number. */
  page: number;
  /** outside-changes: a difference outside every changed annotation; hides-signed-content: signed ink painted over. */
  kind: VisualDifferenceKind;
  /** The bounding rectangle of the differing pixels in default user space (PDF units), [x0, y0, x1, y1]. */
  rect: [number, number, number, number];
  /** Differing pixels at the check's resolution (72 dpi: one pixel per point). */
  pixels: number;
}

export interface VisualCheckReport {
  result: VisualCheckResult;
  /** Pages rendered and compared (1-based). */
  pages: number[];
  differences: VisualDifference[];
  reason: string;
  /** Time this signature's check took (rendering and comparing), in milliseconds. */
  millis: number;
}
