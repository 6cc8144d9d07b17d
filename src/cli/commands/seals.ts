/** `seald seals`: the seals a server offers. */
import { parseArgs } from 'node:util';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { SealKind, type SealInfo } from '../../gen/seald/v1/seald_pb.ts';
import { connectServers, listSeals } from '../client.ts';
import type { CliIo } from '../io.ts';
import { formatTable } from '../table.ts';
import { clientTls, serverAddresses, SERVER_OPTION } from './server-option.ts';

const KIND_NAMES: Record<SealKind, string> = {
  [SealKind.UNSPECIFIED]: 'unspecified',
  [SealKind.ORGANIZATION]: 'official',
  [SealKind.PERSONAL]: 'personal',
  [SealKind.CONTRACT]: 'contract',
  [SealKind.FINANCE]: 'finance',
  [SealKind.INVOICE]: 'invoice',
  [SealKind.LEGAL_REPRESENTATIVE]: 'legal_representative',
};

export async function sealsCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, ...SERVER_OPTION } });
  const client = await connectServers(serverAddresses(values.server, io.env), {}, clientTls(values, io.env));
  try {
    const { seals } = await listSeals(client, { deadline: new Date(Date.now() + 30_000) });
    if (values.json) {
      io.stdout(`${JSON.stringify({ seals: seals.map(sealJson) }, null, 2)}\n`);
    } else if (seals.length === 0) {
      io.stdout('no seals configured\n');
    } else {
      io.stdout(
        formatTable(
          ['ID', 'KIND', 'NAME', 'SUBJECT', 'VALID', 'READY'],
          seals.map((seal) => {
            const json = sealJson(seal);
            return [
              json.id,
              json.kind,
              json.name,
              json.certificate?.subject ?? '-',
              `${day(json.certificate?.notBefore)} .. ${day(json.certificate?.notAfter)}`,
              json.available ? 'yes' : 'NO',
            ];
          }),
        ),
      );
    }
    return 0;
  } finally {
    client.close();
  }
}

function iso(timestamp: Timestamp | undefined): string | null {
  return timestamp === undefined ? null : timestampDate(timestamp).toISOString();
}

function day(value: string | null | undefined): string {
  return value == null ? '?' : value.slice(0, 10);
}

function sealJson(seal: SealInfo) {
  const certificate = seal.certificate;
  return {
    id: seal.id,
    kind: KIND_NAMES[seal.kind] ?? `kind ${seal.kind}`,
    name: seal.name,
    certificate:
      certificate === undefined
        ? null
        : {
            subject: certificate.subject,
            issuer: certificate.issuer,
            serialNumber: certificate.serialNumber,
            notBefore: iso(certificate.notBefore),
            notAfter: iso(certificate.notAfter),
            keyAlgorithm: certificate.keyAlgorithm,
          },
    available: seal.available,
    activationRequired: seal.activationRequired,
  };
}
