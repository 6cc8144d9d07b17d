/**
 * The documents the report is shown on, sealed by seald itself (test/engine/verify/sealer.ts: the embedded SoftHSM
 * token and dev CA): two valid seals (甲方 the organisation seal, then 乙方 the personal seal); the same with a page
 * content forged after the first seal; a cross-page seal (骑缝章) over the three pages of the CJK contract.
 */
import * as fs from 'node:fs';
import { fixture } from '../fixtures/index.ts';
import { appendUpdate, stream } from '../engine/verify/attack-kit.ts';
import type { Sealer } from '../engine/verify/sealer.ts';

export interface ReportDocuments {
  twoSeals: Buffer;
  forged: Buffer;
  crossPage: Buffer;
}

export async function reportDocuments(sealer: Sealer): Promise<ReportDocuments> {
  const contract = fs.readFileSync(await fixture('cjk-contract'));
  const first = await sealer.seal(contract, 'org', { page: 3, x: 180, y: 200 }, '甲方');
  const twoSeals = await sealer.seal(first, 'personal', { page: 3, x: 420, y: 200 }, '乙方');
  // After 甲方 sealed: page 1's content replaced (the classic "incremental saving attack"), then 乙方 seals on top.
  const tampered = appendUpdate(first, (doc, w) => {
    const page = doc.page(1);
    const content = w.add(stream('BT /F1 24 Tf 72 700 Td (Pay 1,000,000 to Mallory) Tj ET'));
    w.update(page.ref, page.dict.clone().set('Contents', content));
  });
  const forged = await sealer.seal(tampered, 'personal', { page: 3, x: 420, y: 200 }, '乙方');
  const crossPage = await sealer.seal(contract, 'org', { kind: 'cross-page', edge: 'right' }, '骑缝章');
  return { twoSeals, forged, crossPage };
}
