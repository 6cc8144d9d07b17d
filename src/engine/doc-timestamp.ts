/**
 * Document time-stamps: a TSA's token over the whole document so far, appended as a /DocTimeStamp revision. Later
 * the same operation seals a DSS (PAdES B-LTA). Composes pdf with the TSA client; no token, no gRPC, no files.
 */
import type { Hash } from 'node:crypto';
import type { ByteSource } from '../pdf/source.ts';
import { PdfDocument } from '../pdf/document.ts';
import { prepareDocTimestamp } from '../pdf/doc-timestamp.ts';
import { checkSealable, embedCms, uniqueFieldName } from '../pdf/signature.ts';
import { SealdError } from '../errors.ts';
import { digestByteRange } from './seal-prepare.ts';
import type { Timestamper } from './seal-types.ts';

export interface DocTimestampOptions {
  /** Field name; default `Timestamp<n>`. */
  fieldName?: string;
  signal?: AbortSignal;
  /** SHA-256 state over all of the source's bytes, when the receiver hashed it on the way in (copied, not consumed). */
  sourceDigest?: Hash;
}

export interface DocTimestampOutcome {
  appended: Uint8Array;
  fieldName: string;
  revision: number;
  byteRange: [number, number, number, number];
  /** SHA-256 of the byte ranges: the token's messageImprint. */
  documentDigest: Uint8Array;
  timestampTime: Date;
}

export async function timestampDocument(
  source: ByteSource,
  timestamper: Timestamper,
  options: DocTimestampOptions = {},
): Promise<DocTimestampOutcome> {
  const doc = PdfDocument.open(source);
  checkSealable(doc);
  const fieldName = options.fieldName ?? uniqueTimestampName(doc);
  uniqueFieldName(doc, fieldName);
  // As for a seal's B-T token (engine/seal.ts): a token larger than any measured (a failover TSA) is remembered and
  // the update prepared once more with room for it.
  for (let attempt = 1; ; attempt++) {
    const reserved = await timestamper.tokenSizeBound(options.signal);
    const prepared = prepareDocTimestamp(doc, { fieldName, contentsSize: reserved });
    const documentDigest = await digestByteRange(source, prepared.bytes, prepared.byteRange, options.sourceDigest);
    if (options.signal?.aborted) {
      throw new SealdError('cancelled', 'CANCELLED', 'the time-stamp was cancelled; nothing was written');
    }
    const token = await timestamper.timestamp(documentDigest, options.signal);
    if (token.der.length > reserved) {
      timestamper.noteTokenSize(token.der.length);
      if (attempt === 2) {
        throw new SealdError('unavailable', 'TIMESTAMP_TOO_LARGE', "the TSA's tokens keep growing past the reserved space; retry later");
      }
      continue;
    }
    embedCms(prepared, token.der);
    return {
      appended: prepared.bytes,
      fieldName,
      revision: prepared.revision,
      byteRange: prepared.byteRange,
      documentDigest,
      timestampTime: token.genTime,
    };
  }
}

function uniqueTimestampName(doc: PdfDocument): string {
  const names = doc.fieldNames();
  for (let i = 1; ; i++) if (!names.has(`Timestamp${i}`)) return `Timestamp${i}`;
}
