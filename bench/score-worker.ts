/**
 * The worker thread of bench/score-corpus.ts: seals and verifies one file at a time, in-process, with seald's engine.
 * A thread of its own so that the main thread can stop a file that hangs (PdfDocument.open is synchronous: no timer
 * in the same thread would ever fire) or runs out of memory (the worker's heap is capped), and start a new worker.
 *
 * The key stays in the main thread, which holds the TokenPool: this worker's Signer posts each digest there and
 * waits for the signature, so killing the worker never leaves a PKCS#11 session behind.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { Signer, SignatureAlgorithm } from '../src/crypto/signer.ts';
import { checkedSealDocument } from '../src/engine/output-check.ts';
import type { SealMaterial } from '../src/engine/seal.ts';
import { verifyDocument } from '../src/engine/verify/verify.ts';
import { SealdError, type ErrorCategory } from '../src/errors.ts';
import { PdfDocument } from '../src/pdf/document.ts';
import { prepareSealImage } from '../src/pdf/image.ts';
import { Budget, DEFAULT_VERIFY_LIMITS } from '../src/pdf/limits.ts';
import { findPage, pageCount } from '../src/pdf/page-tree.ts';
import { displayedSize } from '../src/pdf/placement.ts';
import { signatureFields } from '../src/pdf/signature-fields.ts';
import { BufferSource } from '../src/pdf/source.ts';
import type { FileJob, FileResult, Outcome, SealResult, VerifyResult, WorkerMessage, WorkerSetup } from './score-protocol.ts';

const setup = workerData as WorkerSetup;
const port = parentPort!;

let nextSign = 0;
const pendingSigns = new Map<number, { resolve(sig: Uint8Array): void; reject(e: unknown): void }>();

const signer: Signer = {
  certificates: setup.certificates.map((c) => new Uint8Array(c)),
  algorithm: setup.algorithm as SignatureAlgorithm,
  signDigest(digest: Uint8Array): Promise<Uint8Array> {
    const id = nextSign++;
    return new Promise((resolve, reject) => {
      pendingSigns.set(id, { resolve, reject });
      post({ type: 'sign', id, digest });
    });
  },
};

const seal: SealMaterial = {
  id: 'org',
  signer,
  image: prepareSealImage(new Uint8Array(setup.sealPng)),
  defaultWidth: 119,
  defaultHeight: 119,
};
const trustAnchors = setup.trustAnchors.map((a) => new Uint8Array(a));

function post(message: WorkerMessage): void {
  port.postMessage(message);
}

type SignError = { category: ErrorCategory; code: string; message: string };
port.on('message', (message: { type: 'job'; job: FileJob } | { type: 'signed'; id: number; signature?: Uint8Array; error?: SignError }) => {
  if (message.type === 'signed') {
    const pending = pendingSigns.get(message.id);
    pendingSigns.delete(message.id);
    if (message.signature) pending?.resolve(message.signature);
    else pending?.reject(new SealdError(message.error!.category, message.error!.code, message.error!.message));
    return;
  }
  void runJob(message.job).then(
    (result) => post({ type: 'done', result }),
    (error: unknown) => post({ type: 'done', result: { file: message.job.file, bytes: 0, seal: outcomeOf(error, 0) as SealResult } }),
  );
});
post({ type: 'ready' });

async function runJob(job: FileJob): Promise<FileResult> {
  const bytes = new Uint8Array(await readFile(job.file));
  post({ type: 'phase', phase: 'open' });
  const facts = documentFacts(bytes);

  post({ type: 'phase', phase: 'seal' });
  const sealResult = await sealOnce(bytes, facts.centre, job);

  let verify: VerifyResult | undefined;
  if (facts.signed) {
    post({ type: 'phase', phase: 'verify' });
    verify = await verifyOnce(bytes);
  }
  return { file: job.file, bytes: bytes.byteLength, ...facts.info, seal: sealResult, ...(verify ? { verify } : {}) };
}

/** What a reader sees before sealing: repaired, encrypted, pages, signatures; and page 1's centre to seal at. */
function documentFacts(bytes: Uint8Array): {
  info: { repaired?: string; encrypted?: string; pages?: number; signatureFields?: number; openError?: string };
  centre: [number, number];
  signed: boolean;
} {
  const info: { repaired?: string; encrypted?: string; pages?: number; signatureFields?: number; openError?: string } = {};
  let centre: [number, number] = [100, 100];
  // A file the reader cannot open may still carry a signature dictionary: the verifier gets to say what it makes of it.
  let signed = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes('/ByteRange');
  try {
    const doc = PdfDocument.open(new BufferSource(bytes));
    const enc = doc.encryption;
    if (enc) info.encrypted = JSON.stringify(enc).slice(0, 200);
    info.pages = pageCount(doc);
    const [w, h] = displayedSize(findPage(doc, 1));
    centre = [w / 2, h / 2];
    const fields = signatureFields(doc, new Budget(DEFAULT_VERIFY_LIMITS)).length;
    info.signatureFields = fields;
    signed ||= fields > 0;
    if (doc.repaired) info.repaired = doc.repaired.reason;
  } catch (error) {
    info.openError = error instanceof SealdError ? `${error.code}: ${error.message}` : `${(error as Error).name}: ${(error as Error).message}`;
  }
  return { info, centre, signed };
}

