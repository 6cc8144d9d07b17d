import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SealdError } from '../../src/errors.ts';
import { FileSource } from '../../src/pdf/file-source.ts';
import { Spool, removeStaleSpoolFiles } from '../../src/server/spool.ts';
import { BufferSource } from '../../src/pdf/source.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-spool-test-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const spoolDir = (): string => path.join(dir, 'spool');
const filesIn = (d: string): string[] => (fs.existsSync(d) ? fs.readdirSync(d) : []);
const bytes = (n: number, seed = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

async function collect(source: AsyncIterable<Uint8Array>): Promise<{ data: Buffer; sizes: number[] }> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return { data: Buffer.concat(parts), sizes: parts.map((p) => p.byteLength) };
}

describe('Spool', () => {
  it('keeps a document under the threshold in memory', async () => {
    const spool = new Spool({ memoryLimitBytes: 1000, maxDocumentBytes: 10_000, dir: spoolDir() });
    await spool.append(bytes(600));
    await spool.append(bytes(400, 1));
    expect(spool.onDisk).toBe(false);
    const source = await spool.finish();
    expect(source).toBeInstanceOf(BufferSource);
    expect(source.size).toBe(1000);
    expect(Buffer.from(source.read(600, 400))).toEqual(Buffer.from(bytes(400, 1)));
    expect(filesIn(spoolDir())).toEqual([]);
    await source.close();
  });

  it('moves to a 0600 temp file once the threshold is crossed, and removes it on close', async () => {
    const spool = new Spool({ memoryLimitBytes: 1000, maxDocumentBytes: 10_000, dir: spoolDir() });
    const a = bytes(700);
    const b = bytes(700, 7);
    await spool.append(a);
    expect(spool.onDisk).toBe(false);
    await spool.append(b);
    expect(spool.onDisk).toBe(true);
    const [name] = filesIn(spoolDir());
    expect(name).toMatch(/^seald-spool-\d+-[0-9a-f]+\.pdf$/);
    expect(fs.statSync(path.join(spoolDir(), name!)).mode & 0o777).toBe(0o600);

    const source = await spool.finish();
    expect(source).toBeInstanceOf(FileSource);
    expect(source.size).toBe(1400);
    const expected = Buffer.concat([a, b]);
    expect(Buffer.from(source.read(0, 1400))).toEqual(expected);
    expect(Buffer.from(source.read(650, 100))).toEqual(expected.subarray(650, 750));
    expect(source.read(1390, 100).byteLength).toBe(10); // clipped to the end
    expect(source.read(5000, 10).byteLength).toBe(0);
    const { data, sizes } = await collect(source.chunks(100, 1300, 256));
    expect(data).toEqual(expected.subarray(100, 1300));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256);
    // Two sequential passes may run at once (hashing while streaming back).
    const [x, y] = await Promise.all([collect(source.chunks()), collect(source.chunks(0, 1400, 100))]);
    expect(x.data).toEqual(expected);
    expect(y.data).toEqual(expected);

    await source.close();
    await source.close(); // idempotent
    expect(filesIn(spoolDir())).toEqual([]);
  });

  it('goes straight to a file when the size hint is over the threshold', async () => {
    const spool = new Spool({ memoryLimitBytes: 1000, maxDocumentBytes: 10_000, dir: spoolDir(), expectedBytes: 5000 });
    await spool.append(bytes(10));
    expect(spool.onDisk).toBe(true);
    await spool.discard();
    expect(filesIn(spoolDir())).toEqual([]);
  });

  it('refuses a size hint over the limit before any byte', () => {
    expect(
      () => new Spool({ memoryLimitBytes: 1000, maxDocumentBytes: 10_000, dir: spoolDir(), expectedBytes: 10_001 }),
    ).toThrowError(expect.objectContaining({ category: 'too-large', code: 'DOCUMENT_TOO_LARGE' }));
  });

  it('fails as soon as the limit is crossed mid-stream, and removes the temp file', async () => {
    const spool = new Spool({ memoryLimitBytes: 100, maxDocumentBytes: 1000, dir: spoolDir() });
    await spool.append(bytes(500));
    await spool.append(bytes(500));
    expect(spool.onDisk).toBe(true);
    expect(filesIn(spoolDir())).toHaveLength(1);
    const error = await spool.append(bytes(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SealdError);
    expect(error).toMatchObject({ category: 'too-large', code: 'DOCUMENT_TOO_LARGE' });
    expect((error as Error).message).toContain('1000 bytes');
    expect(filesIn(spoolDir())).toEqual([]);
    await expect(spool.append(bytes(1))).rejects.toMatchObject({ code: 'SPOOL_CLOSED' });
  });

  it('accepts exactly the limit', async () => {
    const spool = new Spool({ memoryLimitBytes: 100, maxDocumentBytes: 1000, dir: spoolDir() });
    await spool.append(bytes(1000));
    const source = await spool.finish();
    expect(source.size).toBe(1000);
    await source.close();
  });

  it('discard removes the temp file and is idempotent', async () => {
    const spool = new Spool({ memoryLimitBytes: 10, maxDocumentBytes: 1000, dir: spoolDir() });
    await spool.append(bytes(100));
    expect(filesIn(spoolDir())).toHaveLength(1);
    await spool.discard();
    await spool.discard();
    expect(filesIn(spoolDir())).toEqual([]);
    await expect(spool.finish()).rejects.toMatchObject({ code: 'SPOOL_CLOSED' });
  });

  it('a closed FileSource refuses reads', async () => {
    const spool = new Spool({ memoryLimitBytes: 1, maxDocumentBytes: 1000, dir: spoolDir() });
    await spool.append(bytes(100));
    const source = await spool.finish();
    await source.close();
    expect(() => source.read(0, 1)).toThrowError(/closed/);
  });

  it('removes spool files of dead processes only', async () => {
    fs.mkdirSync(spoolDir());
    const dead = 'seald-spool-999999999-0123456789abcdef.pdf';
    const mine = `seald-spool-${process.pid}-0123456789abcdef.pdf`;
    const other = 'keep-me.txt';
    for (const name of [dead, mine, other]) fs.writeFileSync(path.join(spoolDir(), name), 'x');
    expect(await removeStaleSpoolFiles(spoolDir())).toEqual([dead]);
    expect(filesIn(spoolDir()).sort()).toEqual([other, mine].sort());
    expect(await removeStaleSpoolFiles(path.join(dir, 'missing'))).toEqual([]);
  });
});

describe('BufferSource', () => {
  it('reads windows and chunks, clipped to the end', async () => {
    const data = bytes(1000);
    const source = new BufferSource(data);
    expect(source.read(990, 100)).toEqual(data.subarray(990));
    expect(source.read(-5, 3)).toEqual(data.subarray(0, 3));
    const { data: all, sizes } = await collect(source.chunks(10, 2000, 300));
    expect(all).toEqual(Buffer.from(data.subarray(10)));
    expect(sizes).toEqual([300, 300, 300, 90]);
  });
});
