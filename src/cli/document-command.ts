/**
 * The shape every "document in, document out" client command shares (rollback, timestamp, ltv): `CMD IN.pdf -o
 * OUT.pdf [options]`, the server options, a deadline, the answer streamed into a temp file that is renamed into place
 * only when the server confirmed and the sizes agree, then a summary as text or JSON.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import type * as grpc from '@grpc/grpc-js';
import { channelCredentials, channelTarget } from './client.ts';
import { UsageError, type CliIo } from './io.ts';
import { AtomicOutputFile } from './output-file.ts';
import { clientTls, serverAddresses, SERVER_OPTION } from './commands/server-option.ts';
import { documentPassword, PASSWORD_OPTION } from './password-option.ts';

export interface CallResult {
  documentSize: bigint;
  /** First word of the human summary: "time-stamped", "rolled back"… */
  headline: string;
  json: Record<string, unknown>;
  text: (json: Record<string, unknown>) => string;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export async function documentCommand<C extends { close(): void }>(
  args: string[],
  io: CliIo,
  command: string,
  extra: Record<string, { type: 'string' } | { type: 'boolean'; default: boolean }>,
  connect: (target: string, credentials: grpc.ChannelCredentials) => C,
  call: (
    client: C,
    input: string,
    size: number,
    values: Values,
    sink: (chunk: Uint8Array) => Promise<void>,
    options: grpc.CallOptions,
    password: string,
  ) => Promise<CallResult>,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { output: { type: 'string', short: 'o' }, timeout: { type: 'string' }, json: { type: 'boolean', default: false }, ...extra, ...SERVER_OPTION, ...PASSWORD_OPTION },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one input file', command);
  const input = positionals[0]!;
  const output = values.output;
  if (typeof output !== 'string' || output === '') throw new UsageError('-o/--output is required', command);
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError(`--timeout: expected a positive number, got "${String(values.timeout)}"`, command);
  const password = await documentPassword(values, command);
  const stat = await fs.promises.stat(input).catch(() => undefined);
  if (stat === undefined || !stat.isFile()) throw new Error(`cannot read ${input}: no such file`);

  const client = connect(
    await channelTarget(serverAddresses(values.server as string[] | undefined, io.env)),
    channelCredentials(clientTls(values as { 'tls-ca'?: string; 'tls-cert'?: string; 'tls-key'?: string }, io.env)),
  );
  const destination = await AtomicOutputFile.create(output);
  try {
    const result = await call(client, input, stat.size, values, (chunk) => destination.write(chunk), timeout === undefined ? {} : { deadline: new Date(Date.now() + timeout * 1000) }, password);
    if (BigInt(destination.bytesWritten) !== result.documentSize) {
      throw new Error(`received ${destination.bytesWritten} bytes but the server reports ${result.documentSize}: not writing ${output}`);
    }
    await destination.commit();
    const json = { input, output, ...result.json, documentSize: Number(result.documentSize) };
    io.stdout(values.json === true ? `${JSON.stringify(json)}\n` : `${result.headline} ${input} -> ${output} (${json.documentSize} bytes)\n${result.text(json)}`);
    return 0;
  } finally {
    await destination.abandon();
    client.close();
  }
}

