/**
 * The idempotency store's segment files on a real directory: round trips, restarts, expiry and the sweep, torn
 * tails and corrupt records, concurrent writers, and the memory-only LRU. Time is an injected clock.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { idempotencyKey, IdempotencyStore, type SealRecord } from '../../src/server/idempotency.ts';

let dir: string;
let clock: number;
const now = () => clock;
let warnings: { msg: string }[];
const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line) as { msg: string }) });
const open = (windowSeconds = 600, memoryBytes = 1e6) => IdempotencyStore.open({ windowSeconds, memoryBytes, dir, logger, now });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-idempotency-store-'));
  clock = Date.UTC(2026, 10, 21, 3, 0, 0);
  warnings = [];
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const key = (id: string) =>
  idempotencyKey({ principal: 'p', documentId: id, inputDigest: new Uint8Array(32).fill(1), optionsDigest: new Uint8Array(32).fill(2) });
const record = (size = 35_000): SealRecord => ({ appended: randomBytes(size), summary: randomBytes(40), createdAt: clock });
const same = (a: SealRecord | undefined, b: SealRecord) =>
  a !== undefined &&
  a.createdAt === b.createdAt &&
  Buffer.from(a.appended!).equals(Buffer.from(b.appended!)) &&
  Buffer.from(a.summary).equals(Buffer.from(b.summary));
const segments = () => fs.readdirSync(dir).filter((name) => name.endsWith('.seg')).sort();

describe('IdempotencyStore on disk', () => {
  it('answers what was put, byte for byte, from one segment named after its span', async () => {
    const store = await open();
    const records = [record(35_000), record(0), record(1)];
    for (const [i, r] of records.entries()) await store.put(key(`d${i}`), r);
    for (const [i, r] of records.entries()) expect(same(await store.get(key(`d${i}`)), r)).toBe(true);
    expect(await store.get(key('never'))).toBeUndefined();
    // 600 s window → 75 s spans; 03:00:00 is a span start.
    expect(segments()).toEqual(['20261121T030000Z-75s-1.seg']);
    await store.close();
  });

  it('answers records of an earlier instance after a restart, and appends to a new segment', async () => {
    const first = await open();
    const kept = record();
    await first.put(key('kept'), kept);
    await first.close();
    const second = await open();
    expect(same(await second.get(key('kept')), kept)).toBe(true);
    const later = record();
    await second.put(key('later'), later);
    expect(segments()).toEqual(['20261121T030000Z-75s-1.seg', '20261121T030000Z-75s-2.seg']);
    await second.close();
    const third = await open();
    expect(same(await third.get(key('kept')), kept)).toBe(true);
    expect(same(await third.get(key('later')), later)).toBe(true);
    await third.close();
  });

  it('ignores expired records and sweeps segments whose newest record expired', async () => {
    const store = await open(600);
    const early = record();
    await store.put(key('early'), early);
    clock += 100_000; // next span: a new segment
    const late = record();
    await store.put(key('late'), late);
    expect(segments()).toHaveLength(2);

    clock += 550_000; // early is 650 s old, late 550 s
    expect(await store.get(key('early'))).toBeUndefined();
    expect(same(await store.get(key('late')), late)).toBe(true);
    expect(await store.sweep()).toBe(1);
    expect(segments()).toEqual(['20261121T030115Z-75s-1.seg']);
    await store.close();

    // A restart skips expired records too, and its first sweep removes their segments.
    clock += 100_000;
    const reopened = await open(600);
    expect(await reopened.get(key('late'))).toBeUndefined();
    expect(segments()).toEqual([]);
    await reopened.close();
  });

  it('a sealOnce after expiry seals again and the new record is answered', async () => {
    const store = await open(60);
    let seals = 0;
    const seal = async () => ({ appended: Buffer.from(`seal ${++seals}`), summary: Buffer.from('s') });
    expect((await store.sealOnce(key('x'), seal)).replayed).toBe(false);
    expect((await store.sealOnce(key('x'), seal)).replayed).toBe(true);
    clock += 61_000;
    const again = await store.sealOnce(key('x'), seal);
    expect([again.replayed, seals]).toEqual([false, 2]);
    expect(Buffer.from((await store.get(key('x')))!.appended!).toString()).toBe('seal 2');
    await store.close();
  });

  it.each([
    ['cut mid-record', false, (file: string) => fs.truncateSync(file, fs.statSync(file).size - 20_000)],
    ['garbage appended', true, (file: string) => fs.appendFileSync(file, randomBytes(5000))],
    ['half a header appended', true, (file: string) => fs.appendFileSync(file, fs.readFileSync(file).subarray(0, 30))],
  ])('a torn tail (%s) keeps the records before it and later appends work', async (_, lastKept, tear) => {
    const first = await open();
    const records = [record(), record(), record()];
    for (const [i, r] of records.entries()) await first.put(key(`r${i}`), r);
    await first.close();
    const [segment] = segments();
    tear(path.join(dir, segment!));

    const second = await open();
    expect(warnings.map((w) => w.msg)).toContain('torn or corrupt idempotency segment tail ignored');
    expect(same(await second.get(key('r0')), records[0]!)).toBe(true);
    expect(same(await second.get(key('r1')), records[1]!)).toBe(true);
    if (lastKept) expect(same(await second.get(key('r2')), records[2]!)).toBe(true);
    else expect(await second.get(key('r2'))).toBeUndefined();
    const after = record();
    await second.put(key('after'), after);
    expect(same(await second.get(key('after')), after)).toBe(true);
    await second.close();

    const third = await open();
    expect(same(await third.get(key('after')), after)).toBe(true);
    expect(same(await third.get(key('r0')), records[0]!)).toBe(true);
    await third.close();
  });

  it('a corrupt record body is not answered (a warning, no crash) and the document is sealed again', async () => {
    const store = await open();
    const next = record(1000);
    await store.put(key('first'), record(1000));
    await store.put(key('bad'), record(1000));
    await store.put(key('next'), next);
    const file = path.join(dir, segments()[0]!);
    const bytes = fs.readFileSync(file);
    const at = 1104 + 64 + 40 + 500; // frames are 64 + 40 + 1000 bytes: into the second one's revision
    bytes[at] = bytes[at]! ^ 0x01;
    fs.writeFileSync(file, bytes);

    expect(await store.get(key('bad'))).toBeUndefined();
    expect(warnings.map((w) => w.msg)).toEqual(['corrupt idempotency record ignored']);
    expect(same(await store.get(key('next')), next)).toBe(true);
    const resealed = await store.sealOnce(key('bad'), async () => ({ appended: Buffer.from('new'), summary: Buffer.from('s') }));
    expect(resealed.replayed).toBe(false);
    expect(Buffer.from((await store.get(key('bad')))!.appended!).toString()).toBe('new');
    await store.close();

    // The restart indexes headers only: the corrupt body is caught on read again, the newer record wins anyway.
    const reopened = await open();
    expect(Buffer.from((await reopened.get(key('bad')))!.appended!).toString()).toBe('new');
    await reopened.close();
  });

  it('a frame that is intact but holds another key is not answered', async () => {
    const store = await open();
    await store.put(key('a'), record(100));
    // The same frame written for key b by another store, copied over a's file: lengths and checksums all hold.
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-idempotency-other-'));
    const other = await IdempotencyStore.open({ windowSeconds: 600, memoryBytes: 0, dir: otherDir, logger, now });
    await other.put(key('b'), record(100));
    await other.close();
    const [otherSegment] = fs.readdirSync(otherDir);
    fs.writeFileSync(path.join(dir, segments()[0]!), fs.readFileSync(path.join(otherDir, otherSegment!)));
    fs.rmSync(otherDir, { recursive: true });

    expect(await store.get(key('a'))).toBeUndefined();
    expect(warnings.map((w) => w.msg)).toEqual(['corrupt idempotency record ignored']);
    await store.close();
  });

  it('concurrent sealOnce calls with one key seal once', async () => {
    const store = await open();
    let seals = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seal = async () => {
      seals++;
      await gate;
      return { appended: randomBytes(35_000), summary: Buffer.from('s') };
    };
    const calls = Array.from({ length: 10 }, () => store.sealOnce(key('same'), seal));
    release();
    const results = await Promise.all(calls);
    expect(seals).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    for (const r of results) expect(Buffer.from(r.record.appended!).equals(Buffer.from(results[0]!.record.appended!))).toBe(true);
    await store.close();
  });

  it('200 concurrent puts do not interleave: all answered byte-identical after a restart', async () => {
    const store = await open();
    const records = Array.from({ length: 200 }, (_, i) => record(1000 + i * 97));
    await Promise.all(records.map((r, i) => store.put(key(`c${i}`), r)));
    await store.close();
    const reopened = await open();
    for (const [i, r] of records.entries()) expect(same(await reopened.get(key(`c${i}`)), r)).toBe(true);
    expect(warnings).toEqual([]);
    await reopened.close();
  });

  it('a failed disk write does not fail the seal: a warning, and the next attempt seals again', async () => {
    const store = await open();
    fs.rmSync(dir, { recursive: true }); // no directory to create a segment in
    let seals = 0;
    const seal = async () => ({ appended: Buffer.from(`seal ${++seals}`), summary: Buffer.from('s') });
    const first = await store.sealOnce(key('x'), seal);
    expect([first.replayed, Buffer.from(first.record.appended!).toString()]).toEqual([false, 'seal 1']);
    expect(warnings.map((w) => w.msg)).toEqual(['cannot write idempotency records: a replay after a restart would seal again']);
    expect((await store.sealOnce(key('x'), seal)).replayed).toBe(false);
    await store.close();
  });

  it('removes record files of the previous format when it opens', async () => {
    fs.writeFileSync(path.join(dir, `${key('old')}.rec`), 'SEALDIR1 old record');
    fs.writeFileSync(path.join(dir, `${key('old')}.rec.123.abc.tmp`), 'half');
    const store = await open();
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(await store.get(key('old'))).toBeUndefined();
    await store.close();
  });
});

describe('IdempotencyStore in memory only', () => {
  it('keeps at most memoryBytes of records, least recently used out, and writes no file', async () => {
    const store = await IdempotencyStore.open({ windowSeconds: 600, memoryBytes: 10 * (35_000 + 40 + 64), logger, now });
    const records = Array.from({ length: 12 }, () => record());
    for (const [i, r] of records.entries()) {
      await store.put(key(`m${i}`), r);
      if (i === 5) expect(same(await store.get(key('m0')), records[0]!)).toBe(true); // m0 is now recently used
    }
    // 12 records, room for 10: the two least recently used (m1, m2) are out, m0 was touched and stays.
    expect(await store.get(key('m1'))).toBeUndefined();
    expect(await store.get(key('m2'))).toBeUndefined();
    for (const i of [0, 3, 11]) expect(same(await store.get(key(`m${i}`)), records[i]!)).toBe(true);
    clock += 600_000;
    expect(await store.get(key('m11'))).toBeUndefined();
    expect(fs.readdirSync(dir)).toEqual([]);
    await store.close();
  });
});
