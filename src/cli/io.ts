/** What a CLI command may touch of the process: its output streams and environment (tests pass their own). */
import * as grpc from '@grpc/grpc-js';
import { SealdError } from '../errors.ts';
import { statusName } from '../rpc/status.ts';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Standard input (for --pin-stdin); tests pass their own. */
  stdin?: NodeJS.ReadableStream;
}

export const processIo: CliIo = {
  stdin: process.stdin,
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
};

/** A command line that cannot be run as written: exit status 2, with a pointer to the help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** One line for stderr: `NOT_FOUND: unknown seal "x"` for a gRPC status, the message otherwise. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error && typeof (error as Partial<grpc.ServiceError>).code === 'number' && 'details' in error) {
    const status = error as grpc.ServiceError;
    // grpc-js appends an empty "Resolution note: " to connection failures; it says nothing.
    const details = status.details.replace(/\s*Resolution note:\s*$/, '');
    return `${statusName(status.code)}: ${details}`;
  }
  if (error instanceof SealdError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
