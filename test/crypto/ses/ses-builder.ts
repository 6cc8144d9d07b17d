/**
 * A generator of GB/T 38540-2020 (v4) and GM/T 0031-2014 (v1) electronic seals for tests, written from the
 * standards' ASN.1 (quoted in src/crypto/ses/ses-signature.ts) with seald's DER writer: an SESeal made by a seal
 * maker's SM2 key, and an SES_Signature over a document hash by a signer's SM2 key. Signatures are made by
 * test/crypto/sm2-signing.ts or, with `openssl: true`, by `openssl dgst -sm3 -sign` (OpenSSL's own SM2, with the
 * GM/T 0009 default identity given as distid), so each implementation checks the other.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tlv } from '../../../src/crypto/der-encode.ts';
import { id_sm2sign_with_sm3 } from '../../../src/crypto/oids-gm.ts';
import { sm2p256v1 } from '../../../src/crypto/sm2-curve.ts';
import { encodeSm2Signature } from '../../../src/crypto/sm2-encoding.ts';
import { SM2_DEFAULT_ID } from '../../../src/crypto/sm2-signature.ts';
import { sm3 } from '../../../src/crypto/sm3.ts';
import { encodePng } from '../../../src/provision/png-encode.ts';
import { opensslOk } from '../openssl.ts';
import type { Sm2Party } from '../sm2-cms.ts';
import { signSm2 } from '../sm2-signing.ts';

const ascii = (s: string) => new TextEncoder().encode(s);
export const ia5 = (s: string) => tlv(0x16, ascii(s));
export const utf8 = (s: string) => tlv(0x0c, ascii(s));
export const octets = (b: Uint8Array) => tlv(0x04, b);
export const bits = (b: Uint8Array) => tlv(0x03, Uint8Array.of(0), b);
export const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);

export function integer(n: number): Uint8Array {
  const out: number[] = [];
  let v = n;
  do {
    out.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (out[0]! & 0x80) out.unshift(0);
  return tlv(0x02, Uint8Array.from(out));
}

export function objectIdentifier(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out: number[] = [40 * a + b];
  for (const n of rest) {
    const groups: number[] = [];
    let v = n;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Uint8Array.from(out));
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
export const generalizedTime = (d: Date) =>
  tlv(0x18, ascii(`${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`));
export const utcTime = (d: Date) =>
  tlv(0x17, ascii(`${pad(d.getUTCFullYear() % 100)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`));

/** A 64×64 red ring on transparency, as PNG: the seal's picture. */
export function sealPicture(): Uint8Array {
  const size = 64;
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - 31.5, y - 31.5);
      if (r > 24 && r < 30) rgba.set([200, 20, 20, 255], (y * size + x) * 4);
    }
  }
  return encodePng(size, size, rgba);
}

/** An SM2 signature over `message` by `party`, DER SM2Signature. */
export async function sm2Sign(party: Sm2Party, message: Uint8Array, openssl = false): Promise<Uint8Array> {
  if (!openssl) return encodeSm2Signature(signSm2(sm2p256v1, party.privateKey, message, SM2_DEFAULT_ID));
  if (!party.keyFile) throw new Error('openssl signing needs the party key file');
  const file = join(tmpdir(), `seald-ses-${process.pid}-${Math.random().toString(36).slice(2)}.bin`);
  await writeFile(file, message);
  const result = await opensslOk(['dgst', '-sm3', '-sign', party.keyFile, '-sigopt', `distid:${SM2_DEFAULT_ID}`, file]);
  return new Uint8Array(result.stdoutBytes);
}

/** `openssl dgst -sm3 -verify` of a DER SM2 signature with the certificate's key: the independent check. */
export async function opensslVerifies(certificateFile: string, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const base = join(tmpdir(), `seald-ses-${process.pid}-${Math.random().toString(36).slice(2)}`);
  await writeFile(`${base}.msg`, message);
  await writeFile(`${base}.sig`, signature);
  const pub = await opensslOk(['x509', '-in', certificateFile, '-pubkey', '-noout']);
  await writeFile(`${base}.pub`, pub.stdout);
  const { openssl } = await import('../openssl.ts');
  const r = await openssl(['dgst', '-sm3', '-verify', `${base}.pub`, '-sigopt', `distid:${SM2_DEFAULT_ID}`, '-signature', `${base}.sig`, `${base}.msg`]);
  return r.code === 0 && r.stdout.includes('Verified OK');
}

export type Layout = 'v4' | 'v1';

