/**
 * The SealBatch RPC: many documents on one bidirectional stream (framing in proto/seald/v1/batch.proto).
 *
 * Reading: one loop pulls request messages and routes chunks to each document's spool. When `maxInflight`
 * documents are in flight it stops pulling (gRPC flow control then holds the client back) until one is answered.
 * Sealing: each document whose end arrived is sealed on its own (the pool bounds the signing), through the same
 * steps as the unary Seal (seal lookup, placement and options parsing, spool, engine, summary: see seal-request.ts).
 * Writing: answers go out one document at a time (a document's chunks and summary are contiguous), each write
 * waiting for the stream to drain, so memory is bounded by the in-flight documents, never by the batch.
 *
 * A document's failure is answered as a DocumentError and the batch goes on; only a protocol violation, a cancel or
 * a deadline ends the call, and then every document in flight is cancelled and its spool removed before the status.
 *
 * Shutdown: when the server starts draining, the call stops reading, seals and answers the documents already
 * received, answers those still uploading with SERVER_DRAINING, and ends with UNAVAILABLE (SERVER_DRAINING): the
 * client knows exactly which documents to send again (to this server once restarted, or another one).
 *
 * Longer than 400 lines because one BatchStream owns the call's reading loop, in-flight documents, answer queue and
 * drain together: each of those steps reads and changes the same per-call state.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { createHash, type Hash } from 'node:crypto';
import { SealdError } from '../errors.ts';
import { setDocumentPassword } from '../pdf/document.ts';
import type { ByteSource } from '../pdf/source.ts';
import {
  BatchAnswer,
  BatchHeaderSchema,
  DocumentErrorSchema,
  DocumentSealedSchema,
  SealBatchResponseSchema,
  type BatchHeader,
  type DocumentStart,
  type SealBatchRequest,
  type SealBatchResponse,
} from '../gen/seald/v1/batch_pb.ts';
import { SealHeaderSchema, SealSummarySchema } from '../gen/seald/v1/seald_pb.ts';
import { abortReason, callLifetime, requestIdOf, writeOrDrain, type CallLifetime } from './call.ts';
import type { ServiceContext } from './context.ts';
import { idempotencyKey, type IdempotencyStore, type SealRecord } from './idempotency.ts';
import {
  decodeReplayFacts,
  encodeReplayFacts,
  isRecordedRevision,
  missingTimestamper,
  replayMaterial,
  replayTimestamper,
  SealRecorder,
} from './idempotency-replay.ts';
import { callAccess, placementDetails, type CallAccess } from './access.ts';
import { logRequest, type Logger } from './logger.ts';
import { principalOf } from './tls.ts';
import { placementOf } from '../rpc/placement-of.ts';
import { availableSeal, noteMissingTimestamp, optionsOf, release, RESPONSE_CHUNK_BYTES } from './seal-request.ts';
import { summaryOf } from '../rpc/seal-summary.ts';
import { documentSpool, finishSpool } from './upload.ts';
import { RequestReader, STOPPED, type BatchCall } from './batch-reader.ts';
import { Spool } from './spool.ts';
import type { RequestActivation } from './activation.ts';
import { grpcStatusOf, statusName } from '../rpc/status.ts';
import { MAX_INFLIGHT_METADATA_KEY } from '../rpc/metadata.ts';

const MAX_DOCUMENT_ID_LENGTH = 256;
const DRAINING = Symbol('draining');

export interface BatchOptions {
  /** Documents of one call in flight (started and not yet answered) at most. */
  maxInflight: number;
  /** Undefined: no idempotency. */
  idempotency: IdempotencyStore | undefined;
  /** Aborted when the server begins a graceful shutdown. */
  draining: AbortSignal;
}

export function sealBatchHandler(
  context: ServiceContext,
  options: BatchOptions,
): grpc.handleBidiStreamingCall<SealBatchRequest, SealBatchResponse> {
  return (call) => {
    context.track(new BatchStream(context, options, call).run());
  };
}

