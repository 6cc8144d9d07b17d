/** What a sign does when its caller's AbortSignal fires: the caller hears at once; the token finishes in its own time. */
import { SealdError } from '../errors.ts';

/** The SealdError for an aborted signal: a timeout is a deadline, anything else a cancellation. */
export function abortError(signal: AbortSignal): SealdError {
  const reason: unknown = signal.reason;
  if (reason instanceof SealdError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new SealdError('deadline', 'DEADLINE_EXCEEDED', 'the signing request ran out of time');
  }
  return new SealdError('cancelled', 'CANCELLED', 'the signing request was cancelled');
}

/**
 * `work`'s outcome, or abortError(signal) as soon as `signal` aborts. `work` itself runs on: a C_Sign cannot be
 * called back, and its session returns to the pool only when it completes.
 */
export function settleOrAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
