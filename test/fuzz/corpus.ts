/**
 * The fuzzer's seed corpus, generated like every fixture: seald's test documents in each cross-reference flavour,
 * encrypted ones of every standard-handler revision (qpdf writes them), the damaged classes of
 * test/pdf/damaged-fixtures.ts, and documents carrying a revision seald wrote (a signature-shaped update with a
 * dummy CMS, on a table file and on an xref-stream file, over another signer's signature, and on repaired files).
 */
import { readFile } from 'node:fs/promises';
import { ENCRYPTED_USER_PASSWORD, fixture, type FixtureName } from '../fixtures/index.ts';
import { USER, VARIANTS, variantFile } from '../pdf/encryption/variants.ts';
import * as damage from '../pdf/damaged-fixtures.ts';
import { PdfDocument } from '../../src/pdf/document.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { embedCms, prepareSignature } from '../../src/pdf/signature.ts';
import { centredMarkRect } from '../../src/pdf/placement.ts';
import type { SeedDocument } from './mutate.ts';

const IMAGE = {
  width: 1,
  height: 1,
  rgb: Buffer.from('789c63f8cfc00000030101', 'hex'),
  alpha: Buffer.from('789cfb0f0001010100', 'hex'),
};

/** `bytes` plus a revision as seald writes it (signature dictionary, widget, appearance; a dummy CMS). */
export function withSealdRevision(bytes: Uint8Array, password?: string): Buffer {
  const doc = PdfDocument.open(bufferSource(bytes), password !== undefined ? { password } : {});
  const page = doc.page(1);
  doc.repairBeforeUpdate();
  const prepared = prepareSignature(doc, {
    fieldName: 'Seald1',
    signingTime: new Date('2026-01-02T03:04:05Z'),
    contentsSize: 64,
    image: IMAGE,
    mark: { page, rect: centredMarkRect(page, { x: 100, y: 100, width: 50, height: 50 }) },
  });
  embedCms(prepared, Buffer.from('3003020101', 'hex'));
  return Buffer.concat([bytes, prepared.bytes]);
}

const PLAIN: FixtureName[] = ['simple', 'xref-stream', 'linearized', 'hybrid', 'acroform', 'signed-by-other', 'rotated', 'certified-p1'];
const ENCRYPTED = ['r2-rc4-40', 'r3-rc4-object-streams', 'r4-aes-128', 'r5-aes-256', 'r6-aes-256-object-streams'];

export async function seedCorpus(): Promise<SeedDocument[]> {
  const read = async (name: FixtureName) => new Uint8Array(await readFile(await fixture(name)));
  const corpus: SeedDocument[] = [];
  for (const name of PLAIN) corpus.push({ name, bytes: await read(name) });
  corpus.push({ name: 'encrypted', bytes: await read('encrypted'), password: ENCRYPTED_USER_PASSWORD });
  corpus.push({ name: 'encrypted-empty-user', bytes: await read('encrypted-empty-user'), password: '' });
  for (const v of VARIANTS.filter((x) => ENCRYPTED.includes(x.name))) {
    corpus.push({ name: v.name, bytes: new Uint8Array(await readFile(await variantFile(v))), password: USER });
  }
  const simple = await read('simple');
  const xrefStream = await read('xref-stream');
  corpus.push({ name: 'lf-to-crlf', bytes: damage.lfToCrlf(simple) });
  corpus.push({ name: 'junk-prefix-xref-stream', bytes: damage.junkPrefix(xrefStream) });
  corpus.push({ name: 'entries-off-by-3', bytes: damage.entriesOffBy(simple, 3) });
  corpus.push({ name: 'sealed-simple', bytes: withSealdRevision(simple) });
  corpus.push({ name: 'sealed-xref-stream', bytes: withSealdRevision(xrefStream) });
  corpus.push({ name: 'sealed-signed-by-other', bytes: withSealdRevision(await read('signed-by-other')) });
  // Sealed after repair: a section listing every object, with /Seald_RepairedBase (the verifier's repaired-base.ts).
  corpus.push({ name: 'sealed-repaired-no-prev', bytes: withSealdRevision(damage.noStartxref(simple)) });
  corpus.push({ name: 'sealed-repaired-with-prev', bytes: withSealdRevision(damage.entriesSwapped(simple, 2, 7)) });
  const r4 = VARIANTS.find((x) => x.name === 'r4-aes-128')!;
  const encrypted = new Uint8Array(await readFile(await variantFile(r4)));
  corpus.push({ name: 'sealed-r4-aes-128', bytes: withSealdRevision(encrypted, USER), password: USER });
  return corpus;
}

