/** AtomicOutputFile: the original copied in the kernel, then the revision written after it, then moved into place. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomicOutputFile } from '../../src/cli/output-file.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-output-file-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('AtomicOutputFile', () => {
  it('copyFrom puts the whole file first, later writes follow it, mode 0644 whatever the source had', async () => {
    const source = path.join(dir, 'in.bin');
    const original = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
    fs.writeFileSync(source, original, { mode: 0o600 });
    const destination = path.join(dir, 'out.bin');
    const output = await AtomicOutputFile.create(destination);
    expect(await output.copyFrom(source)).toBe(original.length);
    await output.write(Buffer.from('tail one,'));
    await output.write(Buffer.from('tail two'));
    expect(output.bytesWritten).toBe(original.length + 17);
    expect(fs.existsSync(destination)).toBe(false);
    await output.commit();
    expect(fs.readFileSync(destination).equals(Buffer.concat([original, Buffer.from('tail one,tail two')]))).toBe(true);
    expect(fs.statSync(destination).mode & 0o777).toBe(0o644);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.part'))).toEqual([]);
  });

  it('refuses copyFrom after a write (the copy would overwrite it)', async () => {
    const output = await AtomicOutputFile.create(path.join(dir, 'late.bin'));
    await output.write(Buffer.from('x'));
    await expect(output.copyFrom(path.join(dir, 'in.bin'))).rejects.toThrow(/copyFrom after 1 bytes/);
    await output.abandon();
  });
});
