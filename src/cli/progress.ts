/** The progress line of `seald batch` on a terminal: a bar, documents done, megabytes, rate and time left. */
import type { CliIo } from './io.ts';
export interface ProgressState {
  done: number;
  total: number;
  failed: number;
  bytesDone: number;
  bytesTotal: number;
  elapsedSeconds: number;
}

/** One line for a terminal: `[#####-----] 45/100 docs  12.3 MB/s  ETA 0:42  2 failed`. */
export function renderProgressBar(state: ProgressState, barWidth = 24): string {
  const fraction = state.bytesTotal > 0 ? state.bytesDone / state.bytesTotal : state.total > 0 ? state.done / state.total : 1;
  const filled = Math.min(barWidth, Math.round(fraction * barWidth));
  const rate = state.elapsedSeconds > 0 ? state.bytesDone / state.elapsedSeconds : 0;
  const eta = rate > 0 ? (state.bytesTotal - state.bytesDone) / rate : undefined;
  return (
    `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${state.done}/${state.total} docs  ` +
    `${(rate / 1e6).toFixed(1)} MB/s  ETA ${eta === undefined ? '--:--' : formatDuration(eta)}  ${state.failed} failed`
  );
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export function formatMb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Progress on stderr: a bar redrawn in place (terminal), a line per document (logs), or nothing. */
/** What the progress line needs of one document's report (commands/batch.ts DocumentReport). */
export interface DocumentProgress {
  status: 'sealed' | 'replayed' | 'skipped' | 'failed' | 'not-run';
  bytes: number;
  /** Sealed without its best-effort time-stamp: why (printed in the lines and bar modes: a pipeline must add one). */
  timestampMissing?: string;
  error?: { status: string; code: string; message: string };
}

export class Progress {
  readonly #started = Date.now();
  #done = 0;
  #failed = 0;
  #bytesDone = 0;
  #lastDraw = 0;

  constructor(
    private readonly mode: 'bar' | 'lines' | 'none',
    private readonly io: CliIo,
    private readonly total: number,
    private readonly bytesTotal: number,
    skipped: number,
  ) {
    if (mode === 'lines') io.stderr(`sealing ${total} documents (${formatMb(bytesTotal)}); ${skipped} already in the output directory\n`);
    this.#draw(true);
  }

  documentDone(name: string, report: DocumentProgress): void {
    this.#done++;
    this.#bytesDone += report.bytes;
    if (report.status === 'failed') this.#failed++;
    const untimed = report.timestampMissing === undefined ? '' : `, without time-stamp: ${report.timestampMissing}`;
    if (this.mode === 'lines') {
      const what =
        report.status === 'failed'
          ? `failed ${name}: ${report.error!.status} ${report.error!.code}: ${report.error!.message}`
          : `${report.status} ${name} (${formatMb(report.bytes)})${untimed}`;
      this.io.stderr(`[${this.#done}/${this.total}] ${what}\n`);
    } else if (this.mode === 'bar' && report.status === 'failed') {
      this.io.stderr(`\r\x1b[Kfailed ${name}: ${report.error!.code}: ${report.error!.message}\n`);
      this.#draw(true);
    } else if (this.mode === 'bar' && untimed !== '') {
      this.io.stderr(`\r\x1b[K${report.status} ${name}${untimed}\n`);
      this.#draw(true);
    } else {
      this.#draw(false);
    }
  }

  /** A document counted as done (failed) goes back to the queue. */
  retrying(report: DocumentProgress): void {
    if (report.status === 'not-run') return;
    this.#done--;
    this.#bytesDone -= report.bytes;
    if (report.status === 'failed') this.#failed--;
  }

  note(text: string): void {
    if (this.mode === 'none') return;
    this.io.stderr(this.mode === 'bar' ? `\r\x1b[K${text}\n` : `${text}\n`);
    this.#draw(true);
  }

  finish(): void {
    this.#draw(true);
    if (this.mode === 'bar') this.io.stderr('\n');
  }

  #draw(force: boolean): void {
    if (this.mode !== 'bar') return;
    const now = Date.now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const line = renderProgressBar({
      done: this.#done,
      total: this.total,
      failed: this.#failed,
      bytesDone: this.#bytesDone,
      bytesTotal: this.bytesTotal,
      elapsedSeconds: (now - this.#started) / 1000,
    });
    this.io.stderr(`\r\x1b[K${line}`);
  }
}
