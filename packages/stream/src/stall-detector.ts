import { Gauge, register } from 'prom-client';
import type { GroupProgress } from './group-progress.ts';

export { type GroupProgress, measureGroupProgress } from './group-progress.ts';

export interface StallReport {
  stalled: boolean;
  lag: number | null;
  /** When the group last committed progress, had nothing to do, or was paused (ISO 8601). */
  lastProgressAt: string;
  stallAfterMs: number;
  /** Why the last measurement failed, if it did (the previous verdict stands meanwhile). */
  error?: string;
}

export const stalledGauge =
  (register.getSingleMetric('imgpipe_stage_stalled') as Gauge<'stage'> | undefined) ??
  new Gauge({
    name: 'imgpipe_stage_stalled',
    help: "1 while the stage's consumer group has lag but has committed no progress for the stall time (IMGPIPE_STALL_AFTER_MS), else 0; a paused stage is not stalled",
    labelNames: ['stage'] as const,
  });

/**
 * Tells a stalled stage from a busy or idle one: stalled means lag above zero and no progress for `stallAfterMs`,
 * where progress is an advance of the group's committed offsets (whichever replica made it), so a handler blocked
 * on a dependency, a consumer that stopped fetching or a partition nobody owns all show, while a slow stage that
 * still commits does not. No lag, or a paused stage, restarts the clock: a paused stage grows lag on purpose.
 */
export class StallDetector {
  readonly #stage: string;
  readonly #stallAfterMs: number;
  readonly #measure: () => Promise<GroupProgress>;
  readonly #paused: () => boolean;
  readonly #now: () => number;
  #position: bigint | undefined;
  #lastProgressAt: number;
  #lag: number | null = null;
  #stalled = false;
  #error: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;

  constructor(options: {
    stage: string;
    stallAfterMs: number;
    measure: () => Promise<GroupProgress>;
    paused: () => boolean;
    now?: () => number;
  }) {
    this.#stage = options.stage;
    this.#stallAfterMs = options.stallAfterMs;
    this.#measure = options.measure;
    this.#paused = options.paused;
    this.#now = options.now ?? Date.now;
    this.#lastProgressAt = this.#now();
    stalledGauge.set({ stage: this.#stage }, 0);
  }

  get stalled(): boolean {
    return this.#stalled;
  }

  /** One measurement and verdict. */
  async check(): Promise<void> {
    let progress: GroupProgress;
    try {
      progress = await this.#measure();
    } catch (error) {
      this.#error = (error as Error).message;
      return;
    }
    const now = this.#now();
    this.#error = undefined;
    const advanced = this.#position === undefined || progress.position !== this.#position;
    this.#position = progress.position;
    this.#lag = progress.lag;
    const paused = this.#paused();
    if (advanced || progress.lag === 0 || paused) this.#lastProgressAt = now;
    this.#stalled = !paused && progress.lag > 0 && now - this.#lastProgressAt >= this.#stallAfterMs;
    stalledGauge.set({ stage: this.#stage }, this.#stalled ? 1 : 0);
  }

  start(intervalMs: number): void {
    this.#timer ??= setInterval(() => {
      this.#checking ??= this.check().finally(() => {
        this.#checking = undefined;
      });
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#checking;
  }

  report(): StallReport {
    return {
      stalled: this.#stalled,
      lag: this.#lag,
      lastProgressAt: new Date(this.#lastProgressAt).toISOString(),
      stallAfterMs: this.#stallAfterMs,
      ...(this.#error ? { error: this.#error } : {}),
    };
  }
}
