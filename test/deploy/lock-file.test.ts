/**
 * The lock files are complete, so `npm ci` (.ci/run, deploy/Dockerfile, the README) accepts them on any platform and a
 * later `npm install` has nothing to add. npm 11 once left out the other platforms' optional @bufbuild/buf-* binaries:
 * `npm ci` then refused the file and every `npm install` rewrote it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface LockFile {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as T;
}

/**
 * Where node would find `name` from the package at `at`: its own node_modules, then each enclosing one, as npm lays
 * them out ("node_modules/a/node_modules/b" is b nested under a).
 */
function resolves(lock: LockFile, at: string, name: string): boolean {
  let base = at;
  for (;;) {
    if (`${base === '' ? '' : `${base}/`}node_modules/${name}` in lock.packages) return true;
    if (base === '') return false;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

/** Every declared dependency (optional ones included: npm ci wants all platforms') that has no entry: "from → name". */
function unresolved(lock: LockFile): string[] {
  const out: string[] = [];
  for (const [at, entry] of Object.entries(lock.packages)) {
    const names = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      // Only the root's dev dependencies are installed.
      ...(at === '' ? Object.keys(entry.devDependencies ?? {}) : []),
    ];
    for (const name of names) if (!resolves(lock, at, name)) out.push(`${at || '(root)'} → ${name}`);
  }
  return out;
}

describe.each(['package-lock.json', 'bench/package-lock.json'])('%s', (file) => {
  const lock = readJson<LockFile>(file);
  const manifest = readJson<LockEntry>(path.join(path.dirname(file), 'package.json'));

  it('was written for package.json as it stands', () => {
    expect(lock.lockfileVersion).toBe(3);
    const root = lock.packages['']!;
    expect(root.dependencies ?? {}).toEqual(manifest.dependencies ?? {});
    expect(root.devDependencies ?? {}).toEqual(manifest.devDependencies ?? {});
  });

  it('records every dependency, every platform\'s optional ones included', () => {
    expect(Object.keys(lock.packages).length).toBeGreaterThan(50);
    expect(unresolved(lock)).toEqual([]);
  });
});

describe('the completeness check', () => {
  it('finds an optional platform package left out, and a nested one resolved from its parent', () => {
    const lock = readJson<LockFile>('package-lock.json');
    const buf = lock.packages['node_modules/@bufbuild/buf']!;
    expect(Object.keys(buf.optionalDependencies ?? {})).toContain('@bufbuild/buf-darwin-arm64');
    const { ['node_modules/@bufbuild/buf-darwin-arm64']: _left, ...rest } = lock.packages;
    expect(unresolved({ ...lock, packages: rest })).toEqual(['node_modules/@bufbuild/buf → @bufbuild/buf-darwin-arm64']);
    const nested: LockFile = {
      lockfileVersion: 3,
      packages: { '': { dependencies: { a: '1' } }, 'node_modules/a': { dependencies: { b: '1' } }, 'node_modules/a/node_modules/b': {} },
    };
    expect(unresolved(nested)).toEqual([]);
    delete nested.packages['node_modules/a/node_modules/b'];
    expect(unresolved(nested)).toEqual(['node_modules/a → b']);
  });
});
