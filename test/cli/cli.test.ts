/**
 * `node bin/seald.mjs …` as a user runs it (a separate process, through tsx), against an in-process server with a
 * stand-in engine. test/server/e2e.test.ts runs the CLI once more against the real engine and tokens.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startServe } from '../deploy/serve-process.ts';
import { run } from '../support/run.ts';
import { FAKE_REVISION, startHarness, type Harness } from '../server/harness.ts';

const MiB = 1024 * 1024;

let h: Harness;
let dir: string;
let input: string;
let inputBytes: Buffer;

beforeAll(async () => {
  h = await startHarness({ limits: { maxDocumentBytes: 4 * MiB } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-cli-test-'));
  input = path.join(dir, 'in.pdf');
  inputBytes = Buffer.alloc(2 * MiB + 333, 'x');
  inputBytes.write('%PDF-1.7\n');
  fs.writeFileSync(input, inputBytes);
});
afterAll(async () => {
  await h.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function seald(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [BIN, ...args], { env: { ...process.env, SEALD_SERVER: '', ...env } });
}

const placement = ['--page', '1', '--x', '100', '--y', '200'];
const leftovers = (): string[] => fs.readdirSync(dir).filter((name) => name.endsWith('.part'));

describe('seald seal', () => {
  it('seals a file: output = input + new revision, summary on stdout, exit 0', async () => {
    const output = path.join(dir, 'out.pdf');
    const result = await seald(['seal', input, '-o', output, '--seal', 'org', ...placement, '--field', 'Sig9', '--server', h.server.address]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const written = fs.readFileSync(output);
    expect(written.subarray(0, inputBytes.length).equals(inputBytes)).toBe(true);
    expect(written.subarray(inputBytes.length).equals(Buffer.from(FAKE_REVISION))).toBe(true);
    const stdout = result.stdout.toString();
    expect(stdout).toContain(`sealed ${input} -> ${output} (${written.length} bytes)`);
    expect(stdout).toMatch(/field\s+Sig9/);
    expect(leftovers()).toEqual([]);
  });

  it('prints the summary as JSON and finds the server through SEALD_SERVER', async () => {
    const output = path.join(dir, 'out-json.pdf');
    const result = await seald(['seal', input, '-o', output, '--seal', 'personal', ...placement, '--json'], {
      SEALD_SERVER: h.server.address,
    });
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout.toString());
    expect(summary).toMatchObject({ fieldName: 'Seal1', revision: 2, pages: [1], digestAlgorithm: 'SHA-256' });
    expect(summary.documentSize).toBe(fs.statSync(output).size);
  });

  it('unknown seal: exit 1, the status on stderr, no output file', async () => {
    const output = path.join(dir, 'never.pdf');
    const result = await seald(['seal', input, '-o', output, '--seal', 'nope', ...placement, '--server', h.server.address]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('seald: NOT_FOUND: unknown seal "nope"\n');
    expect(result.stdout.toString()).toBe('');
    expect(fs.existsSync(output)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('a failed seal leaves an existing output file untouched', async () => {
    const output = path.join(dir, 'existing.pdf');
    fs.writeFileSync(output, 'previous content');
    const big = path.join(dir, 'big.pdf');
    fs.writeFileSync(big, Buffer.alloc(5 * MiB, 'y'));
    const result = await seald(['seal', big, '-o', output, '--seal', 'org', ...placement, '--server', h.server.address]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^seald: RESOURCE_EXHAUSTED: document exceeds the limit of 4194304 bytes/);
    expect(fs.readFileSync(output, 'utf8')).toBe('previous content');
    expect(leftovers()).toEqual([]);
  });

  it('no server: exit 1 with UNAVAILABLE', async () => {
    const result = await seald(['seal', input, '-o', path.join(dir, 'x.pdf'), '--seal', 'org', ...placement, '--server', '127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^seald: UNAVAILABLE: /);
    expect(leftovers()).toEqual([]);
  });

  it.each([
    [['seal', '-o', 'x.pdf', '--seal', 'org', ...placement], /give exactly one input file/],
    [['seal', 'in.pdf', '--seal', 'org', ...placement], /-o\/--output is required/],
    [['seal', 'in.pdf', '-o', 'x.pdf', '--seal', 'org', '--page', '0', '--x', '1', '--y', '1'], /--page: expected an integer ≥ 1/],
    [['seal', 'in.pdf', '-o', 'x.pdf', '--seal', 'org', ...placement, '--width', 'wide'], /--width: expected a positive number/],
    [['seal', 'in.pdf', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['seals', '--server', 'nohost'], /--server: expected host:port/],
    [['launch'], /unknown command "launch"/],
  ])('usage error %j: exit 2', async (args, message) => {
    const result = await seald(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/see `seald (help \w+|--help)`/);
  });
});

describe('seald seals', () => {
  it('prints a table', async () => {
    const result = await seald(['seals', '--server', h.server.address]);
    expect(result.code).toBe(0);
    const lines = result.stdout.toString().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+KIND\s+NAME\s+SUBJECT\s+VALID\s+READY$/);
    expect(lines[1]).toMatch(/^org\s+official\s+org name\s+CN=org\s+2025-01-01 \.\. 2035-01-01\s+yes$/);
    expect(lines[2]).toMatch(/^personal\s+personal\s/);
  });

  it('prints JSON', async () => {
    const result = await seald(['seals', '--json', '--server', h.server.address]);
    expect(result.code).toBe(0);
    const { seals } = JSON.parse(result.stdout.toString());
    expect(seals[0]).toEqual({
      id: 'org',
      kind: 'official',
      name: 'org name',
      certificate: {
        subject: 'CN=org',
        issuer: 'CN=Test CA',
        serialNumber: '0a0b',
        notBefore: '2025-01-01T00:00:00.000Z',
        notAfter: '2035-01-01T00:00:00.000Z',
        keyAlgorithm: 'EC prime256v1',
      },
      available: true,
      activationRequired: false,
    });
  });
});

describe('seald help', () => {
  it('prints help for the program and each command', async () => {
    const main = await seald(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout.toString()).toMatch(/^Usage: seald <command>/);
    for (const command of ['serve', 'seals', 'seal']) {
      const viaHelp = await seald(['help', command]);
      const viaFlag = await seald([command, '--help']);
      expect(viaHelp.code).toBe(0);
      expect(viaHelp.stdout.toString()).toMatch(new RegExp(`^Usage: seald ${command}`));
      expect(viaFlag.stdout.toString()).toBe(viaHelp.stdout.toString());
    }
    expect((await seald(['help', 'serve'])).stdout.toString()).toContain('SEALD_MAX_DOCUMENT_BYTES');
    expect((await seald([])).code).toBe(2);
  });
});

describe('seald serve', () => {
  it('provisions the embedded defaults, serves, and exits 0 on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seald-serve-test-'));
    try {
      const { child, address, lines, exited, stderr } = await startServe(['--data-dir', dataDir, '--metrics', 'off']);
      expect(fs.existsSync(path.join(dataDir, 'seald.yaml'))).toBe(true);
      const listed = await seald(['seals', '--json', '--server', address]);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout.toString()).seals.map((s: { id: string }) => s.id)).toEqual(['org', 'personal', 'legal-rep']);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages).toEqual(expect.arrayContaining(['shutting down', 'PKCS#11 pool closed', 'stopped']));
      expect(lines.join('\n')).not.toMatch(/"pin"\s*:\s*"\d/); // no PIN in the logs
      expect(stderr()).toBe('');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a bad configuration with the key named: exit 1', async () => {
    const config = path.join(dir, 'bad.yaml');
    fs.writeFileSync(config, 'limits: { max_document_bytes: plenty }\n');
    const result = await seald(['serve', '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`seald: ${config}: limits.max_document_bytes: expected a byte size such as 8388608, 8MiB or 256 MiB, got "plenty"\n`);
  });
});
