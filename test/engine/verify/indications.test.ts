/**
 * ETSI EN 319 102-1 indications (issue 17), mapped from seald's own verdicts: the main indication always matches
 * the verdict, the sub-indication names the first cause, as EU DSS reports them.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfRef } from '../../../src/pdf/objects.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendUpdate, firstContents, stream } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';

let sealer: Sealer;
let sealed: Buffer;

beforeAll(async () => {
  sealer = await openSealer();
  sealed = await sealer.seal(fs.readFileSync(await fixture('simple')), 'org', { page: 1, x: 200, y: 200 });
});
afterAll(async () => {
  await sealer?.close();
});

const verify = (bytes: Uint8Array, anchors = sealer.anchors): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: anchors });
const etsi = (r: { indication?: string; subIndication?: string | null }) => [r.indication, r.subIndication];

describe('ETSI EN 319 102-1 indications', () => {
  it('VALID: TOTAL-PASSED, no sub-indication', async () => {
    const report = await verify(sealed);
    expect(etsi(report)).toEqual(['TOTAL-PASSED', null]);
    expect(etsi(report.signatures[0]!)).toEqual(['TOTAL-PASSED', null]);
  });

  it('no trust anchor: INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND', async () => {
    const report = await verify(sealed, []);
    expect(etsi(report.signatures[0]!)).toEqual(['INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND']);
    expect(etsi(report)).toEqual(['INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND']);
  });

  it('a signed byte changed: TOTAL-FAILED / HASH_FAILURE', async () => {
    const flipped = Buffer.from(sealed);
    const at = flipped.indexOf('/Creator <') + 14; // a hex digit of the document's /Creator: still a PDF, digest wrong
    flipped[at] = flipped[at]! ^ 0x01;
    const report = await verify(flipped);
    expect(report.signatures[0]!.integrity).toBe('DIGEST_MISMATCH');
    expect(etsi(report)).toEqual(['TOTAL-FAILED', 'HASH_FAILURE']);
  });

  it('page content changed after signing: TOTAL-FAILED / FORMAT_FAILURE (DSS: a modification no DocMDP allows)', async () => {
    const forged = appendUpdate(sealed, (doc, w) => w.update(new PdfRef(firstContents(doc), 0), stream('BT ET')));
    expect(etsi(await verify(forged))).toEqual(['TOTAL-FAILED', 'FORMAT_FAILURE']);
  });

  it('no signature at all: INDETERMINATE / SIGNED_DATA_NOT_FOUND; not a PDF: TOTAL-FAILED / FORMAT_FAILURE', async () => {
    expect(etsi(await verify(fs.readFileSync(await fixture('simple'))))).toEqual(['INDETERMINATE', 'SIGNED_DATA_NOT_FOUND']);
    expect(etsi(await verify(Buffer.from('hello')))).toEqual(['TOTAL-FAILED', 'FORMAT_FAILURE']);
  });
});
