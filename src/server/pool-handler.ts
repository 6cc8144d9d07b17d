/**
 * PoolService.GetPoolStatus: per token (slot) and per seal health of the PKCS#11 pool, for operators (`seald pool`)
 * and dashboards. A seal is ready when a ready token holds its key; that is also what grpc.health.v1 reports.
 */
import { create } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import {
  GetPoolStatusResponseSchema,
  SealHealthSchema,
  TokenState,
  TokenStatusSchema,
  type GetPoolStatusRequest,
  type GetPoolStatusResponse,
} from '../gen/seald/v1/pool_pb.ts';
import type { TokenStatus } from '../pool/pool.ts';
import { requestIdOf } from './call.ts';
import type { Logger } from './logger.ts';
import type { ConfiguredSeal } from './seals.ts';
import { grpcStatusOf } from '../rpc/status.ts';

/** What the handler needs: the pool's token status, and the seals. */
export interface PoolView {
  tokens(): TokenStatus[];
  seals: ReadonlyMap<string, ConfiguredSeal>;
}

const STATE: Record<TokenStatus['state'], TokenState> = {
  ready: TokenState.READY,
  down: TokenState.DOWN,
  quarantined: TokenState.QUARANTINED,
};

export function poolStatusResponse(view: PoolView): GetPoolStatusResponse {
  const tokens = view.tokens();
  const seals = [...view.seals.values()].map((seal) => {
    const readyTokens = tokens.filter((t) => t.state === 'ready' && t.keys.includes(seal.config.key)).map((t) => t.label);
    return create(SealHealthSchema, { sealId: seal.config.id, key: seal.config.key, ready: readyTokens.length > 0, readyTokens });
  });
  return create(GetPoolStatusResponseSchema, {
    tokens: tokens.map((t) =>
      create(TokenStatusSchema, {
        label: t.label,
        serial: t.serial,
        module: t.module,
        state: STATE[t.state],
        reason: t.reason ?? '',
        sessions: t.sessions,
        busy: t.busy,
        keys: t.keys,
        faults: Object.fromEntries(Object.entries(t.faults).map(([k, v]) => [k, BigInt(v)])),
        recoveries: BigInt(t.recoveries),
      }),
    ),
    seals,
    serving: seals.every((s) => s.ready),
  });
}

export function poolStatusHandler(view: PoolView, logger: Logger): grpc.handleUnaryCall<GetPoolStatusRequest, GetPoolStatusResponse> {
  return (call, callback) => {
    try {
      callback(null, poolStatusResponse(view));
    } catch (error) {
      logger.error({ err: error, requestId: requestIdOf(call), rpc: 'GetPoolStatus' }, 'pool status failed');
      callback(grpcStatusOf(error, requestIdOf(call)));
    }
  };
}
