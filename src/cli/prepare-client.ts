/**
 * The client side of PreparedService.SignPrepared (`seald batch --prepare-locally`): each document is prepared here
 * with seald's own engine (engine/seal-prepare.ts: parse, plan the placement, write the revision with its /Contents
 * placeholder, hash the byte ranges), only its digest and description go to the server, and the CMS that comes back
 * is embedded and checked here (engine/output-check.ts) before the document is handed to `onChunk` — the original
 * bytes, then the new revision — and `onResult`, exactly as sealBatch (batch-client.ts) hands them over. The
 * documents' bytes never cross the network.
 *
 * The first answer of the call is the seal's preparation kit (appearance, certificate chain, bytes to reserve for
 * the CMS): with it the revision written here is the one the server would write for the same document, signing
 * time and /ID entropy.
 *
 * Resumption: with a `journal`, the signing time and /ID entropy of each preparation are kept (under the document's
 * id, with its input SHA-256) before its digest is sent, and dropped once its result is handled. A run that died in
 * between prepares the document again with the same facts, so the digest is the same and the server answers from
 * its idempotency store instead of signing twice. Facts too old for the server's clock check (SIGNING_TIME_SKEW,
 * meaning the server kept no signature for them) are dropped and the document is prepared afresh.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { create } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { checkSealOutput } from '../engine/output-check.ts';
import { embedSeal, prepareSeal, type PreparationMaterial, type PreparedSeal } from '../engine/seal.ts';
import type { Placement } from '../engine/placements.ts';
import { SealdError } from '../errors.ts';
import {
  PreparedService,
  SignPreparedRequestSchema,
  type PreparationKit,
  type PreparedSignature,
  type SignPreparedRequest,
  type SignPreparedResponse,
} from '../gen/seald/v1/prepared_pb.ts';
import type { DocumentError } from '../gen/seald/v1/batch_pb.ts';
import { PlacementSchema, SignatureOptionsSchema, TimestampMode } from '../gen/seald/v1/seald_pb.ts';
import { FileSource } from '../pdf/file-source.ts';
import { BufferSource, type ByteSource } from '../pdf/source.ts';
import { prepareSealImage } from '../pdf/image.ts';
import { CLIENT_CHANNEL_OPTIONS } from '../rpc/channel-options.ts';
import { grpcClientConstructor, type GrpcServiceClient } from '../rpc/grpc-service.ts';
import { placementOf } from '../rpc/placement-of.ts';
import { sealOptionsOf, type DictionaryOptions } from '../rpc/seal-options-of.ts';
import { summaryOf } from '../rpc/seal-summary.ts';
import { grpcStatusOf, statusName } from '../rpc/status.ts';
import { DEFAULT_BATCH_CONCURRENCY, type BatchDefaults, type BatchInput, type BatchResult, type BatchTotals, type SealBatchOptions } from './batch-client.ts';
import { channelCredentials, type ClientTls } from './client.ts';

export type PreparedClient = GrpcServiceClient<typeof PreparedService.method>;

const PreparedClientConstructor = grpcClientConstructor(PreparedService);

export function connectPrepared(address: string, options: grpc.ClientOptions = {}, tls?: ClientTls): PreparedClient {
  return new PreparedClientConstructor(address, channelCredentials(tls), { ...CLIENT_CHANNEL_OPTIONS, ...options });
}

/** The facts of one preparation that make it repeatable byte for byte. */
export interface PreparationFacts {
  inputSha256: string;
  signingTime: string;
  idEntropy: string;
}

/** Where those facts are kept between runs (seald batch: a small file per document in OUT_DIR). */
export interface PreparationJournal {
  get(id: string): Promise<PreparationFacts | undefined>;
  put(id: string, facts: PreparationFacts): Promise<void>;
  remove(id: string): Promise<void>;
  /** Called once the call is over (tidy up: e.g. remove an empty directory). */
  settle?(): Promise<void>;
}

