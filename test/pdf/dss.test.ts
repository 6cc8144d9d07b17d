/**
 * The DSS writer on real files: a signed fixture (poppler's own signature) and unsigned ones of every xref kind get
 * validation data appended; qpdf accepts the result, the earlier signature still verifies (pdfsig), the data reads
 * back, a second update only adds what is new, and nothing is written when nothing is new.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument } from '../../src/pdf/document.ts';
import { prepareDss, readDss } from '../../src/pdf/dss.ts';
import { bufferSource } from '../../src/pdf/source.ts';
import { fixture, type FixtureName } from '../fixtures/index.ts';
import { isPrefix, pdfsig, qpdfCheck } from '../support/tools.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-dss-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const blob = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

async function appendDss(input: Buffer, data: Parameters<typeof prepareDss>[1]) {
  const update = prepareDss(PdfDocument.open(bufferSource(input)), data);
  return { update, output: update.bytes === undefined ? input : Buffer.concat([input, update.bytes]) };
}

describe('prepareDss', () => {
  it.each<FixtureName>(['simple', 'xref-stream', 'hybrid', 'linearized'])('adds a DSS to %s', async (name) => {
    const input = fs.readFileSync(await fixture(name));
    const data = { certificates: [blob(300), blob(400)], ocsps: [blob(200)], crls: [blob(100)] };
    const { update, output } = await appendDss(input, data);
    expect(update.added).toEqual({ certificates: 2, ocsps: 1, crls: 1 });
    expect(await isPrefix(input, output)).toBe(true);
    const file = path.join(dir, `${name}.pdf`);
    fs.writeFileSync(file, output);
    expect((await qpdfCheck(file)).ok).toBe(true);
    const back = readDss(PdfDocument.open(bufferSource(output)));
    expect(back.certificates.map((c) => Buffer.from(c).toString('hex'))).toEqual(data.certificates.map((c) => Buffer.from(c).toString('hex')));
    expect(back.ocsps).toHaveLength(1);
    expect(back.crls).toHaveLength(1);
  });

  it('extends an existing DSS with only what is new, and writes nothing when nothing is', async () => {
    const input = fs.readFileSync(await fixture('simple'));
    const shared = blob(256);
    const first = await appendDss(input, { certificates: [shared], ocsps: [], crls: [] });
    const second = await appendDss(first.output, { certificates: [shared, blob(128)], ocsps: [blob(64)], crls: [] });
    expect(second.update.added).toEqual({ certificates: 1, ocsps: 1, crls: 0 });
    const file = path.join(dir, 'twice.pdf');
    fs.writeFileSync(file, second.output);
    expect((await qpdfCheck(file)).ok).toBe(true);
    const back = readDss(PdfDocument.open(bufferSource(second.output)));
    expect(back.certificates).toHaveLength(2);
    expect(back.ocsps).toHaveLength(1);
    const third = await appendDss(second.output, { certificates: [shared], ocsps: [], crls: [] });
    expect(third.update.bytes).toBeUndefined();
  });

  it('leaves an earlier signature valid', async () => {
    const input = fs.readFileSync(await fixture('signed-by-other'));
    const { output } = await appendDss(input, { certificates: [blob(500)], ocsps: [], crls: [] });
    const file = path.join(dir, 'signed.pdf');
    fs.writeFileSync(file, output);
    expect((await qpdfCheck(file)).ok).toBe(true);
    const report = await pdfsig(file);
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]!.signatureValid).toBe(true);
  });
});
