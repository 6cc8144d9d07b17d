/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time by area (seald's own modules,
 * grpc-js, protobuf-es, pkijs/asn1js, Node internals, GC, idle) and the top functions by self time.
 *
 *   npx tsx bench/profile.ts bench/out/profile/CPU.….cpuprofile
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Which part of the program a frame belongs to. */
function area(url: string, functionName: string, root: string): string {
  if (url === '') {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return '(garbage collector)';
    if (functionName === '(program)') return '(program: native, not JS)';
    return '(native / builtins)';
  }
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (file.startsWith('node:')) return `node:${file.slice(5).split('/')[0]}`;
  const modules = file.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = file.slice(modules + 'node_modules/'.length).split('/');
    return `npm ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const relative = path.relative(root, file);
  return relative.startsWith('..') ? file : relative;
}

/** Line numbers of seald's own files are those of tsx's transformed code, which do not match the source: left out. */
function lineSuffix(where: string, url: string, lineNumber: number): string {
  return url === '' || where.startsWith('src/') ? '' : `:${lineNumber + 1}`;
}

/**
 * `window`: [start, end] in microseconds of the monotonic clock (process.hrtime, which V8's profile timestamps
 * share on Linux), to keep only the samples taken while the bench's client was running (no start-up, no shutdown).
 */
export async function summariseProfile(file: string, root: string, window?: [number, number], top = 20): Promise<string> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const self = new Map<number, number>();
  /** Inclusive time of seald's own functions (each counted once per sample, however deep the recursion). */
  const inclusive = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window !== undefined && (at < window[0] || at > window[1])) return;
    self.set(id, (self.get(id) ?? 0) + delta);
    const seen = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      const { functionName, url } = byId.get(node)!.callFrame;
      const where = area(url, functionName, root);
      if (!where.startsWith('src/') && !where.startsWith('dist/')) continue;
      const key = `${functionName || '(anonymous)'} ${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
    }
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const busy = total - [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);

  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = area(url, functionName, root);
    byArea.set(where, (byArea.get(where) ?? 0) + micros);
    const name = `${functionName || '(anonymous)'} ${where}${lineSuffix(where, url, lineNumber)}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  }
  const pct = (micros: number, of: number): string => `${((micros / of) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`wall ${(total / 1e6).toFixed(2)} s sampled, busy ${(busy / 1e6).toFixed(2)} s (${pct(busy, total).trim()}); shares below are of busy time`];
  lines.push('self time by area:');
  for (const [name, micros] of [...byArea].filter(([n]) => n !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 14)) {
    lines.push(`  ${pct(micros, busy)}  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  }
  lines.push(`top ${top} functions by self time:`);
  for (const [name, micros] of [...byFunction].filter(([n]) => !n.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${pct(micros, busy)}  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  }
  lines.push(`seald functions by inclusive time (the function and all it calls):`);
  for (const [name, micros] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${pct(micros, busy)}  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: tsx bench/profile.ts FILE.cpuprofile');
  console.log(await summariseProfile(file, path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')));
}