export interface SealPreparedOptions extends Omit<SealBatchOptions, 'answer'> {
  journal?: PreparationJournal;
  /**
   * Documents up to this many bytes are read once and held in memory from hash to output (default 4 MiB; at most
   * `concurrency` of them at once); larger ones are read twice, the second read checked against the first's digest.
   */
  heldBytes?: number;
  /**
   * Writes the whole original `file` as the first bytes of document `id`'s output (a consumer writing to a file: a
   * copy in the kernel). When given, a document over `heldBytes` is handed over this way instead of as chunks; the
   * revision still comes through `onChunk`. Returns the bytes written.
   */
  onCopy?: (id: string, file: string) => Promise<number>;
}

export const DEFAULT_HELD_BYTES = 4 * 1024 * 1024;

type Answer = { case: 'signature'; value: PreparedSignature } | { case: 'error'; value: DocumentError };

export async function sealPrepared(
  client: PreparedClient,
  defaults: BatchDefaults,
  inputs: Iterable<BatchInput>,
  options: SealPreparedOptions = {},
): Promise<BatchTotals> {
  const metadata = new grpc.Metadata();
  if (options.requestId !== undefined) metadata.set('x-request-id', options.requestId);
  const call = client.signPrepared(metadata, options.deadline === undefined ? {} : { deadline: options.deadline });
  const onAbort = (): void => call.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let failure: unknown;
  let kitArrived: (kit: PreparationKit) => void = () => undefined;
  const kit = new Promise<PreparationKit | undefined>((resolve) => (kitArrived = resolve));
  const waiting = new Map<string, (answer: Answer | undefined) => void>();
  const ended = new Promise<void>((resolve) => {
    call.on('data', (message: SignPreparedResponse) => {
      const { payload } = message;
      if (payload.case === 'kit') kitArrived(payload.value);
      else if (payload.case === 'signature' || payload.case === 'error') waiting.get(message.documentId)?.(payload);
    });
    call.on('error', (error: unknown) => {
      failure ??= error;
    });
    call.once('status', () => {
      kitArrived(undefined as unknown as PreparationKit);
      for (const answer of waiting.values()) answer(undefined);
      resolve();
    });
  });
  const write = async (request: SignPreparedRequest): Promise<void> => {
    if (!call.write(request)) await Promise.race([once(call, 'drain'), ended]);
  };

  const totals: BatchTotals = { documents: 0, sealed: 0, replayed: 0, failed: 0, bytesIn: 0, bytesOut: 0, concurrency: 0 };
  const signatureOptions = create(SignatureOptionsSchema, defaults.options ?? {});
  try {
    if (signatureOptions.timestampMode === TimestampMode.BEST_EFFORT) {
      // SignPrepared time-stamps strictly: refuse rather than quietly fail documents the caller meant to seal B-B.
      throw new SealdError('invalid-input', 'BEST_EFFORT_NOT_PREPARED', '--timestamp-best-effort is not offered with --prepare-locally');
    }
    await write(
      create(SignPreparedRequestSchema, {
        payload: { case: 'header', value: { sealId: defaults.sealId, ...(signatureOptions.timestamp === undefined ? {} : { timestamp: signatureOptions.timestamp }) } },
      }),
    );
    const given = await kit;
    if (given === undefined) throw failure ?? new Error('the SignPrepared call ended before the preparation kit');
    const material = materialOf(given);
    const placement = placementOf(create(PlacementSchema, defaults.placement ?? {}));
    const dictionary = sealOptionsOf(signatureOptions);
    const concurrency = Math.max(1, Math.min(options.concurrency ?? DEFAULT_BATCH_CONCURRENCY, given.maxInflight || 1));
    totals.concurrency = concurrency;

    const sign = (input: BatchInput, prepared: PreparedSeal, inputSha256: Uint8Array, size: number): Promise<Answer | undefined> => {
      const answered = new Promise<Answer | undefined>((resolve) => waiting.set(input.id, resolve));
      void write(
        create(SignPreparedRequestSchema, {
          payload: {
            case: 'document',
            value: {
              documentId: input.id,
              documentDigest: prepared.documentDigest,
              description: {
                inputSize: BigInt(size),
                inputSha256,
                pages: prepared.pages,
                placement: create(PlacementSchema, defaults.placement ?? {}),
                fieldName: prepared.fieldName,
                revision: prepared.signature.revision,
                revisionSize: BigInt(prepared.signature.bytes.byteLength),
                byteRange: prepared.signature.byteRange.map(BigInt),
                signingTime: timestampFromDate(prepared.signingTime),
                contentsSize: prepared.contentsSize,
                options: signatureOptions,
              },
              ...(input.activationPin === undefined ? {} : { activation: { pin: Buffer.from(input.activationPin) } }),
            },
          },
        }),
      );
      return answered.finally(() => waiting.delete(input.id));
    };

    const one = async (input: BatchInput): Promise<void> => {
      totals.documents++;
      const result = await sealOne(input, { material, placement, dictionary, sign, journal: options.journal, onChunk: options.onChunk, onCopy: options.onCopy, heldBytes: options.heldBytes ?? DEFAULT_HELD_BYTES });
      if (!result.ok) totals.failed++;
      else if (result.replayed) totals.replayed++;
      else totals.sealed++;
      totals.bytesOut += result.ok ? result.bytesOut : 0;
      await options.onResult?.(result);
      if (result.ok || result.errorCode !== 'SIGNING_TIME_SKEW') await options.journal?.remove(input.id);
    };
    const running = new Set<Promise<void>>();
    for (const input of inputs) {
      if (failure !== undefined) break;
      options.onStart?.(input.id);
      const work: Promise<void> = one(input).finally(() => running.delete(work));
      running.add(work);
      if (running.size >= concurrency) await Promise.race(running);
    }
    await Promise.all(running);
    call.end();
  } catch (error) {
    failure ??= error;
    call.cancel();
  } finally {
    await ended;
    options.signal?.removeEventListener('abort', onAbort);
    await options.journal?.settle?.();
  }
  if (failure !== undefined) throw failure;
  return totals;
}

