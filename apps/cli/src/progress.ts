/** Where a progress bar is drawn: a terminal stream such as process.stderr, or a stand-in in tests. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  /** Terminal width; the bar fits inside it (80 when unknown). */
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** How many units the work has. */
  total: number;
  /** The unit, plural, as shown after the rate: `3.2 images/s`. */
  unit?: string;
  /** Defaults to process.stderr. Nothing is drawn unless the stream is a terminal. */
  stream?: ProgressStream;
  /** Milliseconds; defaults to performance.now(). */
  now?: () => number;
  /** Redraws at most this often (the first and the last unit always draw). Default 100 ms. */
  redrawMs?: number;
}

export interface Progress {
  /** `count` more units done. */
  tick(count?: number): void;
  /** Writes lines of output (results) above the bar, so they never mix with it. */
  printAbove(write: () => void): void;
  /** Clears the bar for good. */
  done(): void;
}

const CLEAR_LINE = '\r\x1b[2K';
const NO_PROGRESS: Progress = {
  tick() {},
  printAbove(write) {
    write();
  },
  done() {},
};

/**
 * A one-line progress bar redrawn in place on a terminal: count, percentage, rate and time left. When the stream is
 * not a terminal (piped, redirected) it draws nothing, so only the results reach a file or another program.
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (stream.isTTY !== true || options.total <= 0) return NO_PROGRESS;
  const now = options.now ?? (() => performance.now());
  const unit = options.unit ?? 'items';
  const redrawMs = options.redrawMs ?? 100;
  const started = now();
  let completed = 0;
  let drawn = false;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let finished = false;

  const draw = () => {
    lastDraw = now();
    drawn = true;
    stream.write(
      CLEAR_LINE +
        progressLine({ completed, total: options.total, elapsedMs: lastDraw - started, unit, width: stream.columns }),
    );
  };
  const clear = () => {
    if (drawn) stream.write(CLEAR_LINE);
    drawn = false;
  };

  draw();
  return {
    tick(count = 1) {
      if (finished) return;
      const first = completed === 0;
      completed = Math.min(options.total, completed + count);
      if (first || completed === options.total || now() - lastDraw >= redrawMs) draw();
    },
    printAbove(write) {
      if (finished) return write();
      clear();
      write();
      draw();
    },
    done() {
      if (finished) return;
      finished = true;
      clear();
    },
  };
}

export interface ProgressState {
  completed: number;
  total: number;
  elapsedMs: number;
  unit: string;
  /** Columns available; default 80. */
  width?: number | undefined;
}

/** The bar's text: `[#########-----------]  30/40  75%  2.5 images/s  0:04 left`, at most `width - 1` columns. */
export function progressLine(state: ProgressState): string {
  const { completed, total, elapsedMs, unit } = state;
  const fraction = total > 0 ? completed / total : 0;
  const rate = elapsedMs > 0 ? completed / (elapsedMs / 1000) : 0;
  const left =
    completed >= total ? 'done' : rate > 0 ? `${formatDuration((total - completed) / rate)} left` : '--:-- left';
  const counts = `${String(completed).padStart(String(total).length)}/${total}`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const speed = rate > 0 ? `${formatRate(rate)} ${unit}/s` : `- ${unit}/s`;
  const tail = `  ${counts}  ${percent}  ${speed}  ${left}`;
  const room = Math.max(0, (state.width ?? 80) - 1 - tail.length - 2);
  if (room < 10) return tail.trimStart().slice(0, Math.max(0, (state.width ?? 80) - 1));
  const barWidth = Math.min(30, room);
  const filled = Math.round(fraction * barWidth);
  return `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${tail}`;
}

function formatRate(perSecond: number): string {
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond >= 10 ? perSecond.toFixed(1) : perSecond.toFixed(2);
}

/** Seconds as m:ss, or h:mm:ss from an hour up. */
export function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}
