/**
 * GB/T 38540-2020 and GM/T 0031-2014 electronic seals in PDFs, verified end to end (issue 19): a revision with a
 * signature placeholder built by seald's own PDF writer (attack-kit.ts), the SES_Signature over the SM3 of its
 * /ByteRange built by test/crypto/ses/ses-builder.ts with SM2 keys from openssl, in the two carriers met in practice —
 * `/Filter /Foxit.SM /SubFilter /fxit.sm.detached`, and in place of a CMS under `adbe.pkcs7.detached` — and tampered
 * (document, seal, seal signature, certificate, expired seal) to show each failure and its reason.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignatureReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import { readTlv } from '../../../src/crypto/der.ts';
import { parseSesSignature } from '../../../src/crypto/ses/ses-signature.ts';
import { makeSm2Tsa } from '../../crypto/ses/sm2-tsa.ts';
import { makeSm2Pki, type Sm2Pki } from '../../crypto/sm2-cms.ts';
import { fixture } from '../../fixtures/index.ts';
import { CARRIERS, gmSealed } from './gm-seal-kit.ts';

describe('GB/T 38540 / GM/T 0031 electronic seals in a PDF', () => {
  let pki: Sm2Pki;
  let base: Buffer;

  beforeAll(async () => {
    pki = await makeSm2Pki();
    base = fs.readFileSync(await fixture('simple'));
  });
  afterAll(() => pki?.close());

  async function check(pdf: Uint8Array, anchors: Uint8Array[] = [pki.ca]): Promise<SignatureReport> {
    const report = await verifyDocument(bufferSource(pdf), { trustAnchors: anchors });
    expect(report.signatures).toHaveLength(1);
    return report.signatures[0]!;
  }

  for (const layout of ['v4', 'v1'] as const) {
    for (const carrier of Object.keys(CARRIERS)) {
      it(`${layout} under ${carrier}: VALID, with the seal's name, code, type, validity and image`, async () => {
        const sig = await check(await gmSealed(base, pki, { layout, carrier }));
        expect(sig.reasons).toEqual(['validity checked at the signing time the seal signature claims (timeInfo), which no timestamp proves']);
        expect(sig.integrity).toBe('INTACT');
        expect(sig.trust).toBe('TRUSTED');
        expect(sig.verdict).toBe('VALID');
        expect(sig.digestAlgorithm).toBe('SM3');
        expect(sig.signatureAlgorithm).toBe('SM2-with-SM3');
        expect(sig.algorithmFamily).toBe('GM');
        expect(sig.signer?.subject).toContain('SM2 signer');
        expect(sig.seal).toMatchObject({
          format: layout === 'v4' ? 'GB/T 38540-2020' : 'GM/T 0031-2014',
          name: '合同专用章',
          code: '3201000012345',
          type: 1,
          validity: 'VALID',
          makerSignature: 'VALID',
          makerTrust: 'TRUSTED',
          picture: { type: 'PNG', width: 40, height: 40 },
        });
        expect(sig.seal!.maker?.subject).toContain('SM2 other');
        // property.type 1 (a unit's seal) is reported as the kind `official` (issue 22: sealKind in the report).
        expect(sig.sealKind).toBe('official');
        expect(Buffer.from(sig.seal!.picture.data, 'base64').subarray(1, 4).toString()).toBe('PNG');
      });
    }
  }

  it('a changed document byte is DIGEST_MISMATCH (INVALID)', async () => {
    const pdf = await gmSealed(base, pki);
    pdf.write('/MediaBoy', pdf.indexOf('/MediaBox'), 'latin1');
    const sig = await check(pdf);
    expect(sig.integrity).toBe('DIGEST_MISMATCH');
    expect(sig.verdict).toBe('INVALID');
    expect(sig.reasons.join(' ')).toContain('dataHash');
  });

  it('a changed seal (its name) is BAD_SIGNATURE: the signer signed the seal too, and the maker signed it', async () => {
    const sig = await check(await gmSealed(base, pki, { edit: (der) => der.write('财务', der.indexOf(Buffer.from('合同专用章')), 'utf8') }));
    expect(sig.integrity).toBe('BAD_SIGNATURE');
    expect(sig.verdict).toBe('INVALID');
    expect(sig.seal?.name).toBe('财务专用章');
    expect(sig.seal?.makerSignature).toBe('INVALID');
  });

  it("a seal whose maker's signature is wrong is BAD_SIGNATURE naming the seal, even when the signer signed it as is", async () => {
    // The maker "signs" with another key: the signer's signature over TBS_Sign still verifies.
    const sig = await check(await gmSealed(base, pki, { seal: { maker: { ...pki.other, privateKey: pki.signer.privateKey } } }));
    expect(sig.integrity).toBe('BAD_SIGNATURE');
    expect(sig.reasons.join(' ')).toContain("seal's own signature by its maker does not verify");
    expect(sig.seal?.makerSignature).toBe('INVALID');
  });

  it("a signature value changed is BAD_SIGNATURE naming the signer's signature", async () => {
    const sig = await check(await gmSealed(base, pki, {
      edit: (der) => {
        der[der.length - 5]! ^= 0x01; // inside the signature BIT STRING, the last element of a v4 SES_Signature
      },
    }));
    expect(sig.integrity).toBe('BAD_SIGNATURE');
    expect(sig.reasons.join(' ')).toContain("signer's signature over TBS_Sign");
  });

  it('a signer the seal does not list is SIGNER_CERT_MISMATCH', async () => {
    const sig = await check(await gmSealed(base, pki, { seal: { certList: [pki.other.certificate] } }));
    expect(sig.integrity).toBe('SIGNER_CERT_MISMATCH');
    expect(sig.verdict).toBe('INVALID');
  });

  it('certificates that chain to no anchor, or to an impostor CA of the same name, are UNTRUSTED', async () => {
    const pdf = await gmSealed(base, pki);
    for (const anchors of [[], [pki.otherCa]]) {
      const sig = await check(pdf, anchors);
      expect(sig.integrity).toBe('INTACT');
      expect(sig.trust).toBe('UNTRUSTED');
      expect(sig.seal?.makerTrust).toBe('UNTRUSTED');
      expect(sig.verdict).toBe('INDETERMINATE');
    }
  });

  it('a seal used after its validity period is EXPIRED, before it NOT_YET_VALID (INDETERMINATE, with the dates)', async () => {
    const now = Date.now();
    const expired = await check(await gmSealed(base, pki, { seal: { validStart: new Date(now - 3 * 86400_000), validEnd: new Date(now - 86400_000) } }));
    expect(expired.integrity).toBe('INTACT');
    expect(expired.seal?.validity).toBe('EXPIRED');
    expect(expired.trust).toBe('EXPIRED');
    expect(expired.verdict).toBe('INDETERMINATE');
    expect(expired.reasons.join(' ')).toMatch(/seal "合同专用章" \(3201000012345\) was expired when it was used: valid .* to .*, signed at/);
    const early = await check(await gmSealed(base, pki, { seal: { validStart: new Date(now + 86400_000), validEnd: new Date(now + 3 * 86400_000) } }));
    expect(early.seal?.validity).toBe('NOT_YET_VALID');
    expect(early.trust).toBe('NOT_YET_VALID');
  });

  it('a signing time outside the signer certificate is EXPIRED by the certificate', async () => {
    const sig = await check(await gmSealed(base, pki, { timeInfo: new Date(Date.now() + 40 * 86400_000), seal: { validEnd: new Date(Date.now() + 400 * 86400_000) } }));
    expect(sig.integrity).toBe('INTACT');
    expect(sig.trust).toBe('EXPIRED');
  });

  it('an SES_Signature that is recognised but cannot be read is UNSUPPORTED, never BAD_CMS', async () => {
    const sig = await check(await gmSealed(base, pki, {
      edit: (der) => {
        // The OID of the signature algorithm after TBS_Sign and cert becomes a NULL: the structure no longer parses.
        const at = der.lastIndexOf(Buffer.from('06082a811ccf55018375', 'hex'));
        der[at] = 0x05;
      },
    }));
    expect(sig.integrity).toBe('UNSUPPORTED');
    expect(sig.reasons.join(' ')).toContain('SES_Signature');
    expect(sig.verdict).toBe('INDETERMINATE');
  });

  it('a time-stamp over the signature value (SM3 imprint, SM2 TSA) proves the signing time; one for other data FAILS', async () => {
    const tsa = await makeSm2Tsa(pki);
    try {
      const genTime = new Date(Math.floor(Date.now() / 1000) * 1000);
      const stamped = await check(await gmSealed(base, pki, { timeStamp: async (signature) => tsa.stamp(signature, { genTime }) }));
      expect(stamped.integrity).toBe('INTACT');
      expect(stamped.signatureTimestamp).toBe('VERIFIED');
      expect(stamped.timestampTime).toBe(genTime.toISOString());
      expect(stamped.verdict).toBe('VALID');
      expect(stamped.reasons).toEqual([]);
      const wrong = await check(await gmSealed(base, pki, { timeStamp: async () => tsa.stamp(new TextEncoder().encode('another signature')) }));
      expect(wrong.signatureTimestamp).toBe('FAILED');
      expect(wrong.verdict).toBe('INDETERMINATE');
      expect(wrong.reasons.join(' ')).toContain("the seal's time-stamp does not verify");
    } finally {
      await tsa.close();
    }
  });

  it('hostile seals: 60 random single-byte changes of an SES_Signature, and a non-zero unused-bits count, end in a report (never an exception, never VALID)', async () => {
    const pdf = await gmSealed(base, pki);
    const { hex } = ((): { hex: string } => {
      const m = /\/Contents\s*<([0-9a-f]+)>/i.exec(pdf.toString('latin1', pdf.lastIndexOf('/ByteRange')))!;
      return { hex: m[1]! };
    })();
    const start = pdf.indexOf(hex.slice(0, 64));
    const derLength = parseSesSignatureLength(Buffer.from(hex, 'hex'));
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const verdicts = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const copy = Buffer.from(pdf);
      const at = Math.floor(random() * derLength);
      const byte = Math.floor(random() * 256);
      copy.write(byte.toString(16).padStart(2, '0'), start + at * 2, 'latin1');
      if (copy.equals(pdf)) continue;
      const sig = await check(copy);
      expect(sig.verdict).not.toBe('VALID');
      verdicts.set(sig.integrity, (verdicts.get(sig.integrity) ?? 0) + 1);
    }
    expect(verdicts.get('BAD_CMS')).toBeUndefined();
    // The signature BIT STRING's unused-bits octet is outside every signed byte: it must still not pass.
    const der = Buffer.from(hex.slice(0, derLength * 2), 'hex');
    // v4 without a time-stamp: the signature BIT STRING (03 LL 00 SM2Signature) ends the structure
    const unusedBits = derLength - parseSesSignature(der).signature.length - 1;
    expect(der[unusedBits]).toBe(0);
    const copy = Buffer.from(pdf);
    copy.write('01', start + unusedBits * 2, 'latin1');
    const sig = await check(copy);
    expect(sig.integrity).toBe('UNSUPPORTED');
    expect(sig.reasons.join(' ')).toContain('unused bits');
  });
});

/** The length of the DER element at the start of `bytes` (the /Contents is zero-padded after it). */
function parseSesSignatureLength(bytes: Buffer): number {
  return readTlv(bytes).bytes.length;
}
