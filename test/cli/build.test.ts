/**
 * The compiled build (scripts/build.mjs, tsconfig.build.json) and bin/seald.mjs's choice between it and the
 * TypeScript sources: dist/ runs only when it was built from exactly the sources in src/, so an edit that was not
 * rebuilt never runs stale code. The choice is checked on a small tree of its own; the real build runs on a copy of
 * this checkout (src/, bin/, the tsconfigs, this node_modules), which is then run through bin/seald.mjs both ways.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_INFO, chooseEntry, sourceFingerprint } from '../../bin/build-info.mjs';
import { run } from '../support/run.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** The environment of a child seald: nothing inherited that changes which entry runs or what it says. */
const ENV = { ...process.env, SEALD_RUN_FROM_SOURCE: '', SEALD_LOG_LEVEL: '', SEALD_CONFIG: '' };

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Record `root`'s sources as built, as scripts/build.mjs does after a successful tsc. */
function markBuilt(root: string): void {
  fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(root, BUILD_INFO), JSON.stringify({ fingerprint: sourceFingerprint(root) }));
}

describe('which entry bin/seald.mjs runs', () => {
  let root: string;
  beforeAll(() => {
    root = tempDir('seald-entry-');
    fs.mkdirSync(path.join(root, 'src/cli'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src/cli/main.ts'), 'export const a = 1;\n');
    fs.writeFileSync(path.join(root, 'src/errors.ts'), 'export const b = 2;\n');
    fs.writeFileSync(path.join(root, 'tsconfig.json'), '{}\n');
    fs.writeFileSync(path.join(root, 'tsconfig.build.json'), '{}\n');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const entry = (env: NodeJS.ProcessEnv = {}) => chooseEntry(root, env).entry;
  /** Apply `change`, expect the sources to run, then rebuild and expect dist/ again. */
  function expectStaleAfter(change: () => void): void {
    markBuilt(root);
    expect(entry()).toBe('dist');
    change();
    expect(chooseEntry(root, {})).toEqual({ entry: 'source', reason: 'src/ changed since the last build (npm run build)' });
    markBuilt(root);
    expect(entry()).toBe('dist');
  }

  it('runs the sources when there is no complete build, and when SEALD_RUN_FROM_SOURCE=1', () => {
    expect(chooseEntry(root, {})).toEqual({ entry: 'source', reason: 'no complete build in dist/ (npm run build)' });
    markBuilt(root);
    expect(entry()).toBe('dist');
    expect(chooseEntry(root, { SEALD_RUN_FROM_SOURCE: '1' })).toEqual({ entry: 'source', reason: 'SEALD_RUN_FROM_SOURCE=1' });
    expect(entry({ SEALD_RUN_FROM_SOURCE: '' })).toBe('dist');
  });

  it('runs the sources once a source file is newer than the build, even with the same size', () => {
    const file = path.join(root, 'src/cli/main.ts');
    expectStaleAfter(() => fs.writeFileSync(file, 'export const a = 3;\n'));
    expectStaleAfter(() => {
      const later = new Date(fs.statSync(file).mtimeMs + 1000);
      fs.utimesSync(file, later, later);
    });
  });

  it('runs the sources when a file was restored with an older mtime, added, deleted or renamed', () => {
    const file = path.join(root, 'src/errors.ts');
    expectStaleAfter(() => fs.utimesSync(file, new Date('2020-01-01'), new Date('2020-01-01')));
    expectStaleAfter(() => fs.writeFileSync(path.join(root, 'src/cli/extra.ts'), 'export {};\n'));
    expectStaleAfter(() => fs.rmSync(path.join(root, 'src/cli/extra.ts')));
    expectStaleAfter(() => fs.renameSync(file, path.join(root, 'src/errs.ts')));
  });

  it('runs the sources when the compiler options changed', () => {
    expectStaleAfter(() => fs.writeFileSync(path.join(root, 'tsconfig.build.json'), '{ "compilerOptions": {} }\n'));
  });

  it('runs dist/ where there are no sources to be newer (the container image)', () => {
    const image = tempDir('seald-image-');
    try {
      fs.mkdirSync(path.join(image, 'dist'));
      fs.writeFileSync(path.join(image, BUILD_INFO), JSON.stringify({ fingerprint: 'from the build stage' }));
      expect(chooseEntry(image, {})).toEqual({ entry: 'dist', reason: 'no src/ next to dist/' });
    } finally {
      fs.rmSync(image, { recursive: true, force: true });
    }
  });
});

describe('the build (npm run build) and bin/seald.mjs on a copy of this checkout', () => {
  let root: string;
  const node = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, args, { cwd: root, env: { ...ENV, ...env } });
  const seald = (args: string[], env: NodeJS.ProcessEnv = {}) => node([path.join(root, 'bin/seald.mjs'), ...args], env);

  beforeAll(() => {
    root = tempDir('seald-build-');
    for (const entry of ['src', 'bin', 'scripts/build.mjs', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) {
      fs.cpSync(path.join(ROOT, entry), path.join(root, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('compiles src/ to dist/ and seald runs it, silently unless the log level is debug', async () => {
    const build = await node(['scripts/build.mjs']);
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
    expect(fs.existsSync(path.join(root, 'dist/cli/main.js'))).toBe(true);
    // Relative imports were rewritten to .js: nothing in dist/ still names a .ts module.
    expect(fs.readFileSync(path.join(root, 'dist/cli/main.js'), 'utf8')).toMatch(/import\("\.\/commands\/serve\.js"\)/);

    expect(await seald(['--version'])).toEqual({ code: 0, stdout: Buffer.from(`seald ${VERSION}\n`), stderr: '' });
    const debug = await seald(['--version'], { SEALD_LOG_LEVEL: 'debug' });
    expect(debug.stdout.toString()).toBe(`seald ${VERSION}\n`);
    expect(debug.stderr).toBe('seald: running dist/ (compiled): dist/ is current\n');
    const help = await seald(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toMatch(/^Usage: seald <command>/);
  });

  it('writes source maps, so stack traces of the compiled code name src/*.ts lines', async () => {
    const script = `process.setSourceMapsEnabled(true);
      const { resolvePageSpec } = await import(${JSON.stringify(path.join(root, 'dist/pdf/page-spec.js'))});
      try { resolvePageSpec('no such pages', 3); } catch (error) { console.log(error.stack); }`;
    const result = await node(['--input-type=module', '-e', script]);
    expect(result.stdout.toString()).toContain(`at resolvePageSpec (${path.join(root, 'src/pdf/page-spec.ts')}:`);
  });

  it('runs the sources through tsx once a source is edited, with the same output', async () => {
    fs.appendFileSync(path.join(root, 'src/cli/main.ts'), '\n// edited after the build\n');
    expect(await seald(['--version'])).toEqual({ code: 0, stdout: Buffer.from(`seald ${VERSION}\n`), stderr: '' });
    const debug = await seald(['--version'], { SEALD_LOG_LEVEL: 'debug' });
    expect(debug.stderr).toBe('seald: running src/ through tsx: src/ changed since the last build (npm run build)\n');
  });

  it('leaves no build info when tsc fails, so seald keeps running the sources', async () => {
    fs.appendFileSync(path.join(root, 'src/errors.ts'), '\nexport const broken: number = "not a number";\n');
    // Only the broken module this time: a whole second compile would add seconds and check nothing more.
    const config = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as object;
    fs.writeFileSync(path.join(root, 'tsconfig.build.json'), JSON.stringify({ ...config, include: ['src/errors.ts'] }));
    const build = await node(['scripts/build.mjs']);
    expect(build.code).not.toBe(0);
    expect(build.stdout.toString()).toContain('src/errors.ts');
    expect(build.stderr).toContain('tsc failed');
    expect(fs.existsSync(path.join(root, BUILD_INFO))).toBe(false);
    const debug = await seald(['--version'], { SEALD_LOG_LEVEL: 'debug' });
    expect(debug.stdout.toString()).toBe(`seald ${VERSION}\n`);
    expect(debug.stderr).toBe('seald: running src/ through tsx: no complete build in dist/ (npm run build)\n');
  });

  it('as `prepare`, skips the build where TypeScript is not installed (npm install --omit=dev); as `build`, fails', async () => {
    fs.rmSync(path.join(root, 'node_modules'));
    try {
      const prepare = await node(['scripts/build.mjs'], { npm_lifecycle_event: 'prepare' });
      expect(prepare).toMatchObject({ code: 0, stderr: 'seald: not building dist/ (TypeScript is not installed); seald runs from src/ through tsx\n' });
      const build = await node(['scripts/build.mjs'], { npm_lifecycle_event: 'build' });
      expect(build).toMatchObject({ code: 1, stderr: 'seald build: TypeScript is not installed\n' });
    } finally {
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
    }
  });
});
