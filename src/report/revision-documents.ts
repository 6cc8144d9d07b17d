/**
 * The document as each signature covers it, for what the report reads beside the verification (seal images, page
 * thumbnails): the revision the signature's /ByteRange ends with (a later replacement is a change the report lists,
 * not the seal), opened once per revision; the last revision for a signature whose range ends at no revision end.
 */
import { PdfDocument } from '../pdf/document.ts';
import { findEofMarkers, layoutRevisions, openRevision, type Revision } from '../pdf/revisions.ts';
import type { ByteSource } from '../pdf/source.ts';

export class RevisionDocuments {
  private readonly docs = new Map<number, PdfDocument>();

  private constructor(
    readonly source: ByteSource,
    readonly last: PdfDocument,
    private readonly revisions: Revision[],
  ) {}

  /** Undefined when the document cannot be opened at all (the report then shows no images). */
  static async open(source: ByteSource): Promise<RevisionDocuments | undefined> {
    let last: PdfDocument;
    try {
      last = PdfDocument.open(source);
    } catch {
      return undefined;
    }
    return new RevisionDocuments(source, last, layoutRevisions(last, await findEofMarkers(source)).revisions);
  }

  /** The document at the end of `revision` (1-based; null: the last). */
  at(revision: number | null): PdfDocument {
    const rev = this.revisionOf(revision);
    if (rev === undefined) return this.last;
    let doc = this.docs.get(rev.number);
    if (doc === undefined) {
      doc = openRevision(this.source, rev);
      this.docs.set(rev.number, doc);
    }
    return doc;
  }

  /** Bytes of the document at the end of `revision`: what a renderer is given to show that revision. */
  end(revision: number | null): number {
    return this.revisionOf(revision)?.end ?? this.source.size;
  }

  private revisionOf(revision: number | null): Revision | undefined {
    const rev = this.revisions[(revision ?? 0) - 1];
    return rev === undefined || rev.end >= this.source.size ? undefined : rev;
  }
}
