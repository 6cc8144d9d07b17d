/**
 * The decoded bytes of content streams (pages, Form XObjects) and embedded CMaps, for text location. src/pdf/filters.ts
 * decodes structure streams strictly; content is decoded the way viewers do: FlateDecode (with predictors),
 * ASCIIHexDecode, ASCII85Decode and RunLengthDecode, a truncated Flate stream yields what it inflates to, and a stream
 * that cannot be decoded at all is reported as skipped (with why) instead of failing the whole search.
 */
import { inflateSync, constants as zlib } from 'node:zlib';
import { PdfDict, PdfStream, type PdfObject } from '../objects.ts';
import { predictorOf, streamFilters, unpredictPng } from '../filters.ts';
import { LimitExceeded } from '../limits.ts';

export type Resolve = (o: PdfObject | undefined) => PdfObject | undefined;

/** The stream could not be decoded; `reason` says why (for the skipped list). */
export class UndecodableStream extends Error {}

export function decodeContentStream(stream: PdfStream, resolve: Resolve, maxBytes: number): Uint8Array {
  let data = stream.encoded();
  for (const { name, parms } of streamFilters(stream, resolve)) {
    switch (name) {
      case 'FlateDecode':
      case 'Fl':
        data = inflate(data, maxBytes);
        break;
      case 'ASCIIHexDecode':
      case 'AHx':
        data = asciiHex(data);
        break;
      case 'ASCII85Decode':
      case 'A85':
        data = ascii85(data);
        break;
      case 'RunLengthDecode':
      case 'RL':
        data = runLength(data, maxBytes);
        break;
      default:
        throw new UndecodableStream(`content stream filter /${name ?? '?'} is not supported for text search`);
    }
    if (data.length > maxBytes) throw new LimitExceeded(`decoded content larger than ${maxBytes} bytes`);
    if (parms !== undefined && (name === 'FlateDecode' || name === 'Fl')) data = unpredict(data, parms, resolve);
  }
  if (data.length > maxBytes) throw new LimitExceeded(`content larger than ${maxBytes} bytes`);
  return data;
}

function inflate(data: Uint8Array, maxBytes: number): Uint8Array {
  try {
    // Z_SYNC_FLUSH: a truncated stream gives what it holds instead of an error (as viewers show a cut-off page).
    return inflateSync(data, { maxOutputLength: maxBytes + 1, finishFlush: zlib.Z_SYNC_FLUSH });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new LimitExceeded(`decoded content larger than ${maxBytes} bytes`);
    throw new UndecodableStream(`a Flate content stream does not inflate (${(e as Error).message})`);
  }
}

/** PNG predictors only; a TIFF predictor (2) is left as is, as viewers that ignore it would show it. */
function unpredict(data: Uint8Array, parms: PdfDict, resolve: Resolve): Uint8Array {
  const predictor = predictorOf(parms, resolve);
  if (predictor.predictor < 10) return data;
  try {
    return unpredictPng(data, predictor);
  } catch (e) {
    throw new UndecodableStream(`a content stream's predictor data is broken (${(e as Error).message})`);
  }
}

/** §7.4.2 */
function asciiHex(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let high = -1;
  for (const c of data) {
    if (c === 0x3e) break;
    const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (v < 0) continue;
    if (high < 0) high = v;
    else {
      out.push(high * 16 + v);
      high = -1;
    }
  }
  if (high >= 0) out.push(high * 16);
  return Uint8Array.from(out);
}

/** §7.4.3 */
function ascii85(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let group: number[] = [];
  const flush = (n: number) => {
    let v = 0;
    for (let i = 0; i < 5; i++) v = v * 85 + (group[i] ?? 84);
    for (let i = 0; i < n - 1; i++) out.push((v >>> (24 - 8 * i)) & 0xff);
    group = [];
  };
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === 0x7e) break; // ~>
    if (c === 0x7a && group.length === 0) {
      out.push(0, 0, 0, 0);
      continue;
    }
    if (c < 0x21 || c > 0x75) continue;
    group.push(c - 0x21);
    if (group.length === 5) flush(5);
  }
  if (group.length > 1) flush(group.length);
  return Uint8Array.from(out);
}

/** §7.4.5 */
function runLength(data: Uint8Array, maxBytes: number): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < data.length) {
    const len = data[i++]!;
    if (len === 128) break;
    if (len < 128) {
      for (let k = 0; k <= len && i < data.length; k++) out.push(data[i++]!);
    } else {
      const b = data[i++] ?? 0;
      for (let k = 0; k < 257 - len; k++) out.push(b);
    }
    if (out.length > maxBytes) throw new LimitExceeded(`decoded content larger than ${maxBytes} bytes`);
  }
  return Uint8Array.from(out);
}
