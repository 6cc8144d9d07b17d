/**
 * The Locate RPC: header → spooled chunks → the engine's placement planner → the marks a Seal would write, without
 * signing (no token is touched, so it answers even while the seal's token is down). Framing as for Seal: the first
 * request message is the header and only the first; chunks follow.
 */
import { performance } from 'node:perf_hooks';
import { create } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { locateMarks } from '../engine/placements.ts';
import { SealdError } from '../errors.ts';
import {
  LocatedMarkSchema,
  LocateResponseSchema,
  type LocateRequest,
  type LocateResponse,
} from '../gen/seald/v1/seald_pb.ts';
import type { ByteSource } from '../pdf/source.ts';
import { abortReason, callLifetime, requestIdOf, failedCall } from './call.ts';
import { callAccess, placementDetails } from './access.ts';
import type { ServiceContext } from './context.ts';
import { placementOf } from './placement-of.ts';
import { readHeader, receiveSource } from './upload.ts';

type LocateCall = grpc.ServerReadableStream<LocateRequest, LocateResponse>;

export function locateHandler(context: ServiceContext): grpc.handleClientStreamingCall<LocateRequest, LocateResponse> {
  return (call, callback) => {
    context.track(handleLocate(context, call, callback));
  };
}

async function handleLocate(
  context: ServiceContext,
  call: LocateCall,
  callback: grpc.sendUnaryData<LocateResponse>,
): Promise<void> {
  const started = performance.now();
  const requestId = requestIdOf(call);
  const lifetime = callLifetime(call);
  const access = callAccess(context, call, 'locate', requestId);
  let log = context.logger.child({ requestId, rpc: 'Locate' });
  let source: ByteSource | undefined;
  try {
    const messages = call[Symbol.asyncIterator]() as AsyncIterator<LocateRequest>;
    const header = await readHeader(messages, lifetime, 'Locate');
    // Locating signs nothing, so only refusals go to the audit log; the policy still decides who may ask.
    access.authorize(header.sealId, placementDetails(header.placement));
    const seal = context.seals.get(header.sealId);
    if (seal === undefined) throw new SealdError('not-found', 'SEAL_NOT_FOUND', `unknown seal "${header.sealId}"`);
    log = log.child({ sealId: seal.config.id });
    const placement = placementOf(header.placement);
    ({ source } = await receiveSource(context, messages, header.documentSize, lifetime, 'Locate'));
    const located = await locateMarks(source, placement, seal.material, lifetime.signal);
    if (lifetime.signal.aborted) throw abortReason(lifetime.signal);
    const response = create(LocateResponseSchema, {
      pageCount: located.pageCount,
      marks: located.plan.marks.map((m) =>
        create(LocatedMarkSchema, {
          page: m.page.number,
          rect: m.displayed,
          ...(m.strip === undefined ? {} : { stripIndex: m.strip.index, stripCount: m.strip.count, group: m.group ?? 0 }),
        }),
      ),
    });
    log.info({ kind: located.plan.kind, marks: response.marks.length, ms: Math.round(performance.now() - started) }, 'located');
    callback(null, response);
  } catch (error) {
    if (!lifetime.clientGone) await access.failed(error);
    const { status } = failedCall(error, { lifetime, requestId, log, rpc: 'locate' });
    if (status !== undefined) callback(status);
  } finally {
    lifetime.dispose();
    try {
      await source?.close();
    } catch (error) {
      log.warn({ err: error }, 'cannot release the document (spool file or source)');
    }
  }
}
