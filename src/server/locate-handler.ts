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
  KeywordHitSchema,
  LocatedMarkSchema,
  LocateResponseSchema,
  type LocateHeader,
  type LocateRequest,
  type LocateResponse,
} from '../gen/seald/v1/seald_pb.ts';
import { abortReason } from './call.ts';
import { placementDetails } from './access.ts';
import { runDocumentCall, type DocumentCall } from './document-call.ts';
import type { ServiceContext } from './context.ts';
import { placementOf } from '../rpc/placement-of.ts';

export function locateHandler(context: ServiceContext): grpc.handleClientStreamingCall<LocateRequest, LocateResponse> {
  return (call, callback) => {
    const messages = call[Symbol.asyncIterator]() as AsyncIterator<LocateRequest>;
    const spec = { rpc: 'Locate', operation: 'locate', auditAbandoned: false } as const;
    context.track(runDocumentCall(context, call, messages, spec, (status) => callback(status), (dc) => handleLocate(context, dc, callback)));
  };
}

async function handleLocate(context: ServiceContext, dc: DocumentCall<LocateHeader>, callback: grpc.sendUnaryData<LocateResponse>): Promise<void> {
  const header = await dc.header();
  // Locating signs nothing, so only refusals go to the audit log; the policy still decides who may ask.
  dc.access.authorize(header.sealId, placementDetails(header.placement));
  const seal = context.seals.get(header.sealId);
  if (seal === undefined) throw new SealdError('not-found', 'SEAL_NOT_FOUND', `unknown seal "${header.sealId}"`);
  dc.log = dc.log.child({ sealId: seal.config.id });
  dc.seal = seal.config.id;
  dc.placement = header.placement?.kind.case ?? '(none)';
  const placement = placementOf(header.placement);
  const { source } = await dc.receive(header);
  const located = await locateMarks(source, placement, seal.material, dc.lifetime.signal);
  if (dc.lifetime.signal.aborted) throw abortReason(dc.lifetime.signal);
  const response = create(LocateResponseSchema, {
    pageCount: located.pageCount,
    marks: located.plan.marks.map((m) =>
      create(LocatedMarkSchema, {
        page: m.page.number,
        rect: m.displayed,
        ...(m.strip === undefined ? {} : { stripIndex: m.strip.index, stripCount: m.strip.count, group: m.group ?? 0 }),
      }),
    ),
    hits: (located.plan.hits ?? []).map((hit, i) =>
      create(KeywordHitSchema, { number: i + 1, page: hit.page, rect: hit.rect, text: hit.text, context: hit.context, chosen: hit.chosen }),
    ),
  });
  dc.log.info({ kind: located.plan.kind, marks: response.marks.length, ms: Math.round(performance.now() - dc.started) }, 'located');
  callback(null, response);
}
