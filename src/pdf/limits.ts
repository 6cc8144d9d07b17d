/**
 * Limits for reading documents nobody vouches for: how many objects, how many stream bytes compared, how long (the
 * verifier), and the one error every walker of untrusted content throws when it crosses a limit (LimitExceeded: the
 * verifier, the keyword finder's content lexer).
 * Crossing one stops the verification with an INDETERMINATE verdict and a reason, never a crash or a hang.
 * (Nesting depth is bounded by the parser itself, src/pdf/parser.ts.)
 */

export interface VerifyLimits {
  /** Objects resolved while analysing structure and changes. */
  maxObjects: number;
  /** Bytes of stream data compared between revisions. */
  maxStreamBytes: number;
  /** Wall-clock budget for one document. */
  maxMillis: number;
  /** Signatures analysed in one document. */
  maxSignatures: number;
}

export const DEFAULT_VERIFY_LIMITS: VerifyLimits = {
  maxObjects: 500_000,
  maxStreamBytes: 256 * 1024 * 1024,
  maxMillis: 60_000,
  maxSignatures: 500,
};

/** A limit was crossed: the document is too large or too convoluted to judge within the budget. */
export class LimitExceeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimitExceeded';
  }
}

export class Budget {
  private objects = 0;
  private streamBytes = 0;
  private readonly deadline: number;
  constructor(readonly limits: VerifyLimits) {
    this.deadline = Date.now() + limits.maxMillis;
  }
  object(): void {
    if (++this.objects > this.limits.maxObjects) {
      throw new LimitExceeded(`more than ${this.limits.maxObjects} objects to examine`);
    }
    if ((this.objects & 0xff) === 0) this.time();
  }
  stream(bytes: number): void {
    this.streamBytes += bytes;
    if (this.streamBytes > this.limits.maxStreamBytes) {
      throw new LimitExceeded(`more than ${this.limits.maxStreamBytes} bytes of streams to compare`);
    }
  }
  time(): void {
    if (Date.now() > this.deadline) throw new LimitExceeded(`verification took longer than ${this.limits.maxMillis} ms`);
  }
}