/** One document of a call, from its start to its answer. */
interface BatchDocument {
  id: string;
  started: number;
  sealLabel: string;
  placementKind: string;
  spool: Spool | undefined;
  /** Set when the document failed before its end (unknown seal, too large…): later chunks are dropped. */
  failed: boolean;
  ended: boolean;
  /**
   * Counted in `#open` (started, neither ended nor failed). A document that failed before its end is answered at
   * once and stops counting then: its client may take the answer as the document's end and start the next one
   * before its own end message is sent, so only that view of "finished" is one both sides can agree on.
   */
  open: boolean;
  answered: boolean;
  bytesIn: number;
  /** The document was repaired to be read (what and how, when sealed in this call; what, when replayed). */
  repaired?: { reason: string; how?: string };
  /** Resolves once the document's answer is written (or the call failed). */
  work: Promise<void> | undefined;
  /** What sealing needs, resolved at the start. */
  plan: DocumentPlan | undefined;
  /** The document's authorisation and audit record (operation "batch"). */
  access: CallAccess;
}

interface DocumentPlan {
  seal: ReturnType<typeof availableSeal>;
  placement: ReturnType<typeof placementOf>;
  options: ReturnType<typeof optionsOf>;
  /** SHA-256 of the effective seal id, placement and options (for the idempotency key). */
  optionsDigest: Uint8Array;
  /** The document's password when it is encrypted (never logged, audited or part of the idempotency key). */
  password: string;
  /** This document's own signature activation (its PIN zeroed when the document ends); never shared with another. */
  activation: RequestActivation;
}

class BatchStream {
  readonly #started = performance.now();
  readonly #requestId: string;
  readonly #lifetime: CallLifetime;
  /** Aborted when the call fails: cancels every document still in flight. */
  readonly #abort = new AbortController();
  readonly #documents = new Map<string, BatchDocument>();
  readonly #slotWaiters: (() => void)[] = [];
  /** Every document's sealing or answering work that has not settled yet. */
  readonly #work = new Set<Promise<void>>();
  #log: Logger;
  #header: BatchHeader | undefined;
  /** Who called: the verified client certificate's identity, or "anonymous" without mutual TLS. */
  readonly #principal: string;
  /** The tail of the answer queue: each document's answer is written after the previous one's. */
  #output: Promise<void> = Promise.resolve();
  #inflight = 0;
  #open = 0;
  #counts = { sealed: 0, replayed: 0, failed: 0, bytesIn: 0, bytesOut: 0 };

