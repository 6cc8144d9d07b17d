/**
 * What the idempotency store keeps of a seal instead of its revision: the few facts that make the engine write the
 * same revision again, byte for byte, without a second signature — the signing time, the entropy of the trailer's
 * /ID, the signer's signature value, the signature time-stamp token with the room that was reserved for it, and the
 * SHA-256 and length of the revision they must reproduce. Everything else that shapes the revision (the input's
 * bytes, the seal, placement and options) is in the idempotency key already; the seal's certificates and image come
 * from the configuration. A regenerated revision is checked against the stored digest before it is sent: if the
 * seal's configuration changed in between (a new certificate or image), the document is sealed again instead.
 *
 * With an RSA-2048 key and no time-stamp these facts take ~360 bytes where the revision took ~35 KB; a time-stamp
 * token adds its own DER (1.5–5 KB depending on the TSA's certificates).
 *
 * Encoding (big-endian): version 1 (u8), flags (u8, bit 0: time-stamp), revision length (u32), revision SHA-256
 * (32 bytes), signing time (ms, f64), /ID entropy (24 bytes), signature length (u16) and bytes; with a time-stamp:
 * reserved token size (u32), genTime (ms, f64), token length (u32) and DER; a best-effort seal whose TSA failed after
 * its room was reserved (flags bit 1) keeps only the reserved token size (u32), and replays B-B into the same room.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SealMaterial, Timestamper } from '../engine/seal.ts';
import { SealdError } from '../errors.ts';
import type { Signer } from '../crypto/signer.ts';

const VERSION = 1;
const ID_ENTROPY_BYTES = 24;

export interface ReplayFacts {
  revisionLength: number;
  revisionSha256: Uint8Array;
  signingTime: Date;
  idEntropy: Uint8Array;
  signature: Uint8Array;
  timestamp?: { sizeBound: number; genTime: Date; der: Uint8Array };
  /** A best-effort seal made without its token: the room that was reserved for it. */
  missingTimestamp?: { sizeBound: number };
}

export function encodeReplayFacts(facts: ReplayFacts): Uint8Array {
  const ts = facts.timestamp;
  const missing = facts.missingTimestamp;
  const size =
    2 + 4 + 32 + 8 + ID_ENTROPY_BYTES + 2 + facts.signature.byteLength + (ts === undefined ? 0 : 4 + 8 + 4 + ts.der.byteLength) + (missing === undefined ? 0 : 4);
  const out = Buffer.alloc(size);
  let at = out.writeUInt8(VERSION, 0);
  at = out.writeUInt8((ts === undefined ? 0 : 1) | (missing === undefined ? 0 : 2), at);
  at = out.writeUInt32BE(facts.revisionLength, at);
  out.set(facts.revisionSha256, at);
  at += 32;
  at = out.writeDoubleBE(facts.signingTime.getTime(), at);
  out.set(facts.idEntropy, at);
  at += ID_ENTROPY_BYTES;
  at = out.writeUInt16BE(facts.signature.byteLength, at);
  out.set(facts.signature, at);
  at += facts.signature.byteLength;
  if (ts !== undefined) {
    at = out.writeUInt32BE(ts.sizeBound, at);
    at = out.writeDoubleBE(ts.genTime.getTime(), at);
    at = out.writeUInt32BE(ts.der.byteLength, at);
    out.set(ts.der, at);
    at += ts.der.byteLength;
  }
  if (missing !== undefined) out.writeUInt32BE(missing.sizeBound, at);
  return out;
}

/** The facts in `bytes`, or undefined when they are not a whole record of a known version. */
export function decodeReplayFacts(bytes: Uint8Array): ReplayFacts | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (b.readUInt8(0) !== VERSION) return undefined;
    const flags = b.readUInt8(1);
    let at = 2;
    const revisionLength = b.readUInt32BE(at);
    at += 4;
    const revisionSha256 = b.subarray(at, at + 32);
    at += 32;
    const signingTime = new Date(b.readDoubleBE(at));
    at += 8;
    const idEntropy = b.subarray(at, at + ID_ENTROPY_BYTES);
    at += ID_ENTROPY_BYTES;
    const signatureLength = b.readUInt16BE(at);
    at += 2;
    const signature = b.subarray(at, at + signatureLength);
    at += signatureLength;
    let timestamp: ReplayFacts['timestamp'];
    if ((flags & 1) === 1) {
      const sizeBound = b.readUInt32BE(at);
      const genTime = new Date(b.readDoubleBE(at + 4));
      const derLength = b.readUInt32BE(at + 12);
      at += 16;
      timestamp = { sizeBound, genTime, der: b.subarray(at, at + derLength) };
      at += derLength;
    }
    let missingTimestamp: ReplayFacts['missingTimestamp'];
    if ((flags & 2) === 2) {
      missingTimestamp = { sizeBound: b.readUInt32BE(at) };
      at += 4;
    }
    if (at !== b.byteLength || signature.byteLength !== signatureLength || idEntropy.byteLength !== ID_ENTROPY_BYTES) return undefined;
    return {
      revisionLength,
      revisionSha256,
      signingTime,
      idEntropy,
      signature,
      ...(timestamp === undefined ? {} : { timestamp }),
      ...(missingTimestamp === undefined ? {} : { missingTimestamp }),
    };
  } catch {
    return undefined; // read past the end: a short record
  }
}

