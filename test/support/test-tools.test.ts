/**
 * scripts/test-tools.mjs, the one list of Debian tools the tests run and `npm test`'s check for them: the list covers
 * every program and system file the tests use, names the package that really ships each (dpkg says), and a missing
 * tool stops `npm test` with the line to run (or, as root, plans one apt-get install).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOOLS, missingTools, onPath, planTestTools, type TestTool } from '../../scripts/test-tools.mjs';
import { run } from './run.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/test-tools.mjs');

/** Programs the tests' code spawns that are deliberately not in the list, and why. */
const NOT_TEST_TOOLS: Record<string, string> = {
  'apt-get': 'src/server/defaults/embedded.ts installs SoftHSM with it; the tests turn that off (allowInstall)',
  '/usr/bin/time': "bench/measure.ts's RSS measurement: the benchmark's, the tests import only its statistics",
};

/** The first argument of every spawn-like call whose program is a string literal: run('qpdf', …), spawn('openssl', …). */
function spawnedCommands(source: string): string[] {
  const calls = source.matchAll(/\b(?:run|runOk|spawn|spawnSync|execFile|execFileSync)\(\s*'([^']+)'/g);
  return [...calls].map((match) => match[1]!);
}

/** Absolute system paths the source names as string literals: fonts, the SoftHSM module… */
function systemPaths(source: string): string[] {
  return [...source.matchAll(/['"`](\/usr\/(?:lib|share)\/[^'"`\s]+)['"`]/g)].map((match) => match[1]!);
}

/** test/ and every file it imports, followed through relative imports (bench/ and src/ included). */
function testSources(): Map<string, string> {
  const sources = new Map<string, string>();
  const pending = fs
    .readdirSync(path.join(ROOT, 'test'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join(ROOT, 'test', file));
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (sources.has(file) || !fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    sources.set(file, text);
    for (const [, specifier] of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+\.(?:ts|mjs))'/g)) {
      pending.push(path.resolve(path.dirname(file), specifier!));
    }
  }
  return sources;
}

/** What the sources use that the list does not name: commands and system paths. */
function uncovered(sources: Iterable<[string, string]>, tools: TestTool[]): string[] {
  const commands = new Set(tools.flatMap((tool) => tool.commands));
  const files = tools.flatMap((tool) => tool.files);
  const out = new Set<string>();
  for (const [file, text] of sources) {
    const where = path.relative(ROOT, file);
    for (const command of spawnedCommands(text)) {
      if (!commands.has(command) && !(command in NOT_TEST_TOOLS)) out.add(`${where}: runs ${command}`);
    }
    // src/ names candidate module paths of other distributions; only what the tests and bench read must be there.
    if (where.startsWith('src/')) continue;
    for (const used of systemPaths(text)) {
      if (!files.some((listed) => used === listed || used.startsWith(`${listed}/`))) out.add(`${where}: reads ${used}`);
    }
  }
  return [...out].sort();
}

describe('the test tool list', () => {
  const sources = testSources();

  it('names every program the tests run and every system file they read', () => {
    const all = [...sources.values()];
    // The scan sees what it must: a wrapper's program, a spawned one, bench code the tests import.
    expect(all.flatMap(spawnedCommands)).toEqual(expect.arrayContaining(['qpdf', 'pdfsig', 'openssl', 'softhsm2-util', 'certutil']));
    expect([...sources.keys()].map((f) => path.relative(ROOT, f))).toEqual(expect.arrayContaining(['bench/corpus.ts', 'test/pool/softhsm.ts']));
    expect(uncovered(sources, TEST_TOOLS)).toEqual([]);
  });

  it('reports a program or a file the list does not name', () => {
    // Assembled, so that this file's own scan does not find them.
    const call = 'runOk';
    const usr = '/usr';
    const source = `await ${call}('mutool', ['sign', file]);\nconst font = '${usr}/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf';\n`;
    expect(uncovered([[path.join(ROOT, 'test/x.ts'), source]], TEST_TOOLS)).toEqual([
      'test/x.ts: reads /usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf',
      'test/x.ts: runs mutool',
    ]);
    const withoutQpdf = TEST_TOOLS.filter((tool) => tool.package !== 'qpdf');
    expect(uncovered(sources, withoutQpdf).filter((line) => line.endsWith('runs qpdf')).length).toBeGreaterThan(3);
  });

  it('names the Debian package that ships each program and file (dpkg -S)', async () => {
    // usrmerge: dpkg records some programs under /bin, some under /usr/bin; ask for both, in one dpkg call (each reads
    // the whole file database).
    const paths = (tool: TestTool) => [...tool.commands.flatMap((c) => [`/usr/bin/${c}`, `/bin/${c}`]), ...tool.files];
    const { stdout } = await run('dpkg', ['-S', ...TEST_TOOLS.flatMap(paths)]);
    const owners = new Map<string, string[]>(); // "pkg1, pkg2: /path"
    for (const line of stdout.toString('utf8').split('\n').filter((l) => l !== '')) {
      const at = line.lastIndexOf(': ');
      owners.set(line.slice(at + 2), line.slice(0, at).split(', ').map((p) => p.split(':')[0]!));
    }
    for (const tool of TEST_TOOLS) {
      for (const used of [...tool.commands, ...tool.files]) {
        const found = paths(tool).filter((p) => p === used || p.endsWith(`/${used}`)).flatMap((p) => owners.get(p) ?? []);
        expect(found, used).toContain(tool.package);
      }
    }
  });

  it('is the only list: .ci/run and `npm test` call the script, and .ci/run names no package itself', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(manifest.scripts.pretest).toBe('node scripts/test-tools.mjs');
    const ci = fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    expect(ci).toMatch(/^node scripts\/test-tools\.mjs$/m);
    const commands = ci.split('\n').filter((line) => !line.startsWith('#'));
    for (const tool of TEST_TOOLS) expect(commands.join('\n'), tool.package).not.toContain(tool.package);
    expect(ci).not.toMatch(/apt-get/);
  });
});

describe('npm test on a machine without qpdf', () => {
  let bin: string;
  beforeAll(async () => {
    // A PATH holding every listed program but qpdf, each linked to the real one.
    bin = await mkdtemp(path.join(tmpdir(), 'seald-test-tools-'));
    for (const command of TEST_TOOLS.flatMap((tool) => tool.commands).filter((c) => c !== 'qpdf')) {
      const real = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, command)).find((file) => onPath(path.basename(file), path.dirname(file)));
      expect(real, command).toBeDefined();
      await symlink(real!, path.join(bin, command));
    }
    fs.chmodSync(bin, 0o755); // readable by the unprivileged user below
  });
  afterAll(() => rm(bin, { recursive: true, force: true }));

  it('finds qpdf missing, and as root would run apt-get update and one apt-get install of it', () => {
    expect(onPath('qpdf', bin)).toBe(false);
    expect(onPath('pdfsig', bin)).toBe(true);
    const missing = missingTools(TEST_TOOLS, bin);
    expect(missing).toEqual([{ package: 'qpdf', missing: ['qpdf'] }]);
    expect(planTestTools(missing, { isRoot: true, hasAptGet: true })).toEqual({
      action: 'install',
      packages: ['qpdf'],
      commands: [['apt-get', 'update'], ['apt-get', 'install', '-y', 'qpdf']],
    });
    expect(planTestTools(missing, { isRoot: true, hasAptGet: false }).action).toBe('stop');
    expect(planTestTools([], { isRoot: true, hasAptGet: true })).toEqual({ action: 'none' });
  });

  it('stops before the tests as a user who cannot install, with the one line to run', () => {
    // As root, run it as nobody: root would install instead of stopping.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath];
    const result = spawnSync(asUser[0]!, [...asUser.slice(1), SCRIPT], { env: { PATH: bin }, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('npm test needs qpdf: run `sudo apt-get update && sudo apt-get install -y qpdf`\n');
  });

  it('says nothing and installs nothing when every tool is there', () => {
    const result = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
    expect([result.status, result.stdout, result.stderr]).toEqual([0, '', '']);
  });
});
