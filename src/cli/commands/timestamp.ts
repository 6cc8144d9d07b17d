/**
 * `seald timestamp IN.pdf -o OUT.pdf` (a document time-stamp, RFC 3161 /DocTimeStamp) and `seald ltv IN.pdf -o OUT.pdf
 * [--timestamp]` (validation data, PAdES B-LT; with --timestamp also a document time-stamp, B-LTA), through a server.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import {
  LtvHeaderSchema,
  LtvRequestSchema,
  TimestampHeaderSchema,
  TimestampRequestSchema,
  TimestampService,
  type LtvSummary,
  type TimestampSummary,
} from '../../gen/seald/v1/timestamp_pb.ts';
import { grpcClientConstructor } from '../../server/grpc-service.ts';
import { channelCredentials, channelTarget, UPLOAD_CHUNK_BYTES } from '../client.ts';
import { documentCall } from '../document-call.ts';
import { UsageError, type CliIo } from '../io.ts';
import { AtomicOutputFile } from '../output-file.ts';
import { clientTls, serverAddresses, SERVER_OPTION } from './server-option.ts';

const TimestampClient = grpcClientConstructor(TimestampService);
type Client = InstanceType<typeof TimestampClient>;

export function timestampCommand(args: string[], io: CliIo): Promise<number> {
  return documentCommand(args, io, 'timestamp', { field: { type: 'string' } }, async (client, input, size, values, sink, options) => {
    const header = create(TimestampHeaderSchema, { fieldName: typeof values.field === 'string' ? values.field : '', documentSize: BigInt(size) });
    const summary: TimestampSummary = await documentCall(
      client.timestamp(new grpc.Metadata(), options),
      {
        header: create(TimestampRequestSchema, { payload: { case: 'header', value: header } }),
        chunk: (value) => create(TimestampRequestSchema, { payload: { case: 'chunk', value } }),
      },
      fs.createReadStream(input, { highWaterMark: UPLOAD_CHUNK_BYTES }),
      sink,
    );
    return {
      documentSize: summary.documentSize,
      json: {
        fieldName: summary.fieldName,
        revision: summary.revision,
        byteRange: summary.byteRange.map(Number),
        documentDigest: Buffer.from(summary.documentDigest).toString('hex'),
        timestampTime: isoOrNull(summary.timestampTime),
      },
      text: (j) => `  field        ${String(j.fieldName)} (revision ${String(j.revision)})\n  time         ${String(j.timestampTime ?? '-')}\n`,
    };
  });
}

export function ltvCommand(args: string[], io: CliIo): Promise<number> {
  return documentCommand(args, io, 'ltv', { timestamp: { type: 'boolean', default: false } }, async (client, input, size, values, sink, options) => {
    const header = create(LtvHeaderSchema, { documentTimestamp: values.timestamp === true, documentSize: BigInt(size) });
    const summary: LtvSummary = await documentCall(
      client.ltv(new grpc.Metadata(), options),
      {
        header: create(LtvRequestSchema, { payload: { case: 'header', value: header } }),
        chunk: (value) => create(LtvRequestSchema, { payload: { case: 'chunk', value } }),
      },
      fs.createReadStream(input, { highWaterMark: UPLOAD_CHUNK_BYTES }),
      sink,
    );
    return {
      documentSize: summary.documentSize,
      json: {
        revision: summary.revision,
        signatures: summary.signatures,
        added: { certificates: summary.certificatesAdded, ocsps: summary.ocspsAdded, crls: summary.crlsAdded },
        withoutRevocationSource: summary.withoutRevocationSource,
        timestampTime: isoOrNull(summary.timestampTime),
      },
      text: (j) => {
        const added = j.added as { certificates: number; ocsps: number; crls: number };
        return (
          `  added        ${added.certificates} certificates, ${added.ocsps} OCSP responses, ${added.crls} CRLs (revision ${String(j.revision)})\n` +
          `  time-stamp   ${String(j.timestampTime ?? '-')}\n` +
          (summary.withoutRevocationSource.length === 0 ? '' : `  no source    ${summary.withoutRevocationSource.join('; ')}\n`)
        );
      },
    };
  });
}

interface CallResult {
  documentSize: bigint;
  json: Record<string, unknown>;
  text: (json: Record<string, unknown>) => string;
}

type Values = Record<string, string | boolean | string[] | undefined>;

async function documentCommand(
  args: string[],
  io: CliIo,
  command: 'timestamp' | 'ltv',
  extra: Record<string, { type: 'string' } | { type: 'boolean'; default: boolean }>,
  call: (
    client: Client,
    input: string,
    size: number,
    values: Values,
    sink: (chunk: Uint8Array) => Promise<void>,
    options: grpc.CallOptions,
  ) => Promise<CallResult>,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { output: { type: 'string', short: 'o' }, timeout: { type: 'string' }, json: { type: 'boolean', default: false }, ...extra, ...SERVER_OPTION },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one input file', command);
  const input = positionals[0]!;
  const output = values.output;
  if (typeof output !== 'string' || output === '') throw new UsageError('-o/--output is required', command);
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError(`--timeout: expected a positive number, got "${String(values.timeout)}"`, command);
  const stat = await fs.promises.stat(input).catch(() => undefined);
  if (stat === undefined || !stat.isFile()) throw new Error(`cannot read ${input}: no such file`);

  const client = new TimestampClient(
    await channelTarget(serverAddresses(values.server as string[] | undefined, io.env)),
    channelCredentials(clientTls(values as { 'tls-ca'?: string; 'tls-cert'?: string; 'tls-key'?: string }, io.env)),
  );
  const destination = await AtomicOutputFile.create(output);
  try {
    const result = await call(client, input, stat.size, values, (chunk) => destination.write(chunk), timeout === undefined ? {} : { deadline: new Date(Date.now() + timeout * 1000) });
    if (BigInt(destination.bytesWritten) !== result.documentSize) {
      throw new Error(`received ${destination.bytesWritten} bytes but the server reports ${result.documentSize}: not writing ${output}`);
    }
    await destination.commit();
    const json = { input, output, ...result.json, documentSize: Number(result.documentSize) };
    io.stdout(values.json === true ? `${JSON.stringify(json)}\n` : `${command === 'ltv' ? 'extended' : 'time-stamped'} ${input} -> ${output} (${json.documentSize} bytes)\n${result.text(json)}`);
    return 0;
  } finally {
    await destination.abandon();
    client.close();
  }
}

function isoOrNull(time: Timestamp | undefined): string | null {
  return time === undefined ? null : timestampDate(time).toISOString();
}
