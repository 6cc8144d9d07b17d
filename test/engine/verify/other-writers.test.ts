/**
 * Later revisions written by other software (issue 17), sound and forged side by side: a cross-reference section
 * that re-lists unchanged objects at their old places (a 法大大 contract's habit), an update that moves every
 * unchanged object into an object stream and re-encodes streams (full compression), a linearized original; and the
 * forged twins: a re-listed entry that points to an older version of a page's content, an object stream redefined in
 * place so that an object it holds changes without being listed. Objects are compared by value, not by location.
 * pdfsig and qpdf check the sound files independently of seald's reader.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDict, PdfRef, PdfStream, PdfString, dict, name, type PdfObject } from '../../../src/pdf/objects.ts';
import { ByteSink } from '../../../src/pdf/serialize.ts';
import { bufferSource } from '../../../src/pdf/source.ts';
import type { VerificationReport } from '../../../src/engine/verify/report.ts';
import { verifyDocument } from '../../../src/engine/verify/verify.ts';
import { fixture } from '../../fixtures/index.ts';
import { appendUpdate, firstContents, open, stream } from './attack-kit.ts';
import { openSealer, type Sealer } from './sealer.ts';
import { everyObject, previousEntries, rawUpdate, reencoded } from './writer-kit.ts';

let sealer: Sealer;
let sealed: Buffer;
let dir: string;

beforeAll(async () => {
  sealer = await openSealer();
  sealed = await sealer.seal(fs.readFileSync(await fixture('simple')), 'org', { page: 1, x: 200, y: 200 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-writers-'));
});
afterAll(async () => {
  await sealer?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const verify = (bytes: Uint8Array): Promise<VerificationReport> => verifyDocument(bufferSource(bytes), { trustAnchors: sealer.anchors });
const kinds = (r: VerificationReport, i = 0): [string, boolean][] => r.signatures[i]!.changes.map((c) => [c.kind, c.allowed]);

/** A Text annotation on page 1 (the page, or its indirect /Annots array, rewritten). */
function withNote(doc: ReturnType<typeof open>): [PdfRef, PdfObject][] {
  const note = new PdfRef(doc.size, 0);
  const page = doc.page(1);
  const annots = page.dict.get('Annots');
  const listed = doc.resolve(annots);
  const next = [...(Array.isArray(listed) ? listed : []), note];
  return [
    [note, dict({ Type: name('Annot'), Subtype: name('Text'), Rect: [450, 700, 470, 720], Contents: PdfString.text('checked') })],
    annots instanceof PdfRef ? [annots, next] : [page.ref, page.dict.clone().set('Annots', next)],
  ];
}

/** pdfsig's verdict on the first signature and qpdf --check, on a file written to disk. */
function independent(bytes: Buffer, file: string): { pdfsig: string; qpdf: string } {
  const p = path.join(dir, file);
  fs.writeFileSync(p, bytes);
  let sig: string;
  try {
    sig = execFileSync('pdfsig', ['-nocert', p], { encoding: 'utf8' });
  } catch (error) {
    sig = String((error as { stdout?: string }).stdout ?? error);
  }
  let qpdf: string;
  try {
    qpdf = execFileSync('qpdf', ['--check', p], { encoding: 'utf8' });
  } catch (error) {
    qpdf = String((error as { stdout?: string }).stdout ?? error);
  }
  return { pdfsig: /Signature Validation:\s*(.*)/.exec(sig)?.[1] ?? sig, qpdf };
}

describe('an update that re-lists unchanged objects (a 法大大 contract)', () => {
  it('each re-listed entry points where the previous revision had it: harmless, VALID', async () => {
    const relisting = rawUpdate(sealed, { objects: withNote, relist: previousEntries });
    const report = await verify(relisting);
    expect(report.reasons).toEqual([expect.stringContaining('not covered by a signature')]);
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['annotation-added', true]]);
    const checked = independent(relisting, 'relisting.pdf');
    expect(checked.pdfsig).toBe('Signature is Valid.');
    expect(checked.qpdf).toContain('No syntax or stream encoding errors');
  });

  it('an entry that points to an older version of the page content: INVALID', async () => {
    // The original's content, then a revision that replaces it, then the seal; the attack re-lists the content
    // stream at its original offset: a reader shows the old text, and nothing was written in the update's bytes.
    const original = fs.readFileSync(await fixture('simple'));
    const contents = firstContents(open(original));
    const oldEntry = open(original).xref.entries.get(contents)!;
    const edited = appendUpdate(original, (doc, w) => w.update(new PdfRef(contents, 0), stream('BT /F1 24 Tf 72 700 Td (Amended agreement) Tj ET')));
    const signed = await sealer.seal(edited, 'org', { page: 1, x: 200, y: 200 });
    const rolledBack = rawUpdate(signed, { relist: () => [[contents, oldEntry]] });
    const report = await verify(rolledBack);
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toEqual([['xref-points-outside-revision', false]]);
    expect(report.reasons.join(" ")).toMatch(/object \d+ is placed at offset \d+, outside the bytes of revision 4/);
  });

  it('an entry re-listed in an xref stream, the same way: VALID', async () => {
    const report = await verify(rawUpdate(sealed, { objects: withNote, relist: previousEntries, xrefStream: true }));
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['annotation-added', true]]);
  });
});

