import { ImgpipeError, int } from '@imgpipe/core';
import type { Logger } from '@imgpipe/telemetry';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { Gauge, register } from 'prom-client';
import {
  type ControlRecord,
  ControlWatcher,
  type ModelIdentityRecord,
  type PauseRecord,
  publishControl,
} from './stage-control.ts';
import { measureGroupProgress, type StallReport, StallDetector } from './stall-detector.ts';

export const stageOperationsSettings = {
  stallAfterMs: int('IMGPIPE_STALL_AFTER_MS', {
    default: 300_000,
    min: 1_000,
    max: 86_400_000,
    description: 'a stage with lag whose group commits no progress for this long is reported stalled',
  }),
  stallCheckIntervalMs: int('IMGPIPE_STALL_CHECK_INTERVAL_MS', {
    default: 15_000,
    min: 100,
    max: 600_000,
    description: "how often a stage process measures its group's lag and progress (at most IMGPIPE_STALL_AFTER_MS)",
  }),
};

/** Cross-field rule the per-setting limits cannot express; checked with the rest of the configuration at start-up. */
export function checkStageOperationsSettings(config: { stallAfterMs: number; stallCheckIntervalMs: number }): void {
  if (config.stallCheckIntervalMs > config.stallAfterMs) {
    throw new ImgpipeError(
      'CONFIG_INVALID',
      `IMGPIPE_STALL_CHECK_INTERVAL_MS (${config.stallCheckIntervalMs}) must not exceed IMGPIPE_STALL_AFTER_MS (${config.stallAfterMs})`,
    );
  }
}

export const pausedGauge =
  (register.getSingleMetric('imgpipe_stage_paused') as Gauge<'stage'> | undefined) ??
  new Gauge({
    name: 'imgpipe_stage_paused',
    help: '1 while the stage is paused (imgpipe stage pause), else 0',
    labelNames: ['stage'] as const,
  });

/** What a stage process needs from its runner to pause it: the kafkajs consumer's pause and resume, kept across rejoins. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

export interface StageOperationsReport {
  paused: boolean;
  pausedSince?: string;
  stall: StallReport;
}

export interface StageOperations {
  readonly paused: boolean;
  report(): StageOperationsReport;
  stop(): Promise<void>;
}

/**
 * The operator's handles on a running stage process: follows the control topic (pausing and resuming the runner
 * as its stage's pause record says, from before the first fetch), announces the model the process runs, and runs
 * the stall detector. `start` resolves once the control topic has been read to its end, so a process whose stage is
 * paused has its runner paused before it consumes anything.
 */
export async function startStageOperations(options: {
  kafka: Kafka;
  stage: { name: string; groupId: string; inputs: readonly string[] };
  runner: Pausable;
  logger: Logger;
  config: { stallAfterMs: number; stallCheckIntervalMs: number };
  model?: ModelIdentityRecord;
}): Promise<StageOperations> {
  const { kafka, stage, runner, logger, config } = options;
  checkStageOperationsSettings(config);
  let pause: PauseRecord | undefined;
  const onRecord = (record: ControlRecord) => {
    if (record.kind !== 'pause' || record.stage !== stage.name) return;
    const was = pause?.paused ?? false;
    pause = record;
    pausedGauge.set({ stage: stage.name }, record.paused ? 1 : 0);
    if (record.paused === was) return;
    if (record.paused) runner.pause();
    else runner.resume();
    logger.info({ stage: stage.name, by: record.by }, record.paused ? 'stage paused' : 'stage resumed');
  };
  pausedGauge.set({ stage: stage.name }, 0);
  const watcher = new ControlWatcher({ kafka, name: stage.name, onRecord });
  await watcher.start();

  let producer: Producer | undefined;
  if (options.model) {
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await publishControl(producer, [
      { kind: 'model', stage: stage.name, model: options.model, at: Date.now(), host: watcher.groupId },
    ]);
  }

  const admin: Admin = kafka.admin();
  await admin.connect();
  const detector = new StallDetector({
    stage: stage.name,
    stallAfterMs: config.stallAfterMs,
    measure: () => measureGroupProgress(admin, stage.groupId, stage.inputs),
    paused: () => pause?.paused ?? false,
  });
  detector.start(config.stallCheckIntervalMs);

  return {
    get paused() {
      return pause?.paused ?? false;
    },
    report() {
      return {
        paused: pause?.paused ?? false,
        ...(pause?.paused ? { pausedSince: new Date(pause.at).toISOString() } : {}),
        stall: detector.report(),
      };
    },
    async stop() {
      await detector.stop();
      await Promise.allSettled([watcher.stop(), admin.disconnect(), producer?.disconnect()]);
    },
  };
}
