/**
 * The `seald` command: `serve` runs the server; `seals`, `seal` and `batch` are clients of a running one.
 * Exit status: 0 success, 1 failure (the server's status on stderr, e.g. `seald: NOT_FOUND: unknown seal "x"`),
 * 2 a command line that cannot be run as written.
 */
import { readFileSync } from 'node:fs';
import {
  ADMIN_HELP,
  AUDIT_HELP,
  BATCH_HELP,
  HEALTH_HELP,
  LOCATE_HELP,
  MAIN_HELP,
  POOL_HELP,
  ROLLBACK_HELP,
  SEAL_HELP,
  SEALS_HELP,
  LTV_HELP,
  SERVE_HELP,
  TIMESTAMP_HELP,
  VERIFY_HELP,
} from './help.ts';
import { describeFailure, EXIT_FAILURE, EXIT_USAGE, processIo, UsageError, type CliIo } from './io.ts';

type Run = (args: string[], io: CliIo) => Promise<number>;

interface Command {
  /** Loaded on demand: client commands never load the PKCS#11 pool, help loads neither. */
  load(): Promise<Run>;
  help: string;
}

const COMMANDS: Record<string, Command> = {
  serve: { load: async () => (await import('./commands/serve.ts')).serveCommand, help: SERVE_HELP },
  seals: { load: async () => (await import('./commands/seals.ts')).sealsCommand, help: SEALS_HELP },
  seal: { load: async () => (await import('./commands/seal.ts')).sealCommand, help: SEAL_HELP },
  rollback: { load: async () => (await import('./commands/rollback.ts')).rollbackCommand, help: ROLLBACK_HELP },
  audit: { load: async () => (await import('./commands/audit.ts')).auditCommand, help: AUDIT_HELP },
  health: { load: async () => (await import('./commands/health.ts')).healthCommand, help: HEALTH_HELP },
  locate: { load: async () => (await import('./commands/locate.ts')).locateCommand, help: LOCATE_HELP },
  verify: { load: async () => (await import('./commands/verify.ts')).verifyCommand, help: VERIFY_HELP },
  batch: { load: async () => (await import('./commands/batch.ts')).batchCommand, help: BATCH_HELP },
  timestamp: { load: async () => (await import('./commands/timestamp.ts')).timestampCommand, help: TIMESTAMP_HELP },
  ltv: { load: async () => (await import('./commands/timestamp.ts')).ltvCommand, help: LTV_HELP },
  pool: { load: async () => (await import('./commands/pool.ts')).poolCommand, help: POOL_HELP },
  admin: { load: async () => (await import('./commands/admin.ts')).adminCommand, help: ADMIN_HELP },
};

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout(MAIN_HELP);
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`seald ${version()}\n`);
    return 0;
  }
  if (name === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      io.stdout(MAIN_HELP);
      return 0;
    }
    const command = COMMANDS[topic];
    if (command === undefined) return usageFailure(io, new UsageError(`unknown command "${topic}"`));
    io.stdout(command.help);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) return usageFailure(io, new UsageError(`unknown command "${name}"`));
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.help);
    return 0;
  }
  try {
    const run = await command.load();
    return await run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      return usageFailure(io, error instanceof UsageError ? error : new UsageError((error as Error).message, name), name);
    }
    io.stderr(`seald: ${describeFailure(error)}\n`);
    return EXIT_FAILURE;
  }
}

function usageFailure(io: CliIo, error: UsageError, command = error.command): number {
  const help = command === undefined ? 'seald --help' : `seald help ${command}`;
  io.stderr(`seald: ${error.message}\n(see \`${help}\`)\n`);
  return EXIT_USAGE;
}

/** node:util parseArgs reports unknown options and missing values with these codes. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

function version(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
