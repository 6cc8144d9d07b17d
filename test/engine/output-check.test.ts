/**
 * The output check on real seals (software signer with an openssl-made certificate, so the check is not compared
 * with itself): a good output passes; each way an output can be wrong — a corrupted CMS signature, a digest that
 * is not the signed one, a broken startxref, a ByteRange that does not match — is refused with OUTPUT_CHECK_FAILED.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSealOutput } from '../../src/engine/output-check.ts';
import { sealDocument, type SealMaterial, type SealOutcome } from '../../src/engine/seal.ts';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { bufferSource, type ByteSource } from '../../src/pdf/source.ts';
import { encodePng } from '../../src/provision/seal-image.ts';
import { createSoftwareFixture, type SoftwareFixture } from '../crypto/software-signer.ts';
import { fixture } from '../fixtures/index.ts';

describe('checkSealOutput', () => {
  let software: SoftwareFixture;
  let source: ByteSource;
  let outcome: SealOutcome;
  let certificate: Uint8Array;

  beforeAll(async () => {
    software = await createSoftwareFixture('RSA-2048');
    certificate = software.signer.certificates[0]!;
    const png = encodePng(2, 2, new Uint8Array(16).fill(200));
    const seal: SealMaterial = { id: 'org', signer: software.signer, image: prepareSealImage(png), defaultWidth: 100, defaultHeight: 100 };
    for (const name of ['simple', 'xref-stream'] as const) {
      const bytes = await readFile(await fixture(name));
      const s = bufferSource(bytes);
      const o = await sealDocument(s, seal, { page: 1, x: 200, y: 200 });
      // Both xref flavours pass.
      checkSealOutput(s, o, certificate);
      source = s;
      outcome = o;
    }
  });

  afterAll(() => software && import('node:fs/promises').then((fs) => fs.rm(software.dir, { recursive: true, force: true })));

  function corrupted(change: (appended: Uint8Array) => void, other: Partial<SealOutcome> = {}): SealOutcome {
    const appended = new Uint8Array(outcome.appended);
    change(appended);
    return { ...outcome, ...other, appended };
  }

  function expectRefused(o: SealOutcome, detail: RegExp): void {
    expect(() => checkSealOutput(source, o, certificate)).toThrow(
      expect.objectContaining({ category: 'internal', code: 'OUTPUT_CHECK_FAILED', message: expect.stringMatching(detail) }),
    );
  }

  it('refuses a CMS whose signature was changed', () => {
    const text = Buffer.from(outcome.appended).toString('latin1');
    const gapStart = outcome.byteRange[1] - source.size;
    // The RSA signature value is the last non-zero stretch of the hex; flip a digit well inside the DER.
    const hexEnd = text.indexOf('>', gapStart);
    const lastNonZero = text.slice(gapStart + 1, hexEnd).replace(/0+$/, '').length + gapStart;
    expectRefused(
      corrupted((a) => {
        a[lastNonZero - 10] = a[lastNonZero - 10] === 0x31 ? 0x32 : 0x31;
      }),
      /signature does not verify/,
    );
  });

  it('refuses when the digest the engine computed is not the one signed', () => {
    expectRefused({ ...outcome, documentDigest: new Uint8Array(32).fill(9) }, /message-digest/);
  });

  it('refuses a broken startxref', () => {
    const text = Buffer.from(outcome.appended).toString('latin1');
    const at = text.lastIndexOf('startxref') + 'startxref'.length + 1;
    expectRefused(
      corrupted((a) => {
        a[at] = 0x39;
      }),
      /appended section does not parse|startxref/,
    );
  });

  it('refuses a ByteRange that is not the written one or does not cover the file', () => {
    const [a, b, c, d] = outcome.byteRange;
    expectRefused({ ...outcome, byteRange: [a, b, c, d - 1] }, /does not cover/);
    expectRefused({ ...outcome, byteRange: [a, b + 1, c, d] }, /gap|written/);
  });
});
