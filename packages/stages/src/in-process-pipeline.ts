import { createHash, randomUUID } from 'node:crypto';
import {
  ANALYSES,
  type ImageAnalyzed,
  type ImageUploaded,
  requestsFeatures,
  TOPICS,
  type UploadAnalysisName,
} from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import type { Logger } from '@imgpipe/telemetry';
import type { StageExecutor } from '@imgpipe/vision/features';
import { MemoryAggregateStore } from './aggregate/aggregate-store.ts';
import { MemoryBlobs } from './blob-access.ts';
import { InProcessRunner } from './in-process-runner.ts';
import { aggregateStage } from './stages/aggregate-stage.ts';
import { analysisStage } from './stages/analysis-stage.ts';
import { type FeaturesStageConfig, featuresStage } from './stages/features-stage.ts';
import { preprocessStage } from './stages/preprocess-stage.ts';
import type { VisionEngine } from './vision-engine.ts';

export interface AnalyzeRequest {
  bytes: Buffer;
  sourceName?: string;
  contentType?: string;
  analyses?: UploadAnalysisName[];
  tenantId?: string;
  /** The caller's own metadata, returned in the analysis as a producer's ImageUploaded attributes are. */
  attributes?: Record<string, string>;
  /** The OCR model set for this image (ImageUploaded.ocrModel); absent: the vision engine's configured set. */
  ocrModel?: string;
  /** Languages to restrict OCR to (ImageUploaded.ocrLanguages); absent or empty: none. */
  ocrLanguages?: string[];
}

/**
 * The whole pipeline in this process, with no services: the same stage handlers the Kafka workers run, wired by
 * the InProcessRunner, with storage and join state in memory for the life of one image.
 */
/** What the features stage runs on in-process: a worker pool and the stage's configuration. */
export interface InProcessFeatures {
  executor: StageExecutor;
  config: FeaturesStageConfig;
}

export class InProcessPipeline {
  readonly #vision: VisionEngine;
  readonly #logger: Logger;
  readonly #features: InProcessFeatures | undefined;

  /** `features` is needed only for requests that ask for them (analyses with `features`). */
  constructor(vision: VisionEngine, logger: Logger, options: { features?: InProcessFeatures } = {}) {
    this.#vision = vision;
    this.#logger = logger;
    this.#features = options.features;
  }

  async analyze(request: AnalyzeRequest): Promise<ImageAnalyzed> {
    if (requestsFeatures({ analyses: request.analyses ?? [] }) && !this.#features) {
      throw new ImgpipeError('STAGE_INTERNAL', 'features were asked for, but this pipeline was built without them');
    }
    const blobs = new MemoryBlobs();
    const stages = [
      preprocessStage({ blobs, vision: this.#vision }),
      ...ANALYSES.map((name) => analysisStage(name, { blobs, vision: this.#vision })),
      ...(this.#features ? [featuresStage({ blobs, ...this.#features })] : []),
      aggregateStage({ store: new MemoryAggregateStore() }),
    ];
    const uploaded: ImageUploaded = {
      imageId: randomUUID(),
      tenantId: request.tenantId ?? 'local',
      occurredAt: Date.now(),
      sha256: createHash('sha256').update(request.bytes).digest('hex'),
      size: request.bytes.byteLength,
      analyses: request.analyses ?? [],
      attributes: request.attributes ?? {},
      // Renditions are the pipeline's transform stage's (stored in S3): imgpipe transform renders files in-process.
      renditions: [],
      inline: request.bytes,
      ...(request.sourceName ? { source: request.sourceName } : {}),
      ...(request.contentType ? { contentType: request.contentType } : {}),
      ...(request.ocrModel ? { ocrModel: request.ocrModel } : {}),
      ...(request.ocrLanguages?.length ? { ocrLanguages: request.ocrLanguages } : {}),
    };
    const emitted = await new InProcessRunner(stages, this.#logger).run({
      topic: TOPICS.uploaded,
      eventType: 'ImageUploaded',
      key: uploaded.imageId,
      value: uploaded,
    });
    const analyzed = emitted.find((event) => event.eventType === 'ImageAnalyzed');
    if (!analyzed) throw new ImgpipeError('STAGE_INTERNAL', 'the pipeline finished without an ImageAnalyzed event');
    return analyzed.value as ImageAnalyzed;
  }
}
