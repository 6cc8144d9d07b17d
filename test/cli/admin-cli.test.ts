/**
 * `seald admin seal-image` as a user runs it (a separate process), and the `--date-stamp [FORMAT]` flag as seal and
 * batch turn it into the request's SignatureOptions.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareSealImage } from '../../src/pdf/image.ts';
import { dateStampArgs, signatureOptionsFrom } from '../../src/cli/commands/placement-options.ts';
import { BIN } from '../deploy/serve-process.ts';
import { run } from '../support/run.ts';
import { decodePng } from '../support/png.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-admin-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const seald = (args: string[]) => run(process.execPath, [BIN, ...args], { env: { ...process.env } });

describe('seald admin seal-image', () => {
  it('writes an SVG seald seals with, and a PNG of the size asked', async () => {
    const svg = path.join(dir, 'contract.svg');
    const a = await seald(['admin', 'seal-image', '--name', '上海某某国际贸易有限公司', '--kind', 'contract', '--code', '3101150012345', '-o', svg]);
    expect(a.code, a.stderr.toString()).toBe(0);
    expect(prepareSealImage(fs.readFileSync(svg))).toMatchObject({ kind: 'vector', width: 2000, height: 2000 });
    const png = path.join(dir, 'personal.png');
    const b = await seald(['admin', 'seal-image', '--name', '李四', '--kind', 'personal', '--size', '496', '-o', png]);
    expect(b.code, b.stderr.toString()).toBe(0);
    const img = decodePng(fs.readFileSync(png));
    expect([img.width, img.height]).toEqual([496, 496]);
    // The invoice seal is an oval 40 × 30 mm: --size is its width.
    const invoice = path.join(dir, 'invoice.png');
    const c = await seald(['admin', 'seal-image', '--name', '示例商贸有限公司', '--kind', 'invoice', '--code', '911101085923662400', '--size', '472', '-o', invoice]);
    expect(c.code, c.stderr.toString()).toBe(0);
    const oval = decodePng(fs.readFileSync(invoice));
    expect([oval.width, oval.height]).toEqual([472, 354]);
    const invoiceSvg = path.join(dir, 'invoice.svg');
    expect((await seald(['admin', 'seal-image', '--name', '示例商贸有限公司', '--kind', 'invoice', '-o', invoiceSvg])).code).toBe(0);
    expect(prepareSealImage(fs.readFileSync(invoiceSvg))).toMatchObject({ kind: 'vector', width: 2000, height: 1500 });
  });

  it('has its help, listed in the main help', async () => {
    const help = await seald(['help', 'admin']);
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toMatch(/^Usage: seald admin seal-image --name NAME/);
    expect((await seald(['--help'])).stdout.toString()).toContain('seald admin seal-image');
  });

  it('refuses a command line it cannot run, with exit status 2 and the reason', async () => {
    for (const [args, reason] of [
      [['--name', 'x', '--kind', 'bogus', '-o', 'a.png'], /--kind: expected official/],
      [['--name', 'x', '-o', 'a.jpg'], /\.svg or \.png/],
      [['-o', 'a.png'], /--name is required/],
    ] as const) {
      const r = await seald(['admin', 'seal-image', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.toString()).toMatch(reason);
    }
  });
});

describe('--date-stamp [FORMAT]', () => {
  it('a bare flag asks for the default format, =FORMAT for that one, --no-date-stamp for none', () => {
    expect(dateStampArgs(['in.pdf', '--date-stamp', '-o', 'out.pdf'])).toEqual(['in.pdf', '--date-stamp=', '-o', 'out.pdf']);
    expect(signatureOptionsFrom({ 'date-stamp': '' }).dateStamp).toEqual({ enabled: true, format: '' });
    expect(signatureOptionsFrom({ 'date-stamp': 'YYYY-MM-DD' }).dateStamp).toEqual({ enabled: true, format: 'YYYY-MM-DD' });
    expect(signatureOptionsFrom({ 'no-date-stamp': true }).dateStamp).toEqual({ enabled: false });
    expect(signatureOptionsFrom({}).dateStamp).toBeUndefined();
    expect(() => signatureOptionsFrom({ 'date-stamp': '', 'no-date-stamp': true })).toThrow(/exclude each other/);
  });
});
