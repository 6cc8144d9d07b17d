/**
 * The proto SignatureOptions as the engine's SealOptions (signature dictionary entries, certification, date stamp):
 * what the server applies for Seal and SealBatch, and what a client applies when it prepares a document itself
 * (seald batch --prepare-locally), so both write the same signature dictionary. Whether to time-stamp is the
 * server's choice (only it has a TSA); how a TSA failure is treated (timestampModeOf) is mapped here.
 */
import type { SealOptions, TimestampMode } from '../engine/seal.ts';
import { SealdError } from '../errors.ts';
import { Certification, TimestampMode as ProtoTimestampMode, type SignatureOptions } from '../gen/seald/v1/seald_pb.ts';

export type DictionaryOptions = Pick<SealOptions, 'reason' | 'location' | 'contactInfo' | 'fieldName' | 'certify' | 'dateStamp' | 'timeZone'>;

export function sealOptionsOf(given: SignatureOptions | undefined): DictionaryOptions {
  const options: DictionaryOptions = {};
  if (given === undefined) return options;
  if (given.reason !== '') options.reason = given.reason;
  if (given.location !== '') options.location = given.location;
  if (given.contactInfo !== '') options.contactInfo = given.contactInfo;
  if (given.fieldName !== '') options.fieldName = given.fieldName;
  switch (given.certification) {
    case Certification.UNSPECIFIED:
      break;
    case Certification.NO_CHANGES:
      options.certify = 'no-changes';
      break;
    case Certification.FORM_FILLING:
      options.certify = 'form-filling';
      break;
    default:
      throw new SealdError('invalid-input', 'BAD_CERTIFICATION', `options.certification ${given.certification as number} is not a known certification`);
  }
  // Checked by the engine where it is used (pdf/pdf-date.ts); the server checks it before the upload too.
  if (given.timeZone !== '') options.timeZone = given.timeZone;
  const stamp = given.dateStamp;
  if (stamp !== undefined) {
    options.dateStamp = {
      ...(stamp.enabled === undefined ? {} : { enabled: stamp.enabled }),
      ...(stamp.format === '' ? {} : { format: stamp.format }),
    };
  }
  return options;
}

/** The proto TimestampMode as the engine's; undefined for UNSPECIFIED (the server's default applies). */
export function timestampModeOf(mode: ProtoTimestampMode | undefined): TimestampMode | undefined {
  switch (mode) {
    case undefined:
    case ProtoTimestampMode.UNSPECIFIED:
      return undefined;
    case ProtoTimestampMode.STRICT:
      return 'strict';
    case ProtoTimestampMode.BEST_EFFORT:
      return 'best-effort';
    default:
      throw new SealdError('invalid-input', 'BAD_TIMESTAMP_MODE', `options.timestamp_mode ${mode as number} is not a known mode`);
  }
}
