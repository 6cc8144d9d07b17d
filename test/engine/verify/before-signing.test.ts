/**
 * History written before the first signature (issue 17, found on EU DSS's validation files): every signature covers
 * those bytes as they are, so a writer's odd cross-reference layout there fools no one. MS Word's hybrid files end
 * their original with an empty update whose /XRefStm, in the original's bytes, lists objects the table called free
 * (DSS's TEST2_signed_with_zero_policy_hash.pdf, belgian_pki_multiple_ocsps.pdf and seven more): seald called them
 * INVALID ("the file's structure hides or rewrites revisions"). The same entry written after a signature still is.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { fixture } from '../../fixtures/index.ts';
import { openSealer, type Sealer } from './sealer.ts';
import { rawUpdate } from './writer-kit.ts';

let sealer: Sealer;
beforeAll(async () => {
  sealer = await openSealer();
});
afterAll(async () => {
  await sealer?.close();
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: sealer.anchors });

/**
 * An update that writes an object without listing it (as a hybrid file's table lists compressed objects as free),
 * then an update that lists it where the first one wrote it: an entry pointing outside its own revision's bytes.
 */
function orphanThenListed(bytes: Buffer): { bytes: Buffer; num: number } {
  let num = 0;
  let offset = 0;
  const written = rawUpdate(bytes, {
    leading: (doc, base) => {
      num = doc.size;
      offset = base + 1; // after the update's leading newline
      return `${num} 0 obj\n(written by the original's writer, listed later)\nendobj\n`;
    },
  });
  return { bytes: rawUpdate(written, { relist: () => [[num, { type: 'offset', offset, gen: 0 }]] }), num };
}

describe('an entry that points into earlier bytes', () => {
  it('before the first signature: covered by it as it is, VALID', async () => {
    const { bytes: odd } = orphanThenListed(fs.readFileSync(await fixture('simple')));
    const signed = await sealer.seal(odd, 'org', { page: 1, x: 200, y: 200 });
    const report = await verify(signed);
    expect(report.reasons).toEqual(['every signature is intact and trusted, and nothing not allowed changed after it']);
    expect(report.verdict).toBe('VALID');
  });

  it('after a signature: a rewritten history, INVALID', async () => {
    const signed = await sealer.seal(fs.readFileSync(await fixture('simple')), 'org', { page: 1, x: 200, y: 200 });
    const { bytes: forged, num } = orphanThenListed(signed);
    const report = await verify(forged);
    expect(report.verdict).toBe('INVALID');
    expect(report.reasons.join(' ')).toContain(`the file's structure hides or rewrites revisions: object ${num} is placed at offset`);
  });
});
