import type { Signer } from '../crypto/signer.ts';
import type { ByteSource } from '../pdf/source.ts';
import type { SealImage } from '../pdf/image.ts';

/** A seal ready to use: its key (through a Signer), certificate chain (in the signer) and prepared image. */
export interface SealMaterial {
  id: string;
  signer: Signer;
  image: SealImage;
  /** Default mark size in PDF points (1/72 in). */
  defaultWidth: number;
  defaultHeight: number;
}

/** 普通签章: one mark centred on (x, y), in PDF points from the lower-left corner of the page's visible area. */
export interface PositionPlacement {
  /** 1-based page number. */
  page: number;
  x: number;
  y: number;
  width?: number;
  height?: number;
}

export interface SealOptions {
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Signature field name; default `Seal<n>`, unique in the document. */
  fieldName?: string;
  /** Claimed signing time written to /M; default now. */
  signingTime?: Date;
  signal?: AbortSignal;
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
}

export async function sealDocument(
  _source: ByteSource,
  _seal: SealMaterial,
  _placement: PositionPlacement,
  _options: SealOptions = {},
): Promise<SealOutcome> {
  throw new Error('sealDocument: being written');
}
