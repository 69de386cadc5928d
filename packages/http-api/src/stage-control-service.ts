import type { EventCodec, ModelIdentity } from '@imgpipe/contracts';
import { WORKER_STAGES } from '@imgpipe/contracts';
import { requeueUploads } from '@imgpipe/publisher';
import { type Database, type ReprocessQuery, reprocessCandidates } from '@imgpipe/results';
import { ensureControlTopic, publishControl, readControlState } from '@imgpipe/stream/control';
import type { Kafka, Producer } from 'kafkajs';
import type { Kysely } from 'kysely';

/** The stages an operator can pause: every pipeline stage (transform included) and the results service. */
export const PAUSABLE_STAGES = [...WORKER_STAGES, 'results'] as const;

export interface StageControlState {
  stage: string;
  paused: boolean;
  changedAt?: string;
  changedBy?: string;
  model?: ModelIdentity;
}

/** What the admin routes do to the pipeline's stages, over the control topic, the results store and Kafka. */
export interface StageControlService {
  states(): Promise<StageControlState[]>;
  setPaused(stage: string, paused: boolean, by: string): Promise<{ stage: string; paused: boolean; at: string }>;
  /** Queues the images; `missing` on an analysis compares with the model its workers announced (none: undefined). */
  reprocess(query: Omit<ReprocessQuery, 'model'>): Promise<{ queued: number; model: ModelIdentity | null } | undefined>;
}

export function kafkaStageControl(deps: {
  kafka: Kafka;
  producer: Producer;
  codec: EventCodec;
  db: Kysely<Database>;
}): StageControlService {
  return {
    async states() {
      const state = await readControlState(deps.kafka, 'api');
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
  };
}
