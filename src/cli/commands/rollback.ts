/** `seald rollback IN.pdf -o OUT.pdf`: remove the last seal of a file through a running server (撤销签章). */
import * as fs from 'node:fs';
import { create } from '@bufbuild/protobuf';
import { RollbackHeaderSchema } from '../../gen/seald/v1/rollback_pb.ts';
import { UPLOAD_CHUNK_BYTES } from '../client.ts';
import { documentCommand } from '../document-command.ts';
import type { CliIo } from '../io.ts';
import { rollbackClient, rollbackRemote } from '../rollback-client.ts';

export function rollbackCommand(args: string[], io: CliIo): Promise<number> {
  return documentCommand(
    args,
    io,
    'rollback',
    { field: { type: 'string' } },
    rollbackClient,
    async (client, input, size, values, sink, options, password) => {
      const header = create(RollbackHeaderSchema, { fieldName: typeof values.field === 'string' ? values.field : '', documentSize: BigInt(size), documentPassword: password });
      const summary = await rollbackRemote(
        client,
        header,
        fs.createReadStream(input, { highWaterMark: UPLOAD_CHUNK_BYTES }),
        sink,
        options.deadline === undefined ? {} : { deadline: options.deadline as Date },
      );
      return {
        documentSize: summary.documentSize,
        headline: 'rolled back',
        json: {
          fieldName: summary.fieldName,
          removedRevision: summary.removedRevision,
          sealId: summary.sealId,
          signerSubject: summary.signerSubject,
          certificateSerial: summary.certificateSerial,
          documentSha256: Buffer.from(summary.documentSha256).toString('hex'),
        },
        text: (j) =>
          `  removed      ${String(j.fieldName)} (revision ${String(j.removedRevision)}, seal ${String(j.sealId)})\n` +
          `  signer       ${String(j.signerSubject)} (serial ${String(j.certificateSerial)})\n` +
          `  sha256       ${String(j.documentSha256)}\n`,
      };
    },
  );
}
