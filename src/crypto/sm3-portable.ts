/**
 * SM3 in TypeScript, for a Node whose OpenSSL offers no `sm3` (distributions may build OpenSSL without it). Written from
 * GB/T 32905-2016 (GM/T 0004-2012); sm3.ts uses Node's crypto when it can and this otherwise.
 */

// §4.1 initial value IV
const IV = Uint32Array.of(0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e);
// §4.2 constants T_j
const T_LOW = 0x79cc4519; // 0 ≤ j ≤ 15
const T_HIGH = 0x7a879d8a; // 16 ≤ j ≤ 63

function rotl(x: number, n: number): number {
  n &= 31;
  return n === 0 ? x >>> 0 : ((x << n) | (x >>> (32 - n))) >>> 0;
}
// §4.4 permutation functions
function P0(x: number): number {
  return (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
}
function P1(x: number): number {
  return (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;
}

const BLOCK_BYTES = 64;

export class Sm3Portable {
  private readonly V = IV.slice();
  private readonly block = new Uint8Array(BLOCK_BYTES);
  private blockLength = 0;
  private totalBytes = 0;
  private finished = false;
  // §5.3.2 message expansion: W_0..W_67 and W'_0..W'_63
  private readonly W = new Uint32Array(68);
  private readonly W1 = new Uint32Array(64);

  update(data: Uint8Array): this {
    if (this.finished) throw new Error('SM3: update after digest');
    this.totalBytes += data.length;
    this.absorb(data);
    return this;
  }

  digest(): Uint8Array {
    if (this.finished) throw new Error('SM3: digest called twice');
    this.finished = true;
    // §5.2 padding: a 1 bit, k zero bits to 448 mod 512, then the message length l in bits as 64 bits big-endian.
    const padLength = this.blockLength < 56 ? 56 - this.blockLength : 120 - this.blockLength;
    const tail = new Uint8Array(padLength + 8);
    tail[0] = 0x80;
    new DataView(tail.buffer).setBigUint64(padLength, BigInt(this.totalBytes) * 8n);
    this.absorb(tail);
    const out = new Uint8Array(32);
    const view = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) view.setUint32(4 * i, this.V[i]!);
    return out;
  }

  private absorb(data: Uint8Array): void {
    let at = 0;
    if (this.blockLength > 0) {
      const take = Math.min(BLOCK_BYTES - this.blockLength, data.length);
      this.block.set(data.subarray(0, take), this.blockLength);
      this.blockLength += take;
      at = take;
      if (this.blockLength < BLOCK_BYTES) return;
      this.compress(this.block, 0);
      this.blockLength = 0;
    }
    for (; at + BLOCK_BYTES <= data.length; at += BLOCK_BYTES) this.compress(data, at);
    this.block.set(data.subarray(at), 0);
    this.blockLength = data.length - at;
  }

  /** §5.3 iterative compression: V(i+1) = CF(V(i), B(i)). */
  private compress(bytes: Uint8Array, offset: number): void {
    const { W, W1, V } = this;
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset, BLOCK_BYTES);
    for (let j = 0; j < 16; j++) W[j] = view.getUint32(4 * j);
    for (let j = 16; j < 68; j++) {
      W[j] = (P1(W[j - 16]! ^ W[j - 9]! ^ rotl(W[j - 3]!, 15)) ^ rotl(W[j - 13]!, 7) ^ W[j - 6]!) >>> 0;
    }
    for (let j = 0; j < 64; j++) W1[j] = (W[j]! ^ W[j + 4]!) >>> 0;

    // §5.3.3 compression function CF
    let A = V[0]!, B = V[1]!, C = V[2]!, D = V[3]!, E = V[4]!, F = V[5]!, G = V[6]!, H = V[7]!;
    for (let j = 0; j < 64; j++) {
      const A12 = rotl(A, 12);
      const SS1 = rotl((A12 + E + rotl(j < 16 ? T_LOW : T_HIGH, j)) >>> 0, 7);
      const SS2 = (SS1 ^ A12) >>> 0;
      // §4.3 boolean functions FF_j and GG_j
      const FF = j < 16 ? A ^ B ^ C : (A & B) | (A & C) | (B & C);
      const GG = j < 16 ? E ^ F ^ G : (E & F) | (~E & G);
      const TT1 = (FF + D + SS2 + W1[j]!) >>> 0;
      const TT2 = (GG + H + SS1 + W[j]!) >>> 0;
      D = C;
      C = rotl(B, 9);
      B = A;
      A = TT1;
      H = G;
      G = rotl(F, 19);
      F = E;
      E = P0(TT2);
    }
    const out = [A, B, C, D, E, F, G, H];
    for (let i = 0; i < 8; i++) V[i] = (V[i]! ^ out[i]!) >>> 0;
  }
}
