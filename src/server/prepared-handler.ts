/**
 * PreparedService.SignPrepared (proto/seald/v1/prepared.proto): sign the digests of documents a client prepared
 * itself (`seald batch --prepare-locally`). The server never sees the documents: it authorises the call under the
 * named-only grant `sign-digest`, sends the seal's preparation kit, and per document checks what it can (digest
 * length, declared signing time against its clock), opens the seal's activation with the document's own PIN,
 * builds and signs the CMS with its own signed attributes (engine signPreparedDigest), records the signature in the
 * audit log with the client's declared description — durable before the answer — and answers the CMS.
 *
 * One call carries many documents; at most `maxInflight` are signed at a time (the reader stops pulling meanwhile,
 * so gRPC flow control holds the client back). A document's failure is its own DocumentError; only a protocol
 * violation, a refused header, a cancel, a deadline or a shutdown ends the call.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { create, toBinary, fromBinary } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type * as grpc from '@grpc/grpc-js';
import { SealdError } from '../errors.ts';
import { contentsSizeWith, signPreparedDigest, type Timestamper } from '../engine/seal.ts';
import { DocumentErrorSchema } from '../gen/seald/v1/batch_pb.ts';
import {
  PreparationKitSchema,
  PreparedSignatureSchema,
  SignPreparedResponseSchema,
  type PreparedDocument,
  type PreparedHeader,
  type SignPreparedRequest,
  type SignPreparedResponse,
} from '../gen/seald/v1/prepared_pb.ts';
import type { DeclaredDocumentRecord } from '../audit/record.ts';
import { grpcStatusOf, statusName } from '../rpc/status.ts';
import { callAccess } from './access.ts';
import { abortReason, callLifetime, requestIdOf, writeOrDrain, type CallLifetime } from './call.ts';
import type { ServiceContext } from './context.ts';
import { idempotencyKey, type IdempotencyStore } from './idempotency.ts';
import { logRequest, type Logger } from './logger.ts';
import { RequestReader, STOPPED } from './batch-reader.ts';
import { availableSeal } from './seal-request.ts';
import type { ConfiguredSeal } from './seals.ts';
import { principalOf } from './tls.ts';

const MAX_DOCUMENT_ID_LENGTH = 256;
/** How far a declared signing time (/M) may be from the server's clock. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

export interface PreparedOptions {
  maxInflight: number;
  idempotency: IdempotencyStore | undefined;
  draining: AbortSignal;
}

type PreparedCall = grpc.ServerDuplexStream<SignPreparedRequest, SignPreparedResponse>;

export function signPreparedHandler(context: ServiceContext, options: PreparedOptions): grpc.handleBidiStreamingCall<SignPreparedRequest, SignPreparedResponse> {
  return (call) => {
    context.track(new PreparedStream(context, options, call).run());
  };
}

/** What every document of the call is signed with, settled once from the header. */
interface CallSeal {
  seal: ConfiguredSeal;
  timestamper: Timestamper | undefined;
  contentsSize: number;
}

class PreparedStream {
  readonly #started = performance.now();
  readonly #requestId: string;
  readonly #lifetime: CallLifetime;
  readonly #principal: string;
  readonly #log: Logger;
  readonly #inflight = new Set<string>();
  readonly #work = new Set<Promise<void>>();
  #slotFreed: (() => void) | undefined;
  #sealId = '(none)';
  #counts = { signed: 0, replayed: 0, failed: 0 };

  constructor(
    private readonly context: ServiceContext,
    private readonly options: PreparedOptions,
    private readonly call: PreparedCall,
  ) {
    this.#principal = principalOf(call).name;
    this.#requestId = requestIdOf(call);
    this.#lifetime = callLifetime(call);
    this.#log = context.logger.child({ requestId: this.#requestId, rpc: 'SignPrepared' });
  }

