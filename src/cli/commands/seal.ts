/** `seald seal IN.pdf -o OUT.pdf --seal ID --page N --x X --y Y …`: seal one file through a running server. */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { SealHeaderSchema, type SealSummary } from '../../gen/seald/v1/seald_pb.ts';
import { connect, sealRemote, UPLOAD_CHUNK_BYTES } from '../client.ts';
import { UsageError, type CliIo } from '../io.ts';
import { AtomicOutputFile } from '../output-file.ts';
import { serverAddress, SERVER_OPTION } from './server-option.ts';

export async function sealCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      seal: { type: 'string' },
      page: { type: 'string' },
      x: { type: 'string' },
      y: { type: 'string' },
      width: { type: 'string' },
      height: { type: 'string' },
      reason: { type: 'string' },
      location: { type: 'string' },
      contact: { type: 'string' },
      field: { type: 'string' },
      timestamp: { type: 'boolean' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...SERVER_OPTION,
    },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one input file', 'seal');
  const input = positionals[0]!;
  const output = required(values.output, '-o/--output');
  const sealId = required(values.seal, '--seal');
  const page = number(required(values.page, '--page'), '--page', { integer: true, min: 1 });
  const x = number(required(values.x, '--x'), '--x');
  const y = number(required(values.y, '--y'), '--y');
  const width = values.width === undefined ? undefined : number(values.width, '--width', { positive: true });
  const height = values.height === undefined ? undefined : number(values.height, '--height', { positive: true });
  const timeout = values.timeout === undefined ? undefined : number(values.timeout, '--timeout', { positive: true });

  const stat = await fs.promises.stat(input).catch(() => undefined);
  if (stat === undefined || !stat.isFile()) throw new Error(`cannot read ${input}: no such file`);

  const header = create(SealHeaderSchema, {
    sealId,
    placement: {
      kind: {
        case: 'position',
        value: { page, x, y, ...(width === undefined ? {} : { width }), ...(height === undefined ? {} : { height }) },
      },
    },
    options: {
      reason: values.reason ?? '',
      location: values.location ?? '',
      contactInfo: values.contact ?? '',
      fieldName: values.field ?? '',
      ...(values.timestamp === undefined ? {} : { timestamp: values.timestamp }),
    },
    documentSize: BigInt(stat.size),
  });

  const client = connect(serverAddress(values.server, io.env));
  const destination = await AtomicOutputFile.create(output);
  try {
    const summary = await sealRemote(
      client,
      header,
      fs.createReadStream(input, { highWaterMark: UPLOAD_CHUNK_BYTES }),
      (chunk) => destination.write(chunk),
      timeout === undefined ? {} : { deadline: new Date(Date.now() + timeout * 1000) },
    );
    if (BigInt(destination.bytesWritten) !== summary.documentSize) {
      throw new Error(
        `received ${destination.bytesWritten} bytes but the server reports ${summary.documentSize}: not writing ${output}`,
      );
    }
    await destination.commit();
    io.stdout(values.json ? `${JSON.stringify(summaryJson(summary, input, output))}\n` : describeSummary(summary, input, output));
    return 0;
  } finally {
    await destination.abandon();
    client.close();
  }
}

function summaryJson(summary: SealSummary, input: string, output: string) {
  return {
    input,
    output,
    fieldName: summary.fieldName,
    revision: summary.revision,
    byteRange: summary.byteRange.map(Number),
    documentDigest: Buffer.from(summary.documentDigest).toString('hex'),
    digestAlgorithm: summary.digestAlgorithm,
    signerSubject: summary.signerSubject,
    signingTime: summary.signingTime === undefined ? null : timestampDate(summary.signingTime).toISOString(),
    pages: summary.pages,
    documentSize: Number(summary.documentSize),
    timestampTime: summary.timestampTime === undefined ? null : timestampDate(summary.timestampTime).toISOString(),
  };
}

function describeSummary(summary: SealSummary, input: string, output: string): string {
  const json = summaryJson(summary, input, output);
  const rows: [string, string][] = [
    ['field', json.fieldName],
    ['revision', String(json.revision)],
    ['signer', json.signerSubject],
    ['signing time', json.signingTime ?? '-'],
    ['time-stamp', json.timestampTime ?? '-'],
    ['pages', json.pages.join(', ')],
    ['byte range', json.byteRange.join(' ')],
    ['digest', `${json.digestAlgorithm} ${json.documentDigest}`],
  ];
  return (
    `sealed ${input} -> ${output} (${json.documentSize} bytes)\n` +
    rows.map(([name, value]) => `  ${name.padEnd(13)}${value}\n`).join('')
  );
}

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`${name} is required`, 'seal');
  return value;
}

function number(
  text: string,
  name: string,
  rules: { integer?: boolean; min?: number; positive?: boolean } = {},
): number {
  const value = Number(text);
  const ok =
    text.trim() !== '' &&
    Number.isFinite(value) &&
    (rules.integer !== true || Number.isInteger(value)) &&
    (rules.min === undefined || value >= rules.min) &&
    (rules.positive !== true || value > 0);
  if (!ok) {
    const expected = rules.integer ? `an integer ≥ ${rules.min ?? 0}` : rules.positive ? 'a positive number' : 'a number';
    throw new UsageError(`${name}: expected ${expected}, got "${text}"`, 'seal');
  }
  return value;
}
