/** `seald timestamp IN.pdf -o OUT.pdf`: append a document time-stamp (RFC 3161, /DocTimeStamp) through a server. */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import {
  TimestampHeaderSchema,
  TimestampRequestSchema,
  TimestampService,
  type TimestampSummary,
} from '../../gen/seald/v1/timestamp_pb.ts';
import { grpcClientConstructor } from '../../server/grpc-service.ts';
import { channelCredentials, channelTarget, UPLOAD_CHUNK_BYTES } from '../client.ts';
import { documentCall } from '../document-call.ts';
import { UsageError, type CliIo } from '../io.ts';
import { AtomicOutputFile } from '../output-file.ts';
import { clientTls, serverAddresses, SERVER_OPTION } from './server-option.ts';

const TimestampClient = grpcClientConstructor(TimestampService);

export async function timestampCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      field: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...SERVER_OPTION,
    },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one input file', 'timestamp');
  const input = positionals[0]!;
  if (values.output === undefined || values.output === '') throw new UsageError('-o/--output is required', 'timestamp');
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError(`--timeout: expected a positive number, got "${values.timeout}"`, 'timestamp');
  const stat = await fs.promises.stat(input).catch(() => undefined);
  if (stat === undefined || !stat.isFile()) throw new Error(`cannot read ${input}: no such file`);

  const client = new TimestampClient(await channelTarget(serverAddresses(values.server, io.env)), channelCredentials(clientTls(values, io.env)));
  const destination = await AtomicOutputFile.create(values.output);
  try {
    const call = client.timestamp(new grpc.Metadata(), timeout === undefined ? {} : { deadline: new Date(Date.now() + timeout * 1000) });
    const header = create(TimestampHeaderSchema, { fieldName: values.field ?? '', documentSize: BigInt(stat.size) });
    const summary = await documentCall(
      call,
      {
        header: create(TimestampRequestSchema, { payload: { case: 'header', value: header } }),
        chunk: (value) => create(TimestampRequestSchema, { payload: { case: 'chunk', value } }),
      },
      fs.createReadStream(input, { highWaterMark: UPLOAD_CHUNK_BYTES }),
      (chunk) => destination.write(chunk),
    );
    if (BigInt(destination.bytesWritten) !== summary.documentSize) {
      throw new Error(`received ${destination.bytesWritten} bytes but the server reports ${summary.documentSize}: not writing ${values.output}`);
    }
    await destination.commit();
    const json = summaryJson(summary, input, values.output);
    io.stdout(
      values.json
        ? `${JSON.stringify(json)}\n`
        : `time-stamped ${input} -> ${values.output} (${json.documentSize} bytes)\n` +
            `  field        ${json.fieldName} (revision ${json.revision})\n` +
            `  time         ${json.timestampTime ?? '-'}\n` +
            `  digest       SHA-256 ${json.documentDigest}\n`,
    );
    return 0;
  } finally {
    await destination.abandon();
    client.close();
  }
}

function summaryJson(summary: TimestampSummary, input: string, output: string) {
  return {
    input,
    output,
    fieldName: summary.fieldName,
    revision: summary.revision,
    byteRange: summary.byteRange.map(Number),
    documentDigest: Buffer.from(summary.documentDigest).toString('hex'),
    timestampTime: summary.timestampTime === undefined ? null : timestampDate(summary.timestampTime).toISOString(),
    documentSize: Number(summary.documentSize),
  };
}
