/**
 * Stream decoding for what seald reads itself: object streams and xref streams (§7.4.4 FlateDecode with the PNG
 * predictors of §7.4.4.4), and a signature widget's seal image for a verification report (appearance-image.ts).
 * Page images are never decoded.
 */
import { inflateSync } from 'node:zlib';
import { PdfDict, PdfName, PdfStream, type PdfObject } from './objects.ts';
import { malformed } from './errors.ts';

const MAX_DECODED = 256 * 1024 * 1024;

type Resolve = (o: PdfObject | undefined) => PdfObject | undefined;

/** A stream's filters in order, each with its decode parameters (§7.3.8.2: /Filter and /DecodeParms, each a name or dictionary, or an array of them). */
export function streamFilters(stream: PdfStream, resolve: Resolve): { name: string | undefined; parms: PdfDict | undefined }[] {
  const filter = resolve(stream.dict.get('Filter'));
  const filters = filter === undefined || filter === null ? [] : Array.isArray(filter) ? filter : [filter];
  const parmsRaw = resolve(stream.dict.get('DecodeParms'));
  const parms = Array.isArray(parmsRaw) ? parmsRaw : [parmsRaw];
  return filters.map((f, i) => {
    const name = resolve(f);
    const p = resolve(parms[i] ?? null);
    return { name: name instanceof PdfName ? name.name : undefined, parms: p instanceof PdfDict ? p : undefined };
  });
}

/** The predictor of FlateDecode parameters and the row geometry it works on (§7.4.4.4 Table 8). */
export function predictorOf(parms: PdfDict, resolve: Resolve): { predictor: number; rowLength: number; bpp: number } {
  const num = (key: string, fallback: number): number => {
    const v = resolve(parms.get(key));
    return typeof v === 'number' ? v : fallback;
  };
  const colors = num('Colors', 1);
  const bpc = num('BitsPerComponent', 8);
  return {
    predictor: num('Predictor', 1),
    rowLength: Math.ceil((colors * bpc * num('Columns', 1)) / 8),
    bpp: Math.max(1, Math.ceil((colors * bpc) / 8)),
  };
}

/** Undo PNG predictors (Predictor ≥ 10) over whole rows of `data`. */
export function unpredictPng(data: Uint8Array, { rowLength, bpp }: { rowLength: number; bpp: number }): Uint8Array {
  return unfilterRows(data, rowLength, bpp, Math.floor(data.length / (rowLength + 1)));
}

/** Undo a stream's FlateDecode filters; `maxDecoded` bounds what one inflate may produce (a compression bomb stops there). */
export function decodeStream(stream: PdfStream, resolve: Resolve, maxDecoded = MAX_DECODED): Uint8Array {
  let data = stream.encoded();
  for (const { name, parms } of streamFilters(stream, resolve)) {
    if (name === undefined) throw malformed('stream /Filter is not a name');
    if (name !== 'FlateDecode' && name !== 'Fl') throw malformed(`object or xref stream uses the unsupported filter /${name}`);
    try {
      data = inflateSync(data, { maxOutputLength: maxDecoded });
    } catch (e) {
      throw malformed(`a compressed structure stream does not inflate (${(e as Error).message})`);
    }
    if (parms === undefined) continue;
    const predictor = predictorOf(parms, resolve);
    if (predictor.predictor === 1) continue;
    // TIFF predictor 2 is not used by structure streams.
    if (predictor.predictor < 10) throw malformed(`unsupported predictor ${predictor.predictor} in a structure stream`);
    data = unpredictPng(data, predictor);
  }
  return data;
}

/**
 * Undo PNG row filters (PNG 1.2 §6; the same algorithms as PDF's PNG predictors): each row is a filter-type byte and
 * `rowLength` filtered bytes; `bpp` is the distance to the corresponding byte of the pixel on the left.
 */
export function unfilterRows(data: Uint8Array, rowLength: number, bpp: number, rows: number): Uint8Array {
  const out = new Uint8Array(rows * rowLength);
  let prev = new Uint8Array(rowLength);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowLength + 1)]!;
    const row = out.subarray(r * rowLength, (r + 1) * rowLength);
    const src = data.subarray(r * (rowLength + 1) + 1, (r + 1) * (rowLength + 1));
    for (let i = 0; i < rowLength; i++) {
      const left = i >= bpp ? row[i - bpp]! : 0;
      const up = prev[i]!;
      const upLeft = i >= bpp ? prev[i - bpp]! : 0;
      let v: number;
      switch (type) {
        case 0: v = src[i]!; break;
        case 1: v = src[i]! + left; break;
        case 2: v = src[i]! + up; break;
        case 3: v = src[i]! + ((left + up) >> 1); break;
        case 4: v = src[i]! + paeth(left, up, upLeft); break;
        default: throw malformed(`bad PNG predictor row type ${type}`);
      }
      row[i] = v & 0xff;
    }
    prev = row;
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}
