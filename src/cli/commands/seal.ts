/** `seald seal IN.pdf -o OUT.pdf --seal ID <placement> …`: seal one file through a running server. */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { SealHeaderSchema, SignatureActivationSchema, type SealSummary } from '../../gen/seald/v1/seald_pb.ts';
import { connectServers, sealRemote, UPLOAD_CHUNK_BYTES, withSealRetries } from '../client.ts';
import { describeFailure, UsageError, type CliIo } from '../io.ts';
import { AtomicOutputFile } from '../output-file.ts';
import { dateStampArgs, parseNumber, placementFromOptions, PLACEMENT_OPTIONS, signatureOptionsFrom, SIGNATURE_OPTIONS } from './placement-options.ts';
import { clientTls, serverAddresses, SERVER_OPTION } from './server-option.ts';
import { documentPassword, PASSWORD_OPTION } from '../password-option.ts';
import { activationPin, PIN_OPTIONS } from '../pin-option.ts';

export async function sealCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: dateStampArgs(args),
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      seal: { type: 'string' },
      ...PLACEMENT_OPTIONS,
      ...SIGNATURE_OPTIONS,
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...SERVER_OPTION,
      ...PASSWORD_OPTION,
      ...PIN_OPTIONS,
    },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one input file', 'seal');
  const input = positionals[0]!;
  const output = required(values.output, '-o/--output');
  const sealId = required(values.seal, '--seal');
  const placement = placementFromOptions(values, 'seal');
  const timeout = values.timeout === undefined ? undefined : parseNumber(values.timeout, '--timeout', 'seal', { positive: true });

  const stat = await fs.promises.stat(input).catch(() => undefined);
  if (stat === undefined || !stat.isFile()) throw new Error(`cannot read ${input}: no such file`);

  const header = create(SealHeaderSchema, {
    sealId,
    placement,
    options: signatureOptionsFrom(values),
    documentSize: BigInt(stat.size),
    documentPassword: await documentPassword(values, 'seal'),
  });
  const pin = await activationPin(values, io, 'seal');
  if (pin !== undefined) header.activation = create(SignatureActivationSchema, { pin });

  const client = await connectServers(serverAddresses(values.server, io.env), {}, clientTls(values, io.env));
  // One deadline for the whole command, retries included.
  const callOptions = timeout === undefined ? {} : { deadline: new Date(Date.now() + timeout * 1000) };
  try {
    // Each attempt streams the file afresh into a fresh temp file; only a confirmed seal is renamed into place.
    const summary = await withSealRetries(
      async () => {
        const destination = await AtomicOutputFile.create(output);
        try {
          const sealed = await sealRemote(
            client,
            header,
            fs.createReadStream(input, { highWaterMark: UPLOAD_CHUNK_BYTES }),
            (chunk) => destination.write(chunk),
            callOptions,
          );
          if (BigInt(destination.bytesWritten) !== sealed.documentSize) {
            throw new Error(
              `received ${destination.bytesWritten} bytes but the server reports ${sealed.documentSize}: not writing ${output}`,
            );
          }
          await destination.commit();
          return sealed;
        } finally {
          await destination.abandon();
        }
      },
      {
        maxAttempts: SEAL_ATTEMPTS,
        onRetry: (error, n) => io.stderr(`seald: ${describeFailure(error)} (attempt ${n} of ${SEAL_ATTEMPTS}; retrying)\n`),
      },
    );
    io.stdout(values.json ? `${JSON.stringify(summaryJson(summary, input, output))}\n` : describeSummary(summary, input, output));
    return 0;
  } finally {
    client.close();
  }
}

/** A seal cut off by its replica going away is sent again, to another replica when there is one (withSealRetries). */
const SEAL_ATTEMPTS = 3;

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
    repaired: summary.repaired === '' ? null : summary.repaired,
    timestampMissing: summary.timestampMissing === '' ? null : summary.timestampMissing,
  };
}

function describeSummary(summary: SealSummary, input: string, output: string): string {
  const json = summaryJson(summary, input, output);
  const rows: [string, string][] = [
    ['field', json.fieldName],
    ['revision', String(json.revision)],
    ['signer', json.signerSubject],
    ['signing time', json.signingTime ?? '-'],
    ['time-stamp', json.timestampTime ?? (json.timestampMissing === null ? '-' : `missing (best-effort): ${json.timestampMissing}`)],
    ['pages', json.pages.join(', ')],
    ['byte range', json.byteRange.join(' ')],
    ['digest', `${json.digestAlgorithm} ${json.documentDigest}`],
    ...(json.repaired === null ? [] : ([['repaired', json.repaired]] as [string, string][])),
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