  async run(): Promise<void> {
    let code = 'OK';
    let errorCode: string | undefined;
    try {
      await this.#readAll(new RequestReader<SignPreparedRequest>(this.call));
      await this.#settled();
      if (this.options.draining.aborted) {
        throw new SealdError('unavailable', 'SERVER_DRAINING', 'the server is shutting down: send the documents not answered again');
      }
      this.call.end();
    } catch (error) {
      await this.#settled();
      const status = grpcStatusOf(this.#lifetime.clientGone ? abortReason(this.#lifetime.signal) : error, this.#requestId);
      code = statusName(status.code);
      errorCode = status.sealdCode;
      if (status.internal) this.#log.error({ err: error }, 'sign-prepared call failed');
      if (!this.#lifetime.clientGone) this.call.emit('error', status);
    } finally {
      this.#lifetime.dispose();
      this.context.metrics.requests.inc({ operation: 'sign_prepared', code });
      logRequest(this.#log, {
        requestId: this.#requestId,
        principal: this.#principal,
        operation: 'sign_prepared',
        seal: this.#sealId,
        placement: '(prepared)',
        bytesIn: 0,
        bytesOut: 0,
        durationMs: performance.now() - this.#started,
        status: code,
        ...(errorCode === undefined ? {} : { errorCode }),
        documents: { sealed: this.#counts.signed, replayed: this.#counts.replayed, failed: this.#counts.failed },
      });
    }
  }

  async #readAll(reader: RequestReader<SignPreparedRequest>): Promise<void> {
    const next = async (): Promise<SignPreparedRequest | undefined> => {
      const message = await reader.next([this.#lifetime.signal, this.options.draining]);
      if (this.#lifetime.signal.aborted || this.#lifetime.clientGone) throw abortReason(this.#lifetime.signal);
      return message === STOPPED ? undefined : message;
    };
    const first = await next();
    if (first?.payload.case !== 'header') {
      throw new SealdError('invalid-input', 'HEADER_REQUIRED', 'the first message of a SignPrepared call must be a header');
    }
    const callSeal = await this.#open(first.payload.value);
    for (;;) {
      const message = await next();
      if (message === undefined) return;
      if (message.payload.case === 'header') {
        throw new SealdError('invalid-input', 'HEADER_REPEATED', 'only the first message of a SignPrepared call may be a header');
      }
      if (message.payload.case !== 'document') continue;
      const document = message.payload.value;
      const id = document.documentId;
      if (id === '' || id.length > MAX_DOCUMENT_ID_LENGTH) {
        throw new SealdError('invalid-input', 'DOCUMENT_ID_INVALID', `a document id must have 1 to ${MAX_DOCUMENT_ID_LENGTH} characters`);
      }
      if (this.#inflight.has(id)) throw new SealdError('invalid-input', 'DOCUMENT_ID_IN_USE', `document ${JSON.stringify(id)} is already being signed`);
      while (this.#inflight.size >= this.options.maxInflight) {
        await new Promise<void>((resolve) => (this.#slotFreed = resolve));
      }
      this.#inflight.add(id);
      const work = this.#sign(callSeal, document).finally(() => {
        this.#inflight.delete(id);
        this.#work.delete(work);
        this.#slotFreed?.();
        this.#slotFreed = undefined;
      });
      this.#work.add(work);
    }
  }

  /** Authorise the call on its seal and send the kit; a refusal here ends the call (audited once). */
  async #open(header: PreparedHeader): Promise<CallSeal> {
    const access = callAccess(this.context, this.call, 'sign-digest', this.#requestId);
    try {
      this.#sealId = header.sealId || '(none)';
      access.authorize(header.sealId);
      const seal = availableSeal(this.context, header.sealId);
      const timestamps = this.context.timestamps;
      const wantsTimestamp = header.timestamp ?? timestamps?.sealByDefault ?? false;
      if (wantsTimestamp && timestamps === undefined) {
        throw new SealdError('precondition', 'TSA_NOT_CONFIGURED', 'a signature time-stamp was asked for, but this server has no TSA configured (tsa.urls)');
      }
      const timestamper = wantsTimestamp ? timestamps!.client : undefined;
      const material = seal.material;
      const contentsSize = await contentsSizeWith(material.signer, timestamper, this.#lifetime.signal);
      await this.#send(
        create(SignPreparedResponseSchema, {
          payload: {
            case: 'kit',
            value: create(PreparationKitSchema, {
              sealId: seal.config.id,
              certificateChain: [...material.signer.certificates],
              image: seal.imagePng ?? new Uint8Array(0),
              defaultWidth: material.defaultWidth,
              defaultHeight: material.defaultHeight,
              dateStampFormat: material.dateStampFormat ?? '',
              contentsSize,
              timestamp: timestamper !== undefined,
              serverTime: timestampFromDate(new Date()),
              maxClockSkewSeconds: MAX_CLOCK_SKEW_SECONDS,
              maxInflight: this.options.maxInflight,
              activationRequired: seal.config.activation === 'required',
              timeZone: material.timeZone ?? '',
              sealKind: material.kind ?? '',
            }),
          },
        }),
      );
      return { seal, timestamper, contentsSize };
    } catch (error) {
      await access.failed(error);
      throw error;
    }
  }

  async #sign(callSeal: CallSeal, document: PreparedDocument): Promise<void> {
    const { seal } = callSeal;
    const id = document.documentId;
    const started = performance.now();
    const access = callAccess(this.context, this.call, 'sign-digest', this.#requestId);
    let activation: ReturnType<ServiceContext['activation']['open']> | undefined;
    let status = 'OK';
    let errorCode: string | undefined;
    let replayed = false;
    try {
      const digest = document.documentDigest;
      const declared = declaredRecord(document);
      access.note({
        certificateSerial: seal.certificate.serialNumber,
        inputSha256: declared.inputSha256,
        documentDigest: Buffer.from(digest).toString('hex'),
        declared,
      });
      access.authorize(seal.config.id);
      checkDeclaration(document, callSeal.contentsSize);
      const key = idempotencyKey({
        principal: this.#principal,
        documentId: id,
        inputDigest: document.description!.inputSha256,
        // A domain of its own: a prepared document's record never answers a SealBatch document, nor the reverse.
        optionsDigest: createHash('sha256').update('seald sign-digest\0').update(seal.config.id).update('\0').update(digest).update(callSeal.timestamper === undefined ? 'B-B' : 'B-T').digest(),
      });
      const signNow = async (): Promise<{ summary: Uint8Array }> => {
        checkSigningTime(document);
        activation = this.context.activation.open(seal, document.activation);
        const signed = await signPreparedDigest(activation.material.signer, digest, {
          contentsSize: document.description!.contentsSize,
          ...(callSeal.timestamper === undefined ? {} : { timestamper: callSeal.timestamper }),
          signal: this.#lifetime.signal,
        });
        activation.settle(undefined);
        return {
          summary: toBinary(
            PreparedSignatureSchema,
            create(PreparedSignatureSchema, {
              cms: signed.cms,
              ...(signed.timestampTime === undefined ? {} : { timestampTime: timestampFromDate(signed.timestampTime) }),
            }),
          ),
        };
      };
      const store = this.options.idempotency;
      const outcome = store === undefined ? { record: await signNow(), replayed: false } : await store.sealOnce(key, signNow);
      replayed = outcome.replayed;
      const signature = fromBinary(PreparedSignatureSchema, outcome.record.summary);
      signature.replayed = replayed;
      // Durable in the audit log before the caller can embed the signature.
      await access.succeeded(replayed ? { placement: { replayed: true } } : {});
      await this.#send(create(SignPreparedResponseSchema, { documentId: id, payload: { case: 'signature', value: signature } }));
    } catch (error) {
      activation?.settle(error);
      await access.failed(this.#lifetime.clientGone ? abortReason(this.#lifetime.signal) : error);
      const failure = grpcStatusOf(error, this.#requestId);
      status = statusName(failure.code);
      errorCode = failure.sealdCode;
      if (failure.internal) this.#log.error({ err: error, documentId: id }, 'prepared document signature failed');
      if (!this.#lifetime.signal.aborted) {
        await this.#send(
          create(SignPreparedResponseSchema, {
            documentId: id,
            payload: { case: 'error', value: create(DocumentErrorSchema, { code: failure.code, errorCode: failure.sealdCode, message: failure.details }) },
          }),
        ).catch(() => undefined);
      }
    } finally {
      document.activation?.pin.fill(0);
      if (status !== 'OK') this.#counts.failed++;
      else if (replayed) this.#counts.replayed++;
      else this.#counts.signed++;
      this.context.metrics.requests.inc({ operation: 'sign_prepared_document', code: status });
      if (replayed) this.context.metrics.idempotentReplays.inc();
      logRequest(this.#log, {
        requestId: this.#requestId,
        principal: this.#principal,
        operation: 'sign_prepared_document',
        seal: seal.config.id,
        placement: '(prepared)',
        documentId: id,
        bytesIn: 0,
        bytesOut: 0,
        durationMs: performance.now() - started,
        status,
        ...(errorCode === undefined ? {} : { errorCode }),
        ...(replayed ? { replayed: true } : {}),
      });
    }
  }

  async #settled(): Promise<void> {
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
  }

  /** Write one message, waiting for the stream to drain when its buffer is full. */
  #send(message: SignPreparedResponse): Promise<void> {
    return writeOrDrain(this.call, message, this.#lifetime.signal);
  }
}

/** What can be checked of a digest the server cannot recompute: its shape, and that the CMS can fit. */
function checkDeclaration(document: PreparedDocument, contentsSize: number): void {
  if (document.documentDigest.byteLength !== 32) {
    throw new SealdError('invalid-input', 'BAD_DIGEST_LENGTH', `document_digest must be a 32-byte SHA-256, got ${document.documentDigest.byteLength} bytes`);
  }
  const described = document.description;
  if (described === undefined || described.inputSha256.byteLength !== 32 || described.signingTime === undefined) {
    throw new SealdError('invalid-input', 'DESCRIPTION_REQUIRED', 'a prepared document needs its description: input SHA-256 (32 bytes) and signing time at least');
  }
  if (described.contentsSize < contentsSize) {
    throw new SealdError(
      'invalid-input',
      'CONTENTS_TOO_SMALL',
      `the revision reserves ${described.contentsSize} bytes for the CMS, the seal needs ${contentsSize} (PreparationKit.contents_size)`,
    );
  }
}

/** PAdES puts the claimed signing time in /M, written by the client: it must be now, by the server's clock. */
function checkSigningTime(document: PreparedDocument): void {
  const declared = timestampDate(document.description!.signingTime!).getTime();
  const skew = Math.abs(declared - Date.now()) / 1000;
  if (skew > MAX_CLOCK_SKEW_SECONDS) {
    throw new SealdError(
      'precondition',
      'SIGNING_TIME_SKEW',
      `the declared signing time is ${Math.round(skew)} s from the server's clock (at most ${MAX_CLOCK_SKEW_SECONDS} s): prepare the document again`,
    );
  }
}

/** The declared description as the audit log records it: digests and numbers, never document content or PINs. */
function declaredRecord(document: PreparedDocument): DeclaredDocumentRecord {
  const d = document.description;
  return {
    documentId: document.documentId,
    inputSize: Number(d?.inputSize ?? 0n),
    inputSha256: Buffer.from(d?.inputSha256 ?? new Uint8Array(0)).toString('hex'),
    pages: [...(d?.pages ?? [])],
    ...(d?.placement?.kind.case === undefined ? {} : { placement: { kind: d.placement.kind.case, ...toPlain(d.placement.kind.value) } }),
    fieldName: d?.fieldName ?? '',
    revision: d?.revision ?? 0,
    revisionSize: Number(d?.revisionSize ?? 0n),
    byteRange: (d?.byteRange ?? []).map(Number),
    ...(d?.signingTime === undefined ? {} : { signingTime: timestampDate(d.signingTime).toISOString() }),
    contentsSize: d?.contentsSize ?? 0,
  };
}

/** A placement message's scalar fields (pages, coordinates, keyword), for the record. */
function toPlain(value: object): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === '$typeName' || field === undefined) continue;
    if (typeof field === 'number' || typeof field === 'string' || typeof field === 'boolean') plain[key] = field;
    else if (typeof field === 'bigint') plain[key] = Number(field);
  }
  return plain;
}
