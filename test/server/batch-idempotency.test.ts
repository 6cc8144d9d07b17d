/** The SealBatch idempotency store on its own: keys, the window, the memory bound, files on disk and the sweep. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { idempotencyKey, IdempotencyStore, type SealRecord } from '../../src/server/idempotency.ts';

const logger = pino({ level: 'silent' });
let dir: string;
let clock = 1_000_000;
const now = () => clock;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-idempotency-'));
  clock = 1_000_000;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const digest = (byte: number) => new Uint8Array(32).fill(byte);
const key = (id: string, input = 1, options = 2) =>
  idempotencyKey({ principal: 'anonymous', documentId: id, inputDigest: digest(input), optionsDigest: digest(options) });
const made = (size: number, tag = 7) => ({ appended: new Uint8Array(size).fill(tag), summary: new Uint8Array([8, tag]) });

describe('idempotencyKey', () => {
  it('differs when any part differs, and parts cannot run into each other', () => {
    const keys = new Set([key('a'), key('b'), key('a', 9), key('a', 1, 9)]);
    expect(keys.size).toBe(4);
    const ab = idempotencyKey({ principal: 'ab', documentId: 'c', inputDigest: digest(1), optionsDigest: digest(2) });
    const bc = idempotencyKey({ principal: 'a', documentId: 'bc', inputDigest: digest(1), optionsDigest: digest(2) });
    expect(ab).not.toBe(bc);
    expect(key('a')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('IdempotencyStore', () => {
  it('seals once per key within the window, again after it', async () => {
    const store = await IdempotencyStore.open({ windowSeconds: 60, memoryBytes: 1e6, dir, logger, now });
    let seals = 0;
    const seal = async () => {
      seals++;
      return made(100, seals);
    };
    const first = await store.sealOnce(key('doc'), seal);
    const second = await store.sealOnce(key('doc'), seal);
    expect([first.replayed, second.replayed, seals]).toEqual([false, true, 1]);
    expect(Buffer.from(second.record.appended!).equals(Buffer.from(first.record.appended!))).toBe(true);
    clock += 61_000;
    const later = await store.sealOnce(key('doc'), seal);
    expect([later.replayed, seals]).toEqual([false, 2]);
    store.close();
  });

  it('a failed seal is not remembered: the next attempt seals', async () => {
    const store = await IdempotencyStore.open({ windowSeconds: 60, memoryBytes: 1e6, logger, now });
    await expect(store.sealOnce(key('x'), () => Promise.reject(new Error('token down')))).rejects.toThrow('token down');
    expect((await store.sealOnce(key('x'), async () => made(10))).replayed).toBe(false);
    store.close();
  });

  it('keeps at most memoryBytes of records in memory (least recently used out); the disk still answers', async () => {
    const memoryOnly = await IdempotencyStore.open({ windowSeconds: 60, memoryBytes: 3000, logger, now });
    for (const id of ['a', 'b', 'c']) await memoryOnly.put(key(id), { ...made(1000), createdAt: clock });
    expect(await memoryOnly.get(key('a'))).toBeUndefined(); // evicted: 3 × (1000 + 2 + 64) > 3000
    expect(await memoryOnly.get(key('c'))).toBeDefined();

    const withDisk = await IdempotencyStore.open({ windowSeconds: 60, memoryBytes: 3000, dir, logger, now });
    for (const id of ['a', 'b', 'c']) await withDisk.put(key(id), { ...made(1000), createdAt: clock });
    const a = (await withDisk.get(key('a')))!;
    expect(a.appended!.byteLength).toBe(1000);
    expect(Array.from(a.summary)).toEqual([8, 7]);
    memoryOnly.close();
    withDisk.close();
  });

  it('reads records written by an earlier instance; ignores expired and malformed ones; the sweep removes expired files', async () => {
    const first = await IdempotencyStore.open({ windowSeconds: 60, memoryBytes: 1e6, dir, logger, now });
    const record: SealRecord = { ...made(500, 3), createdAt: clock };
    await first.put(key('kept'), record);
    await first.put(key('old'), { ...made(500, 4), createdAt: clock - 120_000 });
    first.close();
    fs.writeFileSync(path.join(dir, `${key('garbage')}.rec`), 'not a record');

    const second = await IdempotencyStore.open({ windowSeconds: 60, memoryBytes: 1e6, dir, logger, now });
    expect(Buffer.from((await second.get(key('kept')))!.appended!).equals(Buffer.from(record.appended!))).toBe(true);
    expect(await second.get(key('old'))).toBeUndefined();
    expect(await second.get(key('garbage'))).toBeUndefined();

    // The newest record's age decides the sweep: once 'kept' expires, its segment goes (files of the old format went at open).
    clock += 61_000;
    const removed = await second.sweep();
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(fs.readdirSync(dir)).toEqual([]);
    second.close();
  });
});