/** The seal as the kit describes it, in the shape the engine prepares with (the image prepared as the server does). */
function materialOf(kit: PreparationKit): PreparationMaterial {
  const [signerCertificate] = kit.certificateChain;
  if (signerCertificate === undefined || kit.image.byteLength === 0 || kit.contentsSize <= 0) {
    throw new SealdError('internal', 'KIT_INCOMPLETE', `the server's preparation kit for seal "${kit.sealId}" lacks its certificate, image or contents size`);
  }
  return {
    id: kit.sealId,
    image: prepareSealImage(kit.image),
    defaultWidth: kit.defaultWidth,
    defaultHeight: kit.defaultHeight,
    ...(kit.dateStampFormat === '' ? {} : { dateStampFormat: kit.dateStampFormat }),
    ...(kit.timeZone === '' ? {} : { timeZone: kit.timeZone }),
    ...(kit.sealKind === '' ? {} : { kind: kit.sealKind }),
    signerCertificate,
    contentsSize: kit.contentsSize,
  };
}

interface Preparation {
  material: PreparationMaterial;
  placement: Placement;
  dictionary: DictionaryOptions;
  sign(input: BatchInput, prepared: PreparedSeal, inputSha256: Uint8Array, size: number): Promise<Answer | undefined>;
  journal: PreparationJournal | undefined;
  onChunk: SealBatchOptions['onChunk'];
  onCopy: SealPreparedOptions['onCopy'];
  /** Documents up to this size are read once and held in memory while they are sealed. */
  heldBytes: number;
}

