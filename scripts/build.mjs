// `npm run build` (and `prepare`, so `npm install` leaves a fresh build): compiles src/ to dist/ with
// tsconfig.build.json and records what it compiled in dist/.build-info.json (see bin/build-info.mjs).
//
// dist/ is emptied first so no module of a deleted source survives. The fingerprint is taken before compiling: a
// source edited during the build then no longer matches it, and bin/seald.mjs runs the sources. The build info is
// written last, only when tsc succeeded, so a failed or interrupted build leaves no build info and seald runs the
// sources. As `prepare`, a checkout that cannot build (installed with --omit=dev, so no TypeScript; or no src/, as in
// the image's dependency layer) is not an error: seald runs from the sources through tsx, as without a build.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_INFO, sourceFingerprint } from '../bin/build-info.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const asPrepare = process.env.npm_lifecycle_event === 'prepare';

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}
const fingerprint = sourceFingerprint(root);
const missing = tsc === undefined ? 'TypeScript is not installed' : fingerprint === undefined ? 'there is no src/' : undefined;
if (missing !== undefined) {
  if (asPrepare) {
    process.stderr.write(`seald: not building dist/ (${missing}); seald runs from src/ through tsx\n`);
    process.exit(0);
  }
  process.stderr.write(`seald build: ${missing}\n`);
  process.exit(1);
}

fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  process.stderr.write('seald build: tsc failed; dist/ is incomplete and seald runs from src/ until a build succeeds\n');
  process.exit(result.status ?? 1);
}
fs.writeFileSync(path.join(root, BUILD_INFO), `${JSON.stringify({ fingerprint, builtAt: new Date().toISOString() })}\n`);