describe('an update by a writer that compresses everything', () => {
  const recompressed = (doc: ReturnType<typeof open>): [PdfRef, PdfObject][] => {
    const changed = new Map<number, [PdfRef, PdfObject]>(withNote(doc).map(([r, v]) => [r.num, [r, v]]));
    const all = everyObject(doc).map(([r, v]): [PdfRef, PdfObject] => changed.get(r.num) ?? [r, reencoded(doc, v)]);
    for (const [num, o] of changed) if (!all.some(([r]) => r.num === num)) all.push(o);
    return all;
  };

  it('moves every unchanged object into an object stream, re-encodes every stream: VALID, only the note', async () => {
    const compressed = rawUpdate(sealed, { objects: recompressed, objectStream: true, xrefStream: true });
    const report = await verify(compressed);
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['annotation-added', true]]);
    const checked = independent(compressed, 'compressed.pdf');
    expect(checked.pdfsig).toBe('Signature is Valid.');
    expect(checked.qpdf).toContain('No syntax or stream encoding errors');
  });

  it('but a re-encoded stream whose decoded bytes differ is a change: INVALID', async () => {
    const doc = open(sealed);
    const contents = firstContents(doc);
    const forged = rawUpdate(sealed, {
      objects: (d) => recompressed(d).map(([r, v]) => (r.num === contents ? [r, stream('BT /F1 24 Tf 72 700 Td (Forged) Tj ET')] : [r, v])),
      objectStream: true,
      xrefStream: true,
    });
    const report = await verify(forged);
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toEqual([['page-content-changed', false], ['annotation-added', true]]);
  });

  it('a linearized original, sealed, then updated by that writer: VALID', async () => {
    const linearized = await sealer.seal(fs.readFileSync(await fixture('linearized')), 'org', { page: 1, x: 200, y: 200 });
    const plain = await verify(appendUpdate(linearized, (doc, w) => {
      for (const [r, v] of withNote(doc)) {
        if (r.num >= doc.size) w.add(v);
        else w.update(r, v);
      }
    }));
    expect(plain.verdict).toBe('VALID');
    expect(kinds(plain)).toEqual([['annotation-added', true]]);
    const compressed = rawUpdate(linearized, { objects: recompressed, objectStream: true, xrefStream: true });
    const report = await verify(compressed);
    expect(report.verdict).toBe('VALID');
    expect(kinds(report)).toEqual([['annotation-added', true]]);
    expect(independent(compressed, 'linearized-compressed.pdf').pdfsig).toBe('Signature is Valid.');
  });
});

describe('an object stream redefined in place', () => {
  it('changes the objects it holds although the update does not list them: INVALID', async () => {
    const signed = await sealer.seal(fs.readFileSync(await fixture('xref-stream')), 'org', { page: 1, x: 200, y: 200 });
    const doc = open(signed);
    // A page dictionary that sits in an object stream of the original; that stream is rewritten, the page not listed.
    const pageNum = doc.page(2).ref.num;
    const at = doc.xref.entries.get(pageNum)!;
    expect(at.type).toBe('compressed');
    const streamNum = at.type === 'compressed' ? at.stream : -1;
    // Its members as the original wrote them (some were since updated elsewhere: those keep their old text).
    const old = doc.getObject(new PdfRef(streamNum, 0)) as PdfStream;
    const data = Buffer.from(doc.decode(old)).toString('latin1');
    const first = old.dict.get('First') as number;
    const pairs = data.slice(0, first).trim().split(/\s+/).map(Number);
    const members: number[] = [];
    const texts: string[] = [];
    for (let i = 0; i < pairs.length; i += 2) {
      members.push(pairs[i]!);
      const text = data.slice(first + pairs[i + 1]!, i + 3 < pairs.length ? first + pairs[i + 3]! : data.length);
      texts.push(pairs[i] === pageNum ? serialise((doc.getObject(new PdfRef(pageNum, 0)) as PdfDict).clone().set('Rotate', 180)) : text.trim());
    }
    const values = texts;
    const forged = rawUpdate(signed, {
      objects: () => [[new PdfRef(streamNum, 0), objectStreamOf(members, values)]],
    });
    const report = await verify(forged);
    expect(report.verdict).toBe('INVALID');
    expect(kinds(report)).toContainEqual(['page-changed', false]);
  });
});

/** An object stream holding objects `members`, written as `texts`, in that order (§7.5.7). */
function objectStreamOf(members: number[], texts: string[]): PdfObject {
  const header: string[] = [];
  let body = '';
  texts.forEach((t, i) => {
    header.push(`${members[i]} ${body.length}`);
    body += `${t}\n`;
  });
  const head = `${header.join(' ')}\n`;
  return stream(head + body, { Type: name('ObjStm'), N: members.length, First: head.length });
}

function serialise(v: PdfObject): string {
  const sink = new ByteSink();
  sink.object(v);
  return sink.concat().toString('latin1');
}
