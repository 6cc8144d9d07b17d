/** `seald rollback IN.pdf -o OUT.pdf`: remove the last seal of a file through a running server (撤销签章). */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { RollbackHeaderSchema, type RollbackSummary } from '../../gen/seald/v1/rollback_pb.ts';
import { channelTarget, UPLOAD_CHUNK_BYTES } from '../client.ts';
import { UsageError, type CliIo } from '../io.ts';
import { AtomicOutputFile } from '../output-file.ts';
import { connectRollback, rollbackRemote } from '../rollback-client.ts';
import { clientTls, serverAddresses, SERVER_OPTION } from './server-option.ts';

export async function rollbackCommand(args: string[], io: CliIo): Promise<number> {
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
  if (positionals.length !== 1) throw new UsageError('give exactly one input file', 'rollback');
  const input = positionals[0]!;
  if (values.output === undefined || values.output === '') throw new UsageError('-o/--output is required', 'rollback');
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError(`--timeout: expected a positive number, got "${values.timeout}"`, 'rollback');
  const stat = await fs.promises.stat(input).catch(() => undefined);
  if (stat === undefined || !stat.isFile()) throw new Error(`cannot read ${input}: no such file`);

  const client = connectRollback(await channelTarget(serverAddresses(values.server, io.env)), clientTls(values, io.env));
  const destination = await AtomicOutputFile.create(values.output);
  try {
    const summary = await rollbackRemote(
      client,
      create(RollbackHeaderSchema, { fieldName: values.field ?? '', documentSize: BigInt(stat.size) }),
      fs.createReadStream(input, { highWaterMark: UPLOAD_CHUNK_BYTES }),
      (chunk) => destination.write(chunk),
      timeout === undefined ? {} : { deadline: new Date(Date.now() + timeout * 1000) },
    );
    if (BigInt(destination.bytesWritten) !== summary.documentSize) {
      throw new Error(`received ${destination.bytesWritten} bytes but the server reports ${summary.documentSize}: not writing ${values.output}`);
    }
    await destination.commit();
    const json = summaryJson(summary, input, values.output);
    io.stdout(
      values.json
        ? `${JSON.stringify(json)}\n`
        : `rolled back ${input} -> ${values.output} (${json.documentSize} bytes)\n` +
            `  removed      ${json.fieldName} (revision ${json.removedRevision}, seal ${json.sealId})\n` +
            `  signer       ${json.signerSubject} (serial ${json.certificateSerial})\n` +
            `  sha256       ${json.documentSha256}\n`,
    );
    return 0;
  } finally {
    await destination.abandon();
    client.close();
  }
}

function summaryJson(summary: RollbackSummary, input: string, output: string) {
  return {
    input,
    output,
    fieldName: summary.fieldName,
    removedRevision: summary.removedRevision,
    sealId: summary.sealId,
    signerSubject: summary.signerSubject,
    certificateSerial: summary.certificateSerial,
    documentSize: Number(summary.documentSize),
    documentSha256: Buffer.from(summary.documentSha256).toString('hex'),
  };
}
