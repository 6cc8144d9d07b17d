/** The messages between bench/score-corpus.ts (main thread, holds the token) and bench/score-worker.ts. */

export interface WorkerSetup {
  /** DER certificates of the seal: signer first. */
  certificates: Uint8Array[];
  algorithm: string;
  sealPng: Uint8Array;
  trustAnchors: Uint8Array[];
}

export interface FileJob {
  file: string;
  index: number;
  /** Where the worker writes the sealed output for the main thread's qpdf and pdfsig checks. */
  outDir: string;
}

/** A SealdError (refused), any other exception (crashed: a bug), or no answer in time (hung). */
export type Outcome =
  | { class: 'refused'; ms: number; category: string; code: string; message: string; stack?: string }
  | { class: 'crashed'; ms: number; name: string; message: string; stack?: string; code?: string }
  | { class: 'hung'; ms: number; phase: string };

export interface Sealed {
  class: 'sealed';
  ms: number;
  output: string;
  fieldName: string;
  appendedBytes: number;
  /** seald's own verifier on the output: the new signature's verdict. */
  ownVerdict: string;
  ownReasons?: string[];
  /** Filled by the main thread. */
  qpdfCheck?: { exit: number; originalExit?: number; message?: string };
  prefixExact?: boolean;
  pdfsig?: { valid: boolean; skipped?: string; detail?: string };
}

export type SealResult = Sealed | Outcome;

export type VerifyResult =
  | {
      class: 'verified' | 'masked-crash';
      ms: number;
      verdict: string;
      reasons: string[];
      signatures: { field: string; verdict: string; integrity: string; trust: string; changesAfter: string; reasons: string[] }[];
    }
  | Outcome;

export interface FileResult {
  file: string;
  bytes: number;
  /** PdfDocument.open rebuilt the table (recovery.ts): why. */
  repaired?: string;
  encrypted?: string;
  pages?: number;
  signatureFields?: number;
  /** The reader's own refusal or exception when opening, before sealing. */
  openError?: string;
  skipped?: string;
  seal?: SealResult;
  verify?: VerifyResult;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'phase'; phase: string }
  | { type: 'sign'; id: number; digest: Uint8Array }
  | { type: 'done'; result: FileResult };
