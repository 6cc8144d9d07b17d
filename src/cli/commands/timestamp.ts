/**
 * `seald timestamp IN.pdf -o OUT.pdf` (a document time-stamp, RFC 3161 /DocTimeStamp) and `seald ltv IN.pdf -o OUT.pdf
 * [--timestamp]` (validation data, PAdES B-LT; with --timestamp also a document time-stamp, B-LTA), through a server.
 */
import * as fs from 'node:fs';
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
import { grpcClientConstructor } from '../../rpc/grpc-service.ts';
import { UPLOAD_CHUNK_BYTES } from '../client.ts';
import { documentCall } from '../document-call.ts';
import { documentCommand } from '../document-command.ts';
import type { CliIo } from '../io.ts';

const TimestampClient = grpcClientConstructor(TimestampService);
type Client = InstanceType<typeof TimestampClient>;

const connectTimestamp = (target: string, credentials: grpc.ChannelCredentials): Client => new TimestampClient(target, credentials);

export function timestampCommand(args: string[], io: CliIo): Promise<number> {
  return documentCommand(args, io, 'timestamp', { field: { type: 'string' } }, connectTimestamp, async (client, input, size, values, sink, options, password) => {
    const header = create(TimestampHeaderSchema, { fieldName: typeof values.field === 'string' ? values.field : '', documentSize: BigInt(size), documentPassword: password });
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
      headline: 'time-stamped',
      text: (j) => `  field        ${String(j.fieldName)} (revision ${String(j.revision)})\n  time         ${String(j.timestampTime ?? '-')}\n`,
    };
  });
}

export function ltvCommand(args: string[], io: CliIo): Promise<number> {
  return documentCommand(args, io, 'ltv', { timestamp: { type: 'boolean', default: false } }, connectTimestamp, async (client, input, size, values, sink, options, password) => {
    const header = create(LtvHeaderSchema, { documentTimestamp: values.timestamp === true, documentSize: BigInt(size), documentPassword: password });
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
      headline: 'extended',
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

function isoOrNull(time: Timestamp | undefined): string | null {
  return time === undefined ? null : timestampDate(time).toISOString();
}
