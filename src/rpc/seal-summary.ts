/**
 * A seal's outcome as the SealSummary its caller reads: the server answers Seal and SealBatch with it, and
 * `seald batch --prepare-locally` reports the seals it embedded itself in the same shape.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { SealOutcome } from '../engine/seal.ts';
import { SealSummarySchema } from '../gen/seald/v1/seald_pb.ts';

export function summaryOf(outcome: SealOutcome, documentSize: number) {
  return create(SealSummarySchema, {
    fieldName: outcome.fieldName,
    revision: outcome.revision,
    byteRange: outcome.byteRange.map((n) => BigInt(n)),
    documentDigest: outcome.documentDigest,
    digestAlgorithm: 'SHA-256',
    signerSubject: outcome.signerSubject,
    signingTime: timestampFromDate(outcome.signingTime),
    pages: outcome.pages,
    documentSize: BigInt(documentSize),
    ...(outcome.timestampTime === undefined ? {} : { timestampTime: timestampFromDate(outcome.timestampTime) }),
    ...(outcome.repaired === undefined ? {} : { repaired: outcome.repaired }),
    ...(outcome.timestampMissing === undefined
      ? {}
      : { timestampMissing: `${outcome.timestampMissing.code}: ${outcome.timestampMissing.message}` }),
  });
}