/** Prepare, have signed, embed, check and hand over one document; every failure is its own result. */
async function sealOne(input: BatchInput, work: Preparation): Promise<BatchResult> {
  if (input.file === undefined) throw new Error(`document ${input.id}: --prepare-locally reads documents from files`);
  const file = await FileSource.open(input.file);
  try {
    // A document up to the bound is read once, whole: hashed, parsed and copied into the output from that one buffer,
    // so what is written is by construction what was hashed. A larger one is hashed here and read again for the output.
    const held = file.size <= work.heldBytes ? await readWhole(file) : undefined;
    const source: ByteSource = held === undefined ? file : new BufferSource(held);
    const hash = createHash('sha256');
    if (held !== undefined) hash.update(held);
    else for await (const chunk of file.chunks(0, file.size)) hash.update(chunk);
    const inputSha256 = hash.copy().digest();
    for (let fresh = false; ; fresh = true) {
      const facts = await factsFor(input.id, inputSha256.toString('hex'), work.journal, fresh);
      const prepared = await prepareSeal(source, work.material, work.placement, {
        ...work.dictionary,
        signingTime: new Date(facts.signingTime),
        idEntropy: Buffer.from(facts.idEntropy, 'hex'),
        sourceDigest: hash,
        ...(input.password === undefined ? {} : { password: input.password }),
      });
      const answer = await work.sign(input, prepared, inputSha256, source.size);
      if (answer === undefined) throw new SealdError('unavailable', 'CALL_ENDED', 'the call ended before this document was answered');
      if (answer.case === 'error') {
        if (answer.value.errorCode === 'SIGNING_TIME_SKEW' && !fresh && facts.reused) continue;
        return refused(input.id, answer.value.code, answer.value.errorCode, answer.value.message);
      }
      const signature = answer.value;
      const outcome = embedSeal(prepared, signature.cms, signature.timestampTime === undefined ? undefined : timestampDate(signature.timestampTime));
      checkSealOutput(source, outcome, work.material.signerCertificate);
      let bytesOut = 0;
      if (held === undefined && work.onCopy !== undefined) bytesOut = await work.onCopy(input.id, input.file);
      else {
        for await (const chunk of source.chunks(0, source.size)) {
          await work.onChunk?.(input.id, chunk);
          bytesOut += chunk.byteLength;
        }
      }
      // Read again (a large document): a file written since it was opened for its hash, or replaced under its name
      // (onCopy copies by name), must fail here, not produce an output whose ByteRange digest does not match its
      // bytes. fstat, not a second SHA-256 of the copy: that cost ~6% of the client's CPU on the bench's corpus,
      // whose bytes are mostly one 50 MB scan.
      if (held === undefined && (bytesOut !== source.size || (await file.changedSinceOpen()) || !(await file.isAt(input.file)))) {
        throw new SealdError('precondition', 'INPUT_CHANGED', `${input.file} changed while it was being sealed; its output is discarded`);
      }
      await work.onChunk?.(input.id, outcome.appended);
      bytesOut += outcome.appended.byteLength;
      const summary = summaryOf(outcome, bytesOut);
      return { id: input.id, ok: true, summary, replayed: signature.replayed, bytesIn: 0, bytesOut };
    }
  } catch (error) {
    // This process's own failure: the caller may see all of it (grpcStatusOf hides internal details from remote callers).
    const status = grpcStatusOf(error);
    return refused(input.id, status.code, status.sealdCode, error instanceof Error ? error.message : String(error));
  } finally {
    await file.close();
  }
}

/** The whole file in one buffer, in one positional read (fewer, larger reads than the chunked pass). */
async function readWhole(file: FileSource): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of file.chunks(0, file.size, Math.max(1, file.size))) parts.push(chunk);
  const whole = parts.length === 1 ? Buffer.from(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.byteLength) : Buffer.concat(parts);
  if (whole.byteLength !== file.size) throw new SealdError('precondition', 'INPUT_CHANGED', 'the file shrank while it was being read');
  return whole;
}

/** The journal's facts for this input when it has them (`reused`), else fresh ones, journalled before use. */
async function factsFor(
  id: string,
  inputSha256: string,
  journal: PreparationJournal | undefined,
  fresh: boolean,
): Promise<PreparationFacts & { reused: boolean }> {
  const kept = fresh ? undefined : await journal?.get(id);
  if (kept !== undefined && kept.inputSha256 === inputSha256) return { ...kept, reused: true };
  const facts = { inputSha256, signingTime: new Date().toISOString(), idEntropy: randomBytes(24).toString('hex') };
  await journal?.put(id, facts);
  return { ...facts, reused: false };
}

function refused(id: string, code: number, errorCode: string, message: string): BatchResult {
  return { id, ok: false, code, status: statusName(code), errorCode, message, bytesIn: 0 };
}
