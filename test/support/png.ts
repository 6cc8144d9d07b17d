/**
 * A small PNG decoder for tests: checks the signature and every chunk CRC, inflates the IDAT data and undoes the five
 * scanline filters (PNG spec §9). Non-interlaced 8-bit greyscale, grey+alpha, RGB and RGBA only — what seald draws
 * and what tests need; anything else is rejected rather than guessed at.
 */
import { crc32, inflateSync } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  /** Straight RGBA, 4 bytes per pixel, rows top to bottom. */
  rgba: Uint8Array;
  /** Chunk types in file order, e.g. ['IHDR', 'IDAT', 'IEND']. */
  chunks: string[];
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export function decodePng(bytes: Uint8Array): DecodedPng {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || SIGNATURE.some((b, i) => buf[i] !== b)) throw new Error('not a PNG: bad signature');

  let pos = 8;
  let header: { width: number; height: number; depth: number; colorType: number; interlace: number } | undefined;
  const idat: Buffer[] = [];
  const chunks: string[] = [];
  while (pos < buf.length) {
    if (pos + 12 > buf.length) throw new Error(`PNG chunk header truncated at ${pos}`);
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const end = pos + 8 + length;
    if (end + 4 > buf.length) throw new Error(`PNG chunk ${type} truncated`);
    const crc = buf.readUInt32BE(end);
    if (crc32(buf.subarray(pos + 4, end)) !== crc) throw new Error(`PNG chunk ${type} has a bad CRC`);
    const data = buf.subarray(pos + 8, end);
    chunks.push(type);
    if (type === 'IHDR') {
      header = {
        width: data.readUInt32BE(0),
        height: data.readUInt32BE(4),
        depth: data[8]!,
        colorType: data[9]!,
        interlace: data[12]!,
      };
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    pos = end + 4;
    if (type === 'IEND') break;
  }
  if (!header) throw new Error('PNG without IHDR');
  if (chunks[0] !== 'IHDR' || chunks.at(-1) !== 'IEND') throw new Error('PNG must start with IHDR and end with IEND');
  const channels = CHANNELS[header.colorType];
  if (header.depth !== 8 || channels === undefined || header.interlace !== 0) {
    throw new Error(
      `unsupported PNG: depth ${header.depth}, colour type ${header.colorType}, interlace ${header.interlace}`,
    );
  }

  const { width, height } = header;
  const stride = width * channels;
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length !== (stride + 1) * height)
    throw new Error(`PNG image data is ${raw.length} bytes, expected ${(stride + 1) * height}`);

  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prior = row - stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? pixels[row + i - channels]! : 0; // left
      const b = y > 0 ? pixels[prior + i]! : 0; // up
      const c = y > 0 && i >= channels ? pixels[prior + i - channels]! : 0; // upper left
      const x = raw[src + i]!;
      let value: number;
      switch (filter) {
        case 0: value = x; break; // prettier-ignore
        case 1: value = x + a; break; // prettier-ignore
        case 2: value = x + b; break; // prettier-ignore
        case 3: value = x + ((a + b) >> 1); break; // prettier-ignore
        case 4: value = x + paeth(a, b, c); break; // prettier-ignore
        default:
          throw new Error(`PNG row ${y} has unknown filter type ${filter}`);
      }
      pixels[row + i] = value & 0xff;
    }
  }

  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const [r, g, b, alpha] =
      channels === 4 ? [pixels[s]!, pixels[s + 1]!, pixels[s + 2]!, pixels[s + 3]!]
      : channels === 3 ? [pixels[s]!, pixels[s + 1]!, pixels[s + 2]!, 255]
      : channels === 2 ? [pixels[s]!, pixels[s]!, pixels[s]!, pixels[s + 1]!]
      : [pixels[s]!, pixels[s]!, pixels[s]!, 255]; // prettier-ignore
    rgba.set([r, g, b, alpha], p * 4);
  }
  return { width, height, rgba, chunks };
}

/** The RGBA of pixel (x, y), y from the top. */
export function pixelAt(png: DecodedPng, x: number, y: number): [number, number, number, number] {
  const i = (y * png.width + x) * 4;
  return [png.rgba[i]!, png.rgba[i + 1]!, png.rgba[i + 2]!, png.rgba[i + 3]!];
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}
