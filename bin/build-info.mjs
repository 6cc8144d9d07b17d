// Is dist/ (the compiled build, `npm run build`) current with src/? Shared by bin/seald.mjs, which runs dist/ only
// when it is, and scripts/build.mjs, which records what it compiled.
//
// The build writes dist/.build-info.json holding a fingerprint of its inputs: every file under src/ (relative path,
// size, mtime) and the two tsconfig files. bin/seald.mjs recomputes the fingerprint (one walk of src/, ~150 stats,
// about a millisecond) and runs dist/ only on an exact match. Equality rather than "is any source newer than the
// build" because it also catches a deleted or renamed file and a file restored with an older mtime (cp -p, tar,
// rsync -t, git stash pop onto an old timestamp); it errs the safe way: touching a file without changing it, or a git
// checkout, also counts as a change and sends seald back to the sources until the next build. Content hashes would
// cost reading all of src/ (1.3 MB) on every command for no case that matters: an edit that keeps size and the
// nanosecond mtime does not happen by accident.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const BUILD_INFO = path.join('dist', '.build-info.json');
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json'];

/** The fingerprint of the build's inputs under `root`, or undefined when there is no src/ (an image with dist/ only). */
export function sourceFingerprint(root) {
  const src = path.join(root, 'src');
  if (!fs.existsSync(src)) return undefined;
  const hash = createHash('sha256');
  const entries = fs.readdirSync(src, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  const files = entries.map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
  for (const file of [...files, ...CONFIGS]) {
    const stat = fs.statSync(path.join(root, file), { bigint: true, throwIfNoEntry: false });
    hash.update(`${file.split(path.sep).join('/')}\0${stat?.size ?? '-'}\0${stat?.mtimeNs ?? '-'}\n`);
  }
  return hash.digest('hex');
}

/**
 * Which entry point runs: 'dist' when dist/ was built from exactly the sources now in src/ (or there is no src/ to
 * be newer than it), else 'source' (tsx). SEALD_RUN_FROM_SOURCE=1 forces 'source'.
 */
export function chooseEntry(root, env = process.env) {
  if (env.SEALD_RUN_FROM_SOURCE === '1') return { entry: 'source', reason: 'SEALD_RUN_FROM_SOURCE=1' };
  let recorded;
  try {
    recorded = JSON.parse(fs.readFileSync(path.join(root, BUILD_INFO), 'utf8')).fingerprint;
  } catch {
    return { entry: 'source', reason: 'no complete build in dist/ (npm run build)' };
  }
  const current = sourceFingerprint(root);
  if (current === undefined) return { entry: 'dist', reason: 'no src/ next to dist/' };
  if (current !== recorded) return { entry: 'source', reason: 'src/ changed since the last build (npm run build)' };
  return { entry: 'dist', reason: 'dist/ is current' };
}