/**
 * One seal, watched: hands the engine a signer and a time-stamper that pass every call through and remember what
 * came back, so that the facts of the seal can be stored once it is made.
 */
export class SealRecorder {
  readonly idEntropy = randomBytes(ID_ENTROPY_BYTES);
  #signature: Uint8Array | undefined;
  #timestamp: { sizeBound: number; genTime?: Date; der?: Uint8Array } | undefined;

  material(material: SealMaterial): SealMaterial {
    const signer = material.signer;
    const watched: Signer = {
      certificates: signer.certificates,
      algorithm: signer.algorithm,
      signDigest: async (digest, signal) => {
        const signature = await signer.signDigest(digest, signal);
        this.#signature = signature;
        return signature;
      },
    };
    return { ...material, signer: watched };
  }

  timestamper(timestamper: Timestamper): Timestamper {
    return {
      tokenSizeBound: async (signal) => {
        const sizeBound = await timestamper.tokenSizeBound(signal);
        this.#timestamp = { sizeBound };
        return sizeBound;
      },
      timestamp: async (imprint, signal) => {
        const token = await timestamper.timestamp(imprint, signal);
        if (this.#timestamp !== undefined) Object.assign(this.#timestamp, { genTime: token.genTime, der: token.der });
        return token;
      },
      noteTokenSize: (bytes) => timestamper.noteTokenSize(bytes),
    };
  }

  /**
   * The facts of the seal that wrote `revision` at `signingTime` (`timestampMissing`: a best-effort seal made without
   * its token); undefined if a part was not seen.
   */
  facts(revision: Uint8Array, signingTime: Date, timestampMissing = false): ReplayFacts | undefined {
    if (this.#signature === undefined) return undefined;
    const ts = this.#timestamp;
    if (ts !== undefined && timestampMissing && ts.der === undefined) {
      return { ...this.#common(revision, signingTime, this.#signature), missingTimestamp: { sizeBound: ts.sizeBound } };
    }
    if (ts !== undefined && (ts.der === undefined || ts.genTime === undefined)) return undefined;
    return {
      revisionLength: revision.byteLength,
      revisionSha256: createHash('sha256').update(revision).digest(),
      signingTime,
      idEntropy: this.idEntropy,
      signature: this.#signature,
      ...(ts === undefined ? {} : { timestamp: { sizeBound: ts.sizeBound, genTime: ts.genTime!, der: ts.der! } }),
    };
  }

  #common(revision: Uint8Array, signingTime: Date, signature: Uint8Array): ReplayFacts {
    return {
      revisionLength: revision.byteLength,
      revisionSha256: createHash('sha256').update(revision).digest(),
      signingTime,
      idEntropy: this.idEntropy,
      signature,
    };
  }
}

/** A seal material whose signer answers with the stored signature (and never reaches the token). */
export function replayMaterial(material: SealMaterial, facts: ReplayFacts): SealMaterial {
  const signer = material.signer;
  return {
    ...material,
    signer: { certificates: signer.certificates, algorithm: signer.algorithm, signDigest: async () => facts.signature },
  };
}

/** A time-stamper that answers with the stored token and reserves the room reserved the first time. */
export function replayTimestamper(timestamp: NonNullable<ReplayFacts['timestamp']>): Timestamper {
  return {
    tokenSizeBound: async () => timestamp.sizeBound,
    timestamp: async () => ({ der: timestamp.der, genTime: timestamp.genTime }),
    noteTokenSize: () => undefined,
  };
}

/**
 * A time-stamper for replaying a best-effort seal made without its token: the same room, and the same failure (the
 * engine, in best-effort mode, seals B-B into that room again).
 */
export function missingTimestamper(missing: NonNullable<ReplayFacts['missingTimestamp']>): Timestamper {
  return {
    tokenSizeBound: async () => missing.sizeBound,
    timestamp: async () => {
      throw new SealdError('unavailable', 'TSA_UNAVAILABLE', 'replaying a seal that was made without its time-stamp');
    },
    noteTokenSize: () => undefined,
  };
}

/** True when `revision` is the one the facts describe. */
export function isRecordedRevision(revision: Uint8Array, facts: ReplayFacts): boolean {
  return (
    revision.byteLength === facts.revisionLength &&
    createHash('sha256').update(revision).digest().equals(Buffer.from(facts.revisionSha256))
  );
}
