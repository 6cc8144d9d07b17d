/**
 * Stream decoding for what seald reads itself: object streams and xref streams (§7.4.4 FlateDecode with the PNG
 * predictors of §7.4.4.4). Content streams and images are never decoded.
 */
import { inflateSync } from 'node:zlib';
import { PdfDict, PdfName, PdfStream, type PdfObject } from './objects.ts';
import { malformed } from './errors.ts';

const MAX_DECODED = 256 * 1024 * 1024;

export function decodeStream(stream: PdfStream, resolve: (o: PdfObject | undefined) => PdfObject | undefined): Uint8Array {
  const filter = resolve(stream.dict.get('Filter'));
  const filters = filter === undefined || filter === null ? [] : Array.isArray(filter) ? filter : [filter];
  const parmsRaw = resolve(stream.dict.get('DecodeParms'));
  const parms = Array.isArray(parmsRaw) ? parmsRaw : [parmsRaw];
  let data = stream.encoded();
  filters.forEach((f, i) => {
    const fname = resolve(f);
    if (!(fname instanceof PdfName)) throw malformed('stream /Filter is not a name');
    if (fname.name !== 'FlateDecode' && fname.name !== 'Fl') {
      throw malformed(`object or xref stream uses the unsupported filter /${fname.name}`);
    }
    try {
      data = inflateSync(data, { maxOutputLength: MAX_DECODED });
    } catch (e) {
      throw malformed(`a compressed structure stream does not inflate (${(e as Error).message})`);
    }
    const p = resolve(parms[i] ?? null);
    if (p instanceof PdfDict) data = unpredict(data, p, resolve);
  });
  return data;
}

/** Undo a PNG predictor (Predictor ≥ 10), §7.4.4.4 Table 9. TIFF predictor 2 is not used by structure streams. */
function unpredict(data: Uint8Array, parms: PdfDict, resolve: (o: PdfObject | undefined) => PdfObject | undefined): Uint8Array {
  const predictor = (resolve(parms.get('Predictor')) as number | undefined) ?? 1;
  if (predictor === 1) return data;
  if (predictor < 10) throw malformed(`unsupported predictor ${predictor} in a structure stream`);
  const colors = (resolve(parms.get('Colors')) as number | undefined) ?? 1;
  const bpc = (resolve(parms.get('BitsPerComponent')) as number | undefined) ?? 8;
  const columns = (resolve(parms.get('Columns')) as number | undefined) ?? 1;
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLength = Math.ceil((colors * bpc * columns) / 8);
  return unfilterRows(data, rowLength, bpp, Math.floor(data.length / (rowLength + 1)));
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
