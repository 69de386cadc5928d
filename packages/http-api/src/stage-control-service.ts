import type { EventCodec, ModelIdentity } from '@imgpipe/contracts';
import { WORKER_STAGES } from '@imgpipe/contracts';
import { requeueUploads } from '@imgpipe/publisher';
import { ImgpipeError } from '@imgpipe/core';
import {
  type Database,
  type ReprocessQuery,
  type ReprocessStage,
  redriveStages,
  redriveSubject,
  reprocessCandidates,
} from '@imgpipe/results';
import { ensureControlTopic, publishControl, readControlState } from '@imgpipe/stream/control';
import type { Kafka, Producer } from 'kafkajs';
import type { Kysely } from 'kysely';
import { type StageMetrics, StageMetricsSampler } from './stage-metrics.ts';

/** The stages an operator can pause: every pipeline stage (transform included) and the results service. */
export const PAUSABLE_STAGES = [...WORKER_STAGES, 'results'] as const;

export interface StageControlState {
  stage: string;
  paused: boolean;
  changedAt?: string;
  changedBy?: string;
  model?: ModelIdentity;
  /** Throughput, lag and error rate from Kafka (absent when Kafka could not be read for them). */
  metrics?: StageMetrics;
}

/** What the admin routes do to the pipeline's stages, over the control topic, the results store and Kafka. */
export interface StageControlService {
  states(): Promise<StageControlState[]>;
  setPaused(stage: string, paused: boolean, by: string): Promise<{ stage: string; paused: boolean; at: string }>;
  /** Queues the images; `missing` on an analysis compares with the model its workers announced (none: undefined). */
  reprocess(query: Omit<ReprocessQuery, 'model'>): Promise<{ queued: number; model: ModelIdentity | null } | undefined>;
  /**
   * Re-runs one image's failed stages (see redriveStages) as `reprocess` re-runs a stage, for this image alone.
   * Throws RESOURCE_NOT_FOUND (not this tenant's), REDRIVE_IMAGE_PENDING, REDRIVE_NOTHING_FAILED or
   * REDRIVE_ORIGINAL_MISSING.
   */
  redriveImage(tenantId: string, imageId: string): Promise<{ stages: ReprocessStage[]; queued: number }>;
}

export function kafkaStageControl(deps: {
  kafka: Kafka;
  producer: Producer;
  codec: EventCodec;
  db: Kysely<Database>;
}): StageControlService {
  const sampler = new StageMetricsSampler(deps.kafka);
  const service: StageControlService = {
    async states() {
      const [state, metrics] = await Promise.all([
        readControlState(deps.kafka, 'api'),
        sampler.read(PAUSABLE_STAGES).catch(() => new Map<string, StageMetrics>()),
      ]);
      return PAUSABLE_STAGES.map((stage) => {
        const pause = state.pauses.get(stage);
        const model = state.models.get(stage)?.model;
        return {
          stage,
          paused: pause?.paused ?? false,
          ...(pause
            ? { changedAt: new Date(pause.at).toISOString(), ...(pause.by ? { changedBy: pause.by } : {}) }
            : {}),
          ...(model ? { model } : {}),
          ...(metrics.has(stage) ? { metrics: metrics.get(stage)! } : {}),
        };
      });
    },
    async setPaused(stage, paused, by) {
      const admin = deps.kafka.admin();
      await admin.connect();
      await ensureControlTopic(admin).finally(() => admin.disconnect());
      const at = Date.now();
      await publishControl(deps.producer, [{ kind: 'pause', stage, paused, at, by }]);
      return { stage, paused, at: new Date(at).toISOString() };
    },
    async reprocess(query) {
      const needsModel = query.mode === 'missing' && query.stage !== 'preprocess';
      const model = needsModel ? (await readControlState(deps.kafka, 'api')).models.get(query.stage)?.model : undefined;
      if (needsModel && !model) return undefined;
      const queued = await requeueUploads({
        producer: deps.producer,
        codec: deps.codec,
        stage: query.stage,
        pages: reprocessCandidates(deps.db, { ...query, ...(model ? { model } : {}) }),
      });
      return { queued, model: model ?? null };
    },
    async redriveImage(tenantId, imageId) {
      const subject = await redriveSubject(deps.db, tenantId, imageId);
      if (!subject) throw new ImgpipeError('RESOURCE_NOT_FOUND', `no image ${imageId}`);
      if (subject.status === 'pending') {
        throw new ImgpipeError('REDRIVE_IMAGE_PENDING', `image ${imageId} is still being processed`);
      }
      const stages = redriveStages(subject.failed);
      if (stages.length === 0) throw new ImgpipeError('REDRIVE_NOTHING_FAILED', `image ${imageId} has no failed stage`);
      if (!subject.stored) {
        throw new ImgpipeError('REDRIVE_ORIGINAL_MISSING', `image ${imageId} has no original in storage`);
      }
      let queued = 0;
      // mode all, this image alone: its stages were just read as failed, and an image in flight is never selected.
      for (const stage of stages)
        queued += (await service.reprocess({ stage, mode: 'all', tenantId, imageId }))!.queued;
      return { stages, queued };
    },
  };
  return service;
}
