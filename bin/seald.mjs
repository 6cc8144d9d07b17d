#!/usr/bin/env node
// The `seald` command. seald is TypeScript run directly (no build step): register tsx's ESM loader, then load the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Let stdout/stderr drain and the event loop end on its own; if a stray handle keeps it alive, exit anyway.
setTimeout(() => process.exit(code), 2000).unref();