  constructor(
    private readonly context: ServiceContext,
    private readonly options: BatchOptions,
    private readonly call: BatchCall,
  ) {
    this.#principal = principalOf(call).name;
    this.#requestId = requestIdOf({
      metadata: call.metadata,
      cancelled: call.cancelled,
      getDeadline: () => call.getDeadline(),
      on: (event, listener) => call.on(event, listener),
      off: (event, listener) => call.off(event, listener),
      sendMetadata: (metadata) => {
        metadata.set(MAX_INFLIGHT_METADATA_KEY, String(options.maxInflight));
        call.sendMetadata(metadata);
      },
    });
    this.#lifetime = callLifetime(call);
    this.#log = context.logger.child({ requestId: this.#requestId, rpc: 'SealBatch' });
    // Every document in flight listens to the call's signal (engine, pool, writes): a few listeners each.
    setMaxListeners(8 * options.maxInflight + 16, this.#abort.signal);
    const onCallAbort = (): void => this.#abort.abort(this.#lifetime.signal.reason);
    this.#lifetime.signal.addEventListener('abort', onCallAbort, { once: true });
  }

  async run(): Promise<void> {
    let code = 'OK';
    let errorCode: string | undefined;
    try {
      await this.#readAll(new RequestReader(this.call));
      await this.#settled();
      if (this.#abort.signal.aborted) throw abortReason(this.#abort.signal);
      this.call.end();
    } catch (error) {
      this.#abort.abort(error instanceof SealdError ? error : abortReason(this.#abort.signal));
      await this.#cleanUp();
      ({ code, errorCode } = this.#fail(error));
    } finally {
      this.#lifetime.dispose();
      this.context.metrics.requests.inc({ operation: 'seal_batch', code });
      logRequest(this.#log, {
        requestId: this.#requestId,
        principal: this.#principal,
        operation: 'seal_batch',
        seal: this.#header?.sealId || '(none)',
        placement: this.#header?.placement?.kind.case ?? '(none)',
        bytesIn: this.#counts.bytesIn,
        bytesOut: this.#counts.bytesOut,
        durationMs: performance.now() - this.#started,
        status: code,
        ...(errorCode === undefined ? {} : { errorCode }),
        documents: { sealed: this.#counts.sealed, replayed: this.#counts.replayed, failed: this.#counts.failed },
      });
    }
  }

  async #readAll(messages: RequestReader): Promise<void> {
    const first = await this.#next(messages);
    if (first === DRAINING) return this.#drain();
    if (first?.payload.case !== 'header') {
      throw new SealdError(
        'invalid-input',
        'HEADER_REQUIRED',
        first === undefined ? 'the request stream ended before a header' : 'the first message of a SealBatch call must be a header',
      );
    }
    this.#header = first.payload.value;
    for (;;) {
      const message = await this.#next(messages);
      if (message === DRAINING) return this.#drain();
      if (message === undefined) break;
      const { payload } = message;
      switch (payload.case) {
        case 'start':
          await this.#start(payload.value);
          break;
        case 'chunk':
          await this.#chunk(this.#find(payload.value.documentId, 'chunk'), payload.value.data);
          break;
        case 'end':
          this.#end(this.#find(payload.value.documentId, 'end'));
          break;
        case 'header':
          throw new SealdError('invalid-input', 'HEADER_REPEATED', 'only the first message of a SealBatch call may be a header');
        default:
          break; // an empty message carries nothing
      }
    }
    const unfinished = [...this.#documents.values()].filter((doc) => !doc.ended).map((doc) => doc.id);
    if (unfinished.length > 0) {
      throw new SealdError(
        'invalid-input',
        'DOCUMENT_NOT_ENDED',
        `the request stream ended before the end of document(s) ${unfinished.slice(0, 5).map((id) => JSON.stringify(id)).join(', ')}`,
      );
    }
  }

  async #start(start: DocumentStart): Promise<void> {
    const id = start.documentId;
    if (id === '' || id.length > MAX_DOCUMENT_ID_LENGTH) {
      throw new SealdError('invalid-input', 'DOCUMENT_ID_INVALID', `a document id must have 1 to ${MAX_DOCUMENT_ID_LENGTH} characters`);
    }
    if (this.#documents.has(id)) {
      throw new SealdError('invalid-input', 'DOCUMENT_ID_IN_USE', `document ${JSON.stringify(id)} was started twice`);
    }
    if (this.#open >= this.options.maxInflight) {
      throw new SealdError(
        'too-large',
        'TOO_MANY_OPEN_DOCUMENTS',
        `more than ${this.options.maxInflight} documents started and not ended: end one before starting another`,
      );
    }
    // Every in-flight document that is fully received will be answered: waiting here cannot wait forever.
    while (this.#inflight >= this.options.maxInflight) await this.#slotFreed();

    const header = this.#header!;
    const sealId = start.sealId !== '' ? start.sealId : header.sealId;
    const placement = start.placement ?? header.placement;
    const options = start.options ?? header.options;
    const doc: BatchDocument = {
      id,
      started: performance.now(),
      sealLabel: sealId === '' ? '(none)' : sealId,
      placementKind: placement?.kind.case ?? '(none)',
      spool: undefined,
      failed: false,
      ended: false,
      open: true,
      answered: false,
      bytesIn: 0,
      work: undefined,
      plan: undefined,
      access: callAccess(this.context, this.call, 'batch', this.#requestId),
    };
    this.#documents.set(id, doc);
    this.#inflight++;
    this.#open++;
    this.context.metrics.inflightDocuments.inc();
    try {
      // The unary Seal's own checks, on the document's effective header.
      const asHeader = create(SealHeaderSchema, {
        sealId,
        ...(placement === undefined ? {} : { placement }),
        ...(options === undefined ? {} : { options }),
        ...(start.documentSize === undefined ? {} : { documentSize: start.documentSize }),
      });
      doc.access.authorize(sealId, placementDetails(placement));
      const seal = availableSeal(this.context, sealId);
      doc.sealLabel = seal.config.id;
      doc.access.note({ certificateSerial: seal.certificate.serialNumber });
      const parsedPlacement = placementOf(asHeader.placement);
      const parsedOptions = optionsOf(asHeader, this.context);
      // Last of the checks before the upload: it opens the activation, which #seal or #failEarly settles.
      const activation = this.context.activation.open(seal, start.activation);
      doc.plan = {
        seal,
        placement: parsedPlacement,
        options: parsedOptions,
        optionsDigest: createHash('sha256')
          .update(toBinary(BatchHeaderSchema, create(BatchHeaderSchema, { sealId, placement, options })))
          .digest(),
        password: start.documentPassword,
        activation,
      };
      doc.spool = documentSpool(this.context, start.documentSize);
    } catch (error) {
      this.#failEarly(doc, error);
    } finally {
      start.activation?.pin.fill(0); // the activation keeps its own copy until the document ends
    }
  }

  #find(id: string, what: string): BatchDocument {
    const doc = this.#documents.get(id);
    if (doc === undefined || doc.ended) {
      throw new SealdError(
        'invalid-input',
        'DOCUMENT_NOT_STARTED',
        `${what} for document ${JSON.stringify(id)}, which is not started (or already ended)`,
      );
    }
    return doc;
  }

  async #chunk(doc: BatchDocument, data: Uint8Array): Promise<void> {
    doc.bytesIn += data.byteLength;
    if (doc.failed || doc.spool === undefined) return;
    try {
      await doc.spool.append(data);
    } catch (error) {
      this.#failEarly(doc, error); // the spool discarded itself
    }
  }

  #end(doc: BatchDocument): void {
    doc.ended = true;
    this.#close(doc);
    if (doc.failed) {
      this.#forget(doc);
      return;
    }
    doc.work = this.#track(this.#seal(doc));
  }

  /** A document refused before its end: answer now, drop its later chunks, keep its id reserved until its end. */
  #failEarly(doc: BatchDocument, error: unknown): void {
    doc.failed = true;
    this.#close(doc);
    doc.plan?.activation.settle(error);
    const spool = doc.spool;
    doc.spool = undefined;
    doc.work = this.#track(
      (async () => {
        await release(spool, this.#log);
        await this.#answerError(doc, error);
      })(),
    );
  }

  /** The document no longer counts against the open limit (its end arrived, or it failed and was answered). */
  #close(doc: BatchDocument): void {
    if (!doc.open) return;
    doc.open = false;
    this.#open--;
  }

  async #seal(doc: BatchDocument): Promise<void> {
    let source: ByteSource | undefined;
    try {
      const spool = doc.spool!;
      doc.spool = undefined;
      const digest: Hash = spool.digest;
      const inputDigest = digest.copy().digest();
      doc.access.note({ inputSha256: Buffer.from(inputDigest).toString('hex') });
      source = await finishSpool(spool);
      setDocumentPassword(source, doc.plan?.password);
      this.context.metrics.documentBytes.observe(source.size);
      const store = this.options.idempotency;
      const sealNow = (): Promise<Omit<SealRecord, 'createdAt'>> => this.#sealDocument(doc, source!, digest, store !== undefined);
      const key =
        store === undefined
          ? ''
          : idempotencyKey({ principal: this.#principal, documentId: doc.id, inputDigest, optionsDigest: doc.plan!.optionsDigest });
      let { record, replayed } =
        store === undefined
          ? { record: { ...(await sealNow()), createdAt: Date.now() } as SealRecord, replayed: false }
          : await store.sealOnce(key, sealNow);
      // A stored record keeps the facts that regenerate the revision, not the revision (idempotency-replay.ts).
      let appended = record.appended ?? (await this.#regenerate(doc, source, digest, record));
      if (appended === undefined) {
        record = { ...(await sealNow()), createdAt: Date.now() };
        await store?.put(key, record);
        replayed = false;
        appended = record.appended!;
      }
      doc.plan!.activation.settle(undefined);
      if (this.#abort.signal.aborted) throw abortReason(this.#abort.signal);
      const summary = fromBinary(SealSummarySchema, record.summary);
      const revision = appended;
      if (summary.repaired !== '' && doc.repaired === undefined) doc.repaired = { reason: summary.repaired };
      // Durable in the audit log before the caller can see the sealed document.
      await doc.access.succeeded({
        ...(doc.repaired === undefined ? {} : { repaired: doc.repaired }),
        outputSha256: digest.copy().update(revision).digest('hex'),
        revision: summary.revision,
        placement: { pages: summary.pages, byteRange: summary.byteRange.map(Number), fieldName: summary.fieldName, ...(replayed ? { replayed: true } : {}) },
      });
      const sealedSource = source;
      const inputSize = source.size;
      await this.#answer(doc, async () => {
        const bytesOut = await this.#sendDocument(doc.id, sealedSource, revision);
        await this.#send(
          create(SealBatchResponseSchema, {
            documentId: doc.id,
            payload: {
              case: 'sealed',
              value: create(DocumentSealedSchema, { summary, replayed, inputSha256: inputDigest, inputSize: BigInt(inputSize) }),
            },
          }),
        );
        return { status: 'OK', bytesOut, replayed };
      });
    } catch (error) {
      doc.plan?.activation.settle(error);
      await release(source, this.#log);
      source = undefined;
      await this.#answerError(doc, error);
    } finally {
      await release(source, this.#log);
    }
  }

  /** Seal the document; with `record`, also return the facts that regenerate its revision for the store. */
  async #sealDocument(doc: BatchDocument, source: ByteSource, digest: Hash, record: boolean): Promise<Omit<SealRecord, 'createdAt'>> {
    const plan = doc.plan!;
    const recorder = record ? new SealRecorder() : undefined;
    const timestamper = plan.options.timestamper;
    const stop = this.context.metrics.documentSealDuration.startTimer({ operation: 'batch_document', placement: doc.placementKind });
    const outcome = await this.context.sealDocument(
      source,
      recorder === undefined ? plan.activation.material : recorder.material(plan.activation.material),
      plan.placement,
      {
        ...plan.options,
        ...(recorder === undefined ? {} : { idEntropy: recorder.idEntropy }),
        ...(recorder === undefined || timestamper === undefined ? {} : { timestamper: recorder.timestamper(timestamper) }),
        sourceDigest: digest,
        signal: this.#abort.signal,
        approvePages: (pages) => doc.access.authorize(doc.sealLabel, { placement: doc.placementKind, pages: [...pages] }),
      },
    );
    stop();
    noteMissingTimestamp(this.context, this.#log.child({ documentId: doc.id }), outcome);
    if (outcome.repaired !== undefined) {
      doc.repaired = { reason: outcome.repaired, ...(outcome.repairedHow === undefined ? {} : { how: outcome.repairedHow }) };
    }
    const summary = summaryOf(outcome, source.size + outcome.appended.byteLength);
    const facts = recorder?.facts(outcome.appended, outcome.signingTime, outcome.timestampMissing !== undefined);
    return {
      appended: outcome.appended,
      summary: toBinary(SealSummarySchema, summary),
      ...(facts === undefined ? {} : { facts: encodeReplayFacts(facts) }),
    };
  }

  /**
   * The revision of a stored seal, written again from its facts without signing; undefined when it cannot be
   * (unreadable facts, or the seal's configuration changed since: the regenerated bytes are not the ones recorded).
   */
  async #regenerate(doc: BatchDocument, source: ByteSource, digest: Hash, record: SealRecord): Promise<Uint8Array | undefined> {
    const facts = record.facts === undefined ? undefined : decodeReplayFacts(record.facts);
    if (facts === undefined) {
      this.#log.warn({ documentId: doc.id }, 'idempotency record unreadable: sealing the document again');
      return undefined;
    }
    const plan = doc.plan!;
    const { timestamper: _live, ...options } = plan.options;
    void _live;
    const outcome = await this.context.sealDocument(source, replayMaterial(plan.activation.material, facts), plan.placement, {
      ...options,
      ...(facts.timestamp === undefined ? {} : { timestamper: replayTimestamper(facts.timestamp) }),
      ...(facts.missingTimestamp === undefined ? {} : { timestamper: missingTimestamper(facts.missingTimestamp) }),
      signingTime: facts.signingTime,
      idEntropy: facts.idEntropy,
      sourceDigest: digest,
      signal: this.#abort.signal,
      approvePages: (pages) => doc.access.authorize(doc.sealLabel, { placement: doc.placementKind, pages: [...pages] }),
    });
    if (isRecordedRevision(outcome.appended, facts)) return outcome.appended;
    this.#log.warn(
      { documentId: doc.id },
      "a stored seal no longer regenerates byte for byte (the seal's certificate or image changed?): sealing the document again",
    );
    return undefined;
  }

  async #answerError(doc: BatchDocument, error: unknown): Promise<void> {
    await doc.access.failed(this.#lifetime.clientGone ? abortReason(this.#lifetime.signal) : error);
    if (this.#abort.signal.aborted) {
      this.#finish(doc, { status: this.#lifetime.clientGone ? 'CANCELLED' : 'ABORTED', bytesOut: 0, replayed: false });
      return;
    }
    const status = grpcStatusOf(error, this.#requestId);
    if (status.internal) this.#log.error({ err: error, documentId: doc.id }, 'document seal failed');
    await this.#answer(doc, async () => {
      await this.#send(
        create(SealBatchResponseSchema, {
          documentId: doc.id,
          payload: {
            case: 'error',
            value: create(DocumentErrorSchema, { code: status.code, errorCode: status.sealdCode, message: status.details }),
          },
        }),
      );
      return { status: statusName(status.code), errorCode: status.sealdCode, bytesOut: 0, replayed: false };
    });
  }

  /** Queue a document's answer behind the others; account for it once written (or once the call failed). */
  async #answer(
    doc: BatchDocument,
    write: () => Promise<{ status: string; errorCode?: string; bytesOut: number; replayed: boolean }>,
  ): Promise<void> {
    const turn = this.#output.then(async () => {
      if (this.#abort.signal.aborted) throw abortReason(this.#abort.signal);
      return write();
    });
    this.#output = turn.then(
      () => undefined,
      () => undefined,
    );
    try {
      this.#finish(doc, await turn);
    } catch (error) {
      this.#abort.abort(error instanceof SealdError ? error : abortReason(this.#abort.signal));
      this.#finish(doc, { status: this.#lifetime.clientGone ? 'CANCELLED' : 'ABORTED', bytesOut: 0, replayed: false });
    }
  }

  #finish(doc: BatchDocument, result: { status: string; errorCode?: string; bytesOut: number; replayed: boolean }): void {
    if (doc.answered) return;
    doc.answered = true;
    const metrics = this.context.metrics;
    metrics.inflightDocuments.dec();
    metrics.requests.inc({ operation: 'batch_document', code: result.status });
    metrics.documentBytesTotal.inc({ operation: 'batch_document', direction: 'in' }, doc.bytesIn);
    metrics.documentBytesTotal.inc({ operation: 'batch_document', direction: 'out' }, result.bytesOut);
    if (result.replayed) metrics.idempotentReplays.inc();
    this.#counts.bytesIn += doc.bytesIn;
    this.#counts.bytesOut += result.bytesOut;
    if (result.status !== 'OK') this.#counts.failed++;
    else if (result.replayed) this.#counts.replayed++;
    else this.#counts.sealed++;
    logRequest(this.#log, {
      requestId: this.#requestId,
      principal: this.#principal,
      operation: 'batch_document',
      seal: doc.sealLabel,
      placement: doc.placementKind,
      documentId: doc.id,
      bytesIn: doc.bytesIn,
      bytesOut: result.bytesOut,
      durationMs: performance.now() - doc.started,
      status: result.status,
      ...(result.errorCode === undefined ? {} : { errorCode: result.errorCode }),
      ...(doc.repaired === undefined ? {} : { repaired: doc.repaired }),
      ...(result.replayed ? { replayed: true } : {}),
    });
    this.#inflight--;
    this.#slotWaiters.shift()?.();
    if (doc.ended) this.#forget(doc);
  }

  /** Run a document's work, tracked until it settles (it never rejects: failures are answered). */
  #track(work: Promise<void>): Promise<void> {
    const tracked = work.catch((error: unknown) => this.#log.error({ err: error }, 'document work failed'));
    this.#work.add(tracked);
    void tracked.finally(() => this.#work.delete(tracked));
    return tracked;
  }

  async #settled(): Promise<void> {
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
    await this.#output;
  }

  /** Free a document's id once it is both answered and ended. */
  #forget(doc: BatchDocument): void {
    if (doc.answered && doc.ended && this.#documents.get(doc.id) === doc) this.#documents.delete(doc.id);
  }

  #slotFreed(): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      this.#slotWaiters.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** The original bytes (unless the caller asked for the new revision only), then the new revision, as chunks. */
  async #sendDocument(documentId: string, source: ByteSource, appended: Uint8Array): Promise<number> {
    let sent = 0;
    const sendChunk = async (chunk: Uint8Array): Promise<void> => {
      await this.#send(create(SealBatchResponseSchema, { documentId, payload: { case: 'chunk', value: chunk } }));
      sent += chunk.byteLength;
    };
    if (this.#header?.answer !== BatchAnswer.APPENDED) {
      for await (const chunk of source.chunks(0, source.size, RESPONSE_CHUNK_BYTES)) await sendChunk(chunk);
    }
    for (let offset = 0; offset < appended.byteLength; offset += RESPONSE_CHUNK_BYTES) {
      await sendChunk(appended.subarray(offset, Math.min(offset + RESPONSE_CHUNK_BYTES, appended.byteLength)));
    }
    return sent;
  }

  /** Write one message, waiting for the stream to drain when its buffer is full. */
  #send(message: SealBatchResponse): Promise<void> {
    return writeOrDrain(this.call, message, this.#abort.signal);
  }

  /** The next request message; undefined at the end of the stream; DRAINING once the server shuts down. */
  async #next(messages: RequestReader): Promise<SealBatchRequest | undefined | typeof DRAINING> {
    const signal = this.#lifetime.signal;
    if (this.#abort.signal.aborted) throw abortReason(this.#abort.signal);
    const result = await messages.next([signal, this.options.draining]);
    // A cancelled call may also just end: never take a cut-off batch for a complete one.
    if (signal.aborted || this.#lifetime.clientGone) throw abortReason(signal);
    if (this.#abort.signal.aborted) throw abortReason(this.#abort.signal);
    return result === STOPPED ? DRAINING : result;
  }

  /** Server shutdown: answer what was received, refuse what was still uploading, then fail the call. */
  async #drain(): Promise<never> {
    const draining = (): SealdError =>
      new SealdError('unavailable', 'SERVER_DRAINING', 'the server is shutting down: send this document again');
    for (const doc of this.#documents.values()) {
      if (doc.ended || doc.failed) continue;
      this.#failEarly(doc, draining());
      doc.ended = true;
    }
    await this.#settled();
    const answered = this.#counts.sealed + this.#counts.replayed + this.#counts.failed;
    throw new SealdError(
      'unavailable',
      'SERVER_DRAINING',
      `the server is shutting down after answering ${answered} document(s) of this call: send the documents not answered again`,
    );
  }

  /** After an abort: wait for every document's work to settle, then remove what is still spooled. */
  async #cleanUp(): Promise<void> {
    for (const resolve of this.#slotWaiters.splice(0)) resolve();
    await this.#settled();
    for (const doc of this.#documents.values()) {
      const spool = doc.spool;
      doc.spool = undefined;
      doc.plan?.activation.settle(abortReason(this.#abort.signal));
      await release(spool, this.#log);
      this.#finish(doc, { status: this.#lifetime.clientGone ? 'CANCELLED' : 'ABORTED', bytesOut: 0, replayed: false });
    }
  }

  #fail(error: unknown): { code: string; errorCode?: string } {
    if (this.#lifetime.clientGone) {
      const reason = abortReason(this.#lifetime.signal);
      this.#log.debug({ reason: reason.code }, 'call ended by the client');
      return { code: reason.category === 'deadline' ? 'DEADLINE_EXCEEDED' : 'CANCELLED', errorCode: reason.code };
    }
    const status = grpcStatusOf(error, this.#requestId);
    if (status.internal) this.#log.error({ err: error }, 'batch failed');
    this.call.emit('error', status);
    return { code: statusName(status.code), errorCode: status.sealdCode };
  }
}
