/**
 * What the fuzzer runs on each input: everything src/pdf does with a document nobody vouches for, the way seal and
 * verify drive it. Open (strictly, as verify does, and with recovery, as seal does), authenticate an encrypted file,
 * count and find pages, read the fields, DocMDP, signature fields and DSS, read every object the table lists, split
 * the revisions as the verifier does (repaired-base.ts) and open the last three, write a signature-shaped revision on page 1 and read the result back.
 *
 * The outcome is 'read' or 'refused' (a SealdError or LimitExceeded: seald's own typed refusals); anything else
 * escapes as the crash it is.
 */
import { SealdError } from '../../src/errors.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import { readDss } from '../../src/pdf/dss.ts';
import type { SealImage } from '../../src/pdf/image.ts';
import { Budget, DEFAULT_VERIFY_LIMITS, LimitExceeded } from '../../src/pdf/limits.ts';
import { PdfRef, PdfStream } from '../../src/pdf/objects.ts';
import { centredMarkRect } from '../../src/pdf/placement.ts';
import { findEofMarkers } from '../../src/pdf/revisions.ts';
import { layoutForVerify, openForVerify } from '../../src/pdf/repaired-base.ts';
import { embedCms, prepareSignature } from '../../src/pdf/signature.ts';
import { signatureFields } from '../../src/pdf/signature-fields.ts';
import { AppendedSource, bufferSource, type ByteSource } from '../../src/pdf/source.ts';

export type Outcome = 'read' | 'refused';

/** Objects read per document: enough for every seed document, bounded for a mutated /Size of millions. */
const MAX_OBJECTS = 3000;

const IMAGE: SealImage = {
  width: 1,
  height: 1,
  // zlib streams of one red pixel and one opaque alpha byte.
  rgb: Buffer.from('789c63f8cfc00000030101', 'hex'),
  alpha: Buffer.from('789cfb0f0001010100', 'hex'),
};

export function isRefusal(error: unknown): boolean {
  return error instanceof SealdError || error instanceof LimitExceeded;
}

async function refusedOr(step: () => Promise<void> | void): Promise<Outcome> {
  try {
    await step();
    return 'read';
  } catch (error) {
    if (isRefusal(error)) return 'refused';
    throw error;
  }
}

function walk(doc: PdfDocument): void {
  const budget = new Budget({ ...DEFAULT_VERIFY_LIMITS, maxMillis: 10_000, maxObjects: 20_000 });
  const pages = doc.pageCount;
  for (const n of new Set([1, 2, pages])) if (n >= 1 && n <= pages) doc.page(n);
  doc.fieldNames();
  doc.docMdpPermission();
  void doc.encryption;
  signatureFields(doc, budget);
  readDss(doc);
  let read = 0;
  for (const [num, entry] of doc.xref.entries) {
    if (++read > MAX_OBJECTS) break;
    const value = doc.getObject(new PdfRef(num, entry.type === 'offset' ? entry.gen : 0));
    if (value instanceof PdfStream && value.dict.name('Type') === 'ObjStm') doc.decode(value);
  }
}

/** Run every reader over `bytes`; throws whatever is not a typed refusal. */
export async function exercise(bytes: Uint8Array, password?: string): Promise<{ strict: Outcome; recovering: Outcome; sealed: Outcome }> {
  const source = bufferSource(bytes);
  const strict = await refusedOr(async () => {
    const doc = PdfDocument.open(source, { recover: false, ...(password !== undefined ? { password } : {}) });
    walk(doc);
    // The verifier's reading of the revisions: an original seald repaired by recovery, the rest strictly.
    const layout = layoutForVerify(doc, await findEofMarkers(source));
    for (const revision of layout.revisions.slice(-3)) walk(openForVerify(source, revision, layout));
  });
  let sealedSource: ByteSource | undefined;
  const recovering = await refusedOr(() => {
    const doc = PdfDocument.open(bufferSource(bytes), password !== undefined ? { password } : {});
    walk(doc);
    const page = doc.page(1);
    doc.repairBeforeUpdate();
    const prepared = prepareSignature(doc, {
      fieldName: 'Fuzz1',
      signingTime: new Date('2026-01-02T03:04:05Z'),
      contentsSize: 64,
      image: IMAGE,
      mark: { page, rect: centredMarkRect(page, { x: 100, y: 100, width: 50, height: 50 }) },
    });
    embedCms(prepared, Buffer.from('3003020101', 'hex'));
    sealedSource = new AppendedSource(doc.source, prepared.bytes);
  });
  // What seald wrote on a document it read must read back (the seal's own output check does this strictly).
  const sealed = sealedSource === undefined ? 'refused' : await refusedOr(() => walk(PdfDocument.open(sealedSource!, { recover: false })));
  return { strict, recovering, sealed };
}
