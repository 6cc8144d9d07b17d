/** `seald pool`: the token pool of a running server, per token and per seal (PoolService.GetPoolStatus). */
import { parseArgs } from 'node:util';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { GetPoolStatusRequestSchema, PoolService, TokenState, type GetPoolStatusResponse } from '../../gen/seald/v1/pool_pb.ts';
import { grpcClientConstructor } from '../../rpc/grpc-service.ts';
import { channelCredentials } from '../client.ts';
import { UsageError, type CliIo } from '../io.ts';
import { formatTable } from '../table.ts';
import { clientTls, serverAddresses, SERVER_OPTION } from './server-option.ts';

const PoolClient = grpcClientConstructor(PoolService);

const STATE_NAMES: Record<TokenState, string> = {
  [TokenState.UNSPECIFIED]: 'unknown',
  [TokenState.READY]: 'ready',
  [TokenState.DOWN]: 'DOWN',
  [TokenState.QUARANTINED]: 'QUARANTINED',
};

export async function poolCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, ...SERVER_OPTION } });
  const servers = serverAddresses(values.server, io.env);
  if (servers.length !== 1) throw new UsageError('seald pool shows one server: give one --server', 'pool');
  const client = new PoolClient(servers[0]!, channelCredentials(clientTls(values, io.env)));
  try {
    const status = await new Promise<GetPoolStatusResponse>((resolve, reject) => {
      client.getPoolStatus(create(GetPoolStatusRequestSchema), new grpc.Metadata(), { deadline: new Date(Date.now() + 30_000) }, (error, response) =>
        error !== null || response === undefined ? reject(error) : resolve(response),
      );
    });
    const json = statusJson(status);
    if (values.json) {
      io.stdout(`${JSON.stringify(json, null, 2)}\n`);
    } else {
      io.stdout(
        formatTable(
          ['TOKEN', 'SERIAL', 'STATE', 'SESSIONS', 'BUSY', 'KEYS', 'FAULTS', 'REASON'],
          json.tokens.map((t) => [
            t.label,
            t.serial,
            t.state,
            String(t.sessions),
            String(t.busy),
            t.keys.join(',') || '-',
            Object.entries(t.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k}:${n}`).join(',') || '-',
            t.reason || '-',
          ]),
        ),
      );
      io.stdout('\n');
      io.stdout(
        formatTable(
          ['SEAL', 'KEY', 'READY', 'ON TOKENS'],
          json.seals.map((s) => [s.sealId, s.key, s.ready ? 'yes' : 'NO', s.readyTokens.join(',') || '-']),
        ),
      );
      io.stdout(`\nserving: ${json.serving ? 'yes' : 'NO (a seal has no ready token)'}\n`);
    }
    return json.serving ? 0 : 1;
  } finally {
    client.close();
  }
}

function statusJson(status: GetPoolStatusResponse) {
  return {
    serving: status.serving,
    tokens: status.tokens.map((t) => ({
      label: t.label,
      serial: t.serial,
      module: t.module,
      state: STATE_NAMES[t.state] ?? `state ${t.state}`,
      reason: t.reason,
      sessions: t.sessions,
      busy: t.busy,
      keys: t.keys,
      faults: Object.fromEntries(Object.entries(t.faults).map(([k, v]) => [k, Number(v)])),
      recoveries: Number(t.recoveries),
    })),
    seals: status.seals.map((s) => ({ sealId: s.sealId, key: s.key, ready: s.ready, readyTokens: s.readyTokens })),
  };
}