async function sealOnce(bytes: Uint8Array, [x, y]: [number, number], job: FileJob): Promise<SealResult> {
  const started = performance.now();
  const source = new BufferSource(bytes);
  try {
    const outcome = await checkedSealDocument(source, seal, { page: 1, x, y }, { reason: 'seald corpus score' });
    const out = path.join(job.outDir, `${job.index}.pdf`);
    const sealed = Buffer.concat([bytes, outcome.appended]);
    await writeFile(out, sealed);
    const ownVerify = await verifySealed(new BufferSource(new Uint8Array(sealed.buffer, sealed.byteOffset, sealed.byteLength)), outcome.fieldName);
    return { class: 'sealed', ms: performance.now() - started, output: out, fieldName: outcome.fieldName, appendedBytes: outcome.appended.byteLength, ...ownVerify };
  } catch (error) {
    return outcomeOf(error, performance.now() - started) as SealResult;
  }
}

/** seald's own verifier on its output: the new signature's verdict (its certificate is under the dev CA, a trust anchor). */
async function verifySealed(source: BufferSource, fieldName: string): Promise<{ ownVerdict: string; ownReasons?: string[] }> {
  try {
    const report = await verifyDocument(source, { trustAnchors, limits: { maxMillis: 20_000 } });
    const ours = report.signatures.find((s) => s.field === fieldName);
    if (!ours) return { ownVerdict: 'MISSING', ownReasons: report.reasons.slice(0, 3) };
    return { ownVerdict: ours.verdict, ...(ours.verdict === 'VALID' ? {} : { ownReasons: ours.reasons.slice(0, 3) }) };
  } catch (error) {
    return { ownVerdict: 'CRASHED', ownReasons: [(error as Error).stack ?? String(error)] };
  }
}

async function verifyOnce(bytes: Uint8Array): Promise<VerifyResult> {
  const started = performance.now();
  try {
    const report = await verifyDocument(new BufferSource(bytes), { trustAnchors, limits: { maxMillis: 20_000 } });
    // verifyDocument answers a RangeError or TypeError as INVALID "cannot be analysed": a crash it caught, kept apart.
    const masked = report.reasons.find((r) => r.startsWith('the PDF cannot be analysed:'));
    return {
      class: masked ? 'masked-crash' : 'verified',
      ms: performance.now() - started,
      verdict: report.verdict,
      reasons: report.reasons.slice(0, 3),
      signatures: report.signatures.map((s) => ({ field: s.field, verdict: s.verdict, integrity: s.integrity, trust: s.trust, changesAfter: s.changesAfter, reasons: s.reasons.slice(0, 2) })),
    };
  } catch (error) {
    return outcomeOf(error, performance.now() - started);
  }
}

function outcomeOf(error: unknown, ms: number): Outcome {
  if (error instanceof SealdError) {
    return { class: 'refused', ms, category: error.category, code: error.code, message: error.message, ...(error.category === 'internal' ? { stack: error.stack } : {}) };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { class: 'crashed', ms, name: e.name, message: e.message, stack: e.stack };
}
