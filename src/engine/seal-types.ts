/**
 * The types of a seal operation, shared by the one-step seal (seal.ts) and its two halves (seal-prepare.ts:
 * prepare the revision, embed the CMS), which a client may run on its own side of the wire.
 */
import type { Hash } from 'node:crypto';
import type { Signer } from '../crypto/signer.ts';
import type { SealImage } from '../pdf/image.ts';
import type { MissingTimestamp, TimestampMode } from './best-effort-timestamp.ts';

/** What a seal looks like on the page: everything the revision needs of it except its key. */
export interface SealAppearance {
  id: string;
  image: SealImage;
  /** Default mark size in PDF points (1/72 in). */
  defaultWidth: number;
  defaultHeight: number;
  /** The seal's configured date stamp format, when it draws the signing date by default (config seals[].date_stamp). */
  dateStampFormat?: string;
  /** The zone /M and the date stamp are written in (config time_zone; pdf/pdf-date.ts); default UTC. */
  timeZone?: string;
  /** The seal's kind (official, contract, …): recorded in the signed signature dictionary, read back by verify. */
  kind?: string;
}

/** A seal ready to use: its appearance, its key (through a Signer) and certificate chain (in the signer). */
export interface SealMaterial extends SealAppearance {
  signer: Signer;
}

export interface SealOptions {
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Signature field name; default `Seal<n>`, unique in the document. */
  fieldName?: string;
  /** Claimed signing time written to /M; default now. */
  signingTime?: Date;
  /**
   * The zone /M is written in (§7.9.4, D:…+08'00') and the date stamp drawn in: an IANA name (Asia/Shanghai), an
   * offset (+08:00), UTC or local. Default: the seal's (SealAppearance.timeZone), else UTC.
   */
  timeZone?: string;
  /**
   * 24 bytes the trailer's new /ID is drawn from; default random. With the signing time, the signer's signature and
   * the time-stamp token of an earlier seal, it regenerates that seal's revision byte for byte.
   */
  idEntropy?: Uint8Array;
  signal?: AbortSignal;
  /**
   * SHA-256 state over all of the source's bytes, when whoever received the document hashed it on the way in (the
   * server does, while spooling). It saves the second read of the document; it is copied, never consumed.
   */
  sourceDigest?: Hash;
  /**
   * Called with the pages the planned marks land on, before anything is signed: the caller's last word (the server
   * checks the policy's page limits here, since keyword and cross-page placements only know their pages now).
   */
  approvePages?: (pages: readonly number[]) => void;
  /** PAdES B-T: a signature time-stamp from these TSAs goes into the CMS (src/crypto/tsa-client.ts). */
  timestamper?: Timestamper;
  /**
   * What a time-stamp the TSAs cannot give does (best-effort-timestamp.ts): `strict` (default) fails the seal;
   * `best-effort` seals without it (B-B) and says why in SealOutcome.timestampMissing.
   */
  timestampMode?: TimestampMode;
  /** The user or owner password of an encrypted document; without one, the empty user password is tried. */
  password?: string | Uint8Array;
  /**
   * Make the seal a certification signature (ISO 32000-2 §12.8.2.2): `no-changes` (DocMDP P=1) or `form-filling`
   * (P=2: later form filling and signatures allowed). Refused on a document that is certified or already signed.
   */
  certify?: Certify;
  /**
   * The signing date drawn under the seal (时间章, pdf/date-stamp.ts): `enabled` unset follows the seal's default
   * (SealMaterial.dateStampFormat); `format` empty or unset uses the seal's format, else YYYY年MM月DD日.
   */
  dateStamp?: { enabled?: boolean; format?: string };
}

/** The certification levels a seal can give: DocMDP P=1 and P=2. */
export type Certify = 'no-changes' | 'form-filling';

/** What the engine needs of a TSA client. */
export interface Timestamper {
  timestamp(imprint: Uint8Array, signal?: AbortSignal): Promise<{ der: Uint8Array; genTime: Date }>;
  /** Upper bound of a token's DER size, measured on real tokens. */
  tokenSizeBound(signal?: AbortSignal): Promise<number>;
  noteTokenSize(bytes: number): void;
}

export interface SealOutcome {
  /** The incremental update to append after the original bytes (the original is never copied or changed). */
  appended: Uint8Array;
  fieldName: string;
  /** 1-based revision number of the new revision. */
  revision: number;
  byteRange: [number, number, number, number];
  /** SHA-256 of the signed byte ranges (the CMS message-digest). */
  documentDigest: Uint8Array;
  signerSubject: string;
  signingTime: Date;
  pages: number[];
  /** genTime of the signature time-stamp, when one was asked for. */
  timestampTime?: Date;
  /** Why a best-effort time-stamp is missing (the TSA error); the seal is B-B. */
  timestampMissing?: MissingTimestamp;
  /** What was wrong with an input that had to be repaired to be sealed (pdf/recovery.ts). */
  repaired?: string;
  /** How it was repaired (the table rebuilt by scanning: objects found, trailer used), for the log and audit. */
  repairedHow?: string;
}

