/**
 * The one rule of docs/architecture.md, read off the source: imports point down the layers only, and no two files
 * import each other through any chain (a cycle). It reads every relative import of src/ (type-only ones included:
 * a type is a dependency too) and fails naming each back arrow, so a new one cannot land unnoticed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

/** What each layer may import besides itself and src/errors.ts. Anything not listed is a back (or side) arrow. */
export const ALLOWED: Record<string, readonly string[]> = {
  pdf: [],
  crypto: [],
  pool: ['crypto'],
  engine: ['pdf', 'crypto'],
  audit: ['crypto'],
  auth: [],
  config: ['pool', 'auth', 'audit', 'crypto'],
  provision: ['pdf', 'crypto', 'pool', 'config'],
  metrics: ['crypto', 'pool'],
  // placement-of.ts: the proto Placement as the engine's, shared by the server and by a client that prepares its
  // documents itself (seald batch --prepare-locally); it needs the engine's placement types.
  rpc: ['gen', 'engine'],
  // The verification report for people (HTML): the engine's report, the seal images read back through pdf, and
  // provision's PNG encoder (png-encode.ts, zlib only) to embed decoded pixels as data: URIs.
  report: ['engine', 'pdf', 'provision'],
  server: ['rpc', 'gen', 'engine', 'pdf', 'crypto', 'pool', 'auth', 'audit', 'config', 'provision', 'metrics', 'report'],
  // The command line works over src/rpc; offline commands (verify, audit verify) run the engine in-process, and
  // `verify --html` renders the report for people in-process too.
  // `seald admin seal-image` draws a seal image offline with provision's seal-image.ts.
  cli: ['rpc', 'gen', 'engine', 'pdf', 'crypto', 'audit', 'config', 'report', 'provision'],
  gen: [],
};

/** The one arrow from cli into server: `seald serve` starts the server. */
const SERVE_COMMAND = 'src/cli/commands/serve.ts';
/** `seald admin` writes a seal's certificate and image onto its token: the one cli command that uses the pool. */
const ADMIN_COMMAND = 'src/cli/commands/admin.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Relative imports of one file, resolved to paths relative to the repository root. */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  return [...text.matchAll(IMPORT)].map((m) => relative(ROOT, resolve(dirname(file), m[1] ?? m[2]!)));
}

export function layerOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] !== 'src') return 'outside';
  return parts.length === 2 ? parts[1]!.replace(/\.ts$/, '') : parts[1]!;
}

export function backArrows(graph: Map<string, string[]>): string[] {
  const wrong: string[] = [];
  for (const [from, targets] of graph) {
    const layer = layerOf(from);
    for (const to of targets) {
      const target = layerOf(to);
      if (target === layer || target === 'errors') continue;
      if (layer === 'cli' && target === 'server' && from === SERVE_COMMAND) continue;
      if (layer === 'cli' && target === 'pool' && from === ADMIN_COMMAND) continue;
      if (!(ALLOWED[layer] ?? []).includes(target)) wrong.push(`${from} -> ${to} (${layer} may not import ${target})`);
    }
  }
  return wrong;
}

/** Every cycle found by a depth-first walk, each as the chain of files that closes it. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

function srcGraph(): Map<string, string[]> {
  const files = sourceFiles(SRC).filter((f) => !f.includes('/src/gen/'));
  return new Map(files.map((f) => [relative(ROOT, f), importsOf(f)]));
}

describe('the layers (docs/architecture.md)', () => {
  const graph = srcGraph();

  it('reads the imports it judges (the graph is not empty, and every layer of src/ is known)', () => {
    expect(graph.size).toBeGreaterThan(100);
    const unknown = [...graph.keys()].map(layerOf).filter((l) => l !== 'errors' && !(l in ALLOWED));
    expect(unknown).toEqual([]);
    expect(importsOf('src/x/a.ts', "import { b } from '../pdf/b.ts';\nimport type { C } from './c.ts';")).toEqual([
      'src/pdf/b.ts',
      'src/x/c.ts',
    ]);
  });

  it('has no import that points up or sideways', () => {
    expect(backArrows(graph)).toEqual([]);
  });

  it('would catch a back arrow (engine -> pool, cli -> server outside serve)', () => {
    const planted = new Map([
      ['src/engine/seal.ts', ['src/pool/pool.ts']],
      ['src/cli/commands/seal.ts', ['src/server/config.ts']],
      [SERVE_COMMAND, ['src/server/server.ts']],
    ]);
    expect(backArrows(planted)).toHaveLength(2);
  });

  it('has no import cycle between files', () => {
    expect(cycles(graph)).toEqual([]);
    expect(cycles(new Map([['a', ['b']], ['b', ['a']]]))).toEqual([['a', 'b', 'a']]);
  });

  it('keeps source files under ~400 lines unless the file says at its top why it is longer', () => {
    const long = [...graph.keys()]
      .map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }))
      .filter(({ text }) => text.split('\n').length > 420 && !/Longer than 400 lines because/i.test(text.slice(0, 2000)))
      .map(({ file }) => file);
    expect(long).toEqual([]);
  });
});
