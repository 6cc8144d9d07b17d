#!/usr/bin/env node
// The `seald` command. Runs the compiled build (dist/, `npm run build`, made by `npm install`) when it was built from
// exactly the sources in src/, else the TypeScript sources through tsx's loader, so an edit that was not rebuilt
// never runs stale code (bin/build-info.mjs says how that is decided). SEALD_RUN_FROM_SOURCE=1 forces the sources.
// dist/ saves tsx's loader: about 35 MiB of RSS (its hooks run on a thread of their own) and its start-up time.
//
// Which one ran is said on stderr only with SEALD_LOG_LEVEL=debug or trace: stdout is parsed by tests and scripts,
// and both paths run the same code, so at other levels the notice would be noise on every command.
import { fileURLToPath } from 'node:url';
import { chooseEntry } from './build-info.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { entry, reason } = chooseEntry(root);
if (['debug', 'trace'].includes(process.env.SEALD_LOG_LEVEL ?? '')) {
  process.stderr.write(`seald: running ${entry === 'dist' ? 'dist/ (compiled)' : 'src/ through tsx'}: ${reason}\n`);
}
let main;
if (entry === 'dist') {
  // Stack traces name src/*.ts lines, through the source maps the build writes next to each module.
  process.setSourceMapsEnabled(true);
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Let stdout/stderr drain and the event loop end on its own; if a stray handle keeps it alive, exit anyway.
setTimeout(() => process.exit(code), 2000).unref();