export interface SealSpec {
  layout?: Layout;
  maker: Sm2Party;
  /** Certificates of the signers entitled to the seal (default: none listed). */
  certList?: Uint8Array[];
  /** v4: list the certificates' SM3 digests instead (certListType 2). */
  certDigests?: boolean;
  name?: string;
  esID?: string;
  /** 1 organisation seal, 2 personal seal. */
  type?: number;
  createDate?: Date;
  validStart?: Date;
  validEnd?: Date;
  picture?: { type: string; data: Uint8Array; width: number; height: number };
  openssl?: boolean;
  /** SES_Header.version (default 4 for v4, 1 for v1); ofdrw writes 5 in the v4 layout. */
  headerVersion?: number;
}

export interface BuiltSeal {
  der: Uint8Array;
  /** SES_SealInfo's DER: what a v4 maker signs. */
  sealInfo: Uint8Array;
  /** What the maker signed, and the signature. */
  signed: Uint8Array;
  signature: Uint8Array;
}

export async function buildSeal(spec: SealSpec): Promise<BuiltSeal> {
  const layout = spec.layout ?? 'v4';
  const now = Date.now();
  const time = layout === 'v4' ? generalizedTime : utcTime;
  const picture = spec.picture ?? { type: 'PNG', data: sealPicture(), width: 40, height: 40 };
  const certs = spec.certList ?? [];
  const certList = spec.certDigests
    ? seq(...certs.map((c) => seq(tlv(0x13, ascii('sm3')), octets(sm3(c)))))
    : seq(...certs.map((c) => octets(c)));
  const property = seq(
    integer(spec.type ?? 1),
    utf8(spec.name ?? 'seald 测试专用章'),
    ...(layout === 'v4' ? [integer(spec.certDigests ? 2 : 1)] : []),
    certList,
    time(spec.createDate ?? new Date(now)),
    time(spec.validStart ?? new Date(now - 3600_000)),
    time(spec.validEnd ?? new Date(now + 365 * 86400_000)),
  );
  const sealInfo = seq(
    seq(ia5('ES'), integer(spec.headerVersion ?? (layout === 'v4' ? 4 : 1)), ia5('seald test')),
    ia5(spec.esID ?? '11010800000001'),
    property,
    seq(ia5(picture.type), octets(picture.data), integer(picture.width), integer(picture.height)),
  );
  const cert = octets(spec.maker.certificate);
  const alg = objectIdentifier(id_sm2sign_with_sm3);
  const signed = layout === 'v4' ? sealInfo : seq(sealInfo, cert, alg);
  const signature = await sm2Sign(spec.maker, signed, spec.openssl);
  const der = layout === 'v4' ? seq(sealInfo, cert, alg, bits(signature)) : seq(sealInfo, seq(cert, alg, bits(signature)));
  return { der, sealInfo, signed, signature };
}

export interface SignatureSpec {
  layout?: Layout;
  seal: Uint8Array;
  signer: Sm2Party;
  dataHash: Uint8Array;
  timeInfo?: Date;
  propertyInfo?: string;
  /** v4: an RFC 3161 token over the signature value, as [0] EXPLICIT BIT STRING. */
  timeStamp?: (signature: Uint8Array) => Promise<Uint8Array>;
  openssl?: boolean;
}

export interface BuiltSignature {
  der: Uint8Array;
  tbsSign: Uint8Array;
  signature: Uint8Array;
}

export async function buildSesSignature(spec: SignatureSpec): Promise<BuiltSignature> {
  const layout = spec.layout ?? 'v4';
  const at = spec.timeInfo ?? new Date();
  const cert = octets(spec.signer.certificate);
  const alg = objectIdentifier(id_sm2sign_with_sm3);
  const property = ia5(spec.propertyInfo ?? '/ByteRange');
  const tbsSign = layout === 'v4'
    ? seq(integer(4), spec.seal, generalizedTime(at), bits(spec.dataHash), property)
    : seq(integer(1), spec.seal, bits(utcTime(at).subarray(2)), bits(spec.dataHash), property, cert, alg);
  const signature = await sm2Sign(spec.signer, tbsSign, spec.openssl);
  if (layout === 'v1') return { der: seq(tbsSign, bits(signature)), tbsSign, signature };
  const stamp = spec.timeStamp ? [tlv(0xa0, bits(await spec.timeStamp(signature)))] : [];
  return { der: seq(tbsSign, cert, alg, bits(signature), ...stamp), tbsSign, signature };
}

export async function readBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path));
}
