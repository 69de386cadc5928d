import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { FacesDetected, ImageAnalyzed, ImagePreprocessed, ObjectsDetected } from '@imgpipe/contracts';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import type { BatchContext, BatchItem, StageContext } from '@imgpipe/contracts';
import { createLogger } from '@imgpipe/telemetry';
import { Redis } from 'ioredis';
import { type AggregateStore, MemoryAggregateStore, RedisAggregateStore } from '../aggregate/aggregate-store.ts';
import { joinAnalysis } from '../aggregate/join-analysis.ts';
import { aggregateStage } from './aggregate-stage.ts';

const model = { name: 'm', version: '1', sha256: 'a'.repeat(64) };
const ctx: StageContext = {
  logger: createLogger('aggregate-test', 'silent'),
  attempt: 1,
  source: { topic: 't', partition: 0, offset: '0', key: undefined },
  signal: new AbortController().signal,
};

function events(imageId: string) {
  const envelope = { imageId, tenantId: 't', occurredAt: 1 };
  const preprocessed: ImagePreprocessed = {
    ...envelope,
    status: 'completed',
    analyses: ['detect'],
    original: { bucket: 'b', key: 'k', sha256: 'c'.repeat(64), size: 1, contentType: 'image/png' },
    attributes: { batch: '7' },
    renditions: [],
  };
  const detected: ObjectsDetected = { ...envelope, status: 'completed', model, objects: [] };
  return [
    { eventType: 'ImagePreprocessed', value: preprocessed },
    { eventType: 'ObjectsDetected', value: detected },
  ];
}

async function deliverAll(store: AggregateStore, imageId: string, times: number): Promise<number> {
  const stage = aggregateStage({ store });
  let emitted = 0;
  for (let round = 0; round < times; round += 1) {
    for (const message of events(imageId)) {
      const outputs = await stage.handle(message, ctx);
      emitted += outputs.length;
      if (outputs.length > 0) await stage.onOutputsDurable?.(message, outputs, ctx);
    }
  }
  return emitted;
}

describe('aggregate', () => {
  const { redisUrl } = loadConfig({ redisUrl: serviceSettings.redisUrl });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  after(() => redis.quit());

  for (const [name, store] of [
    ['in memory', () => new MemoryAggregateStore()],
    ['in Redis', () => new RedisAggregateStore(redis, { ttlSeconds: 60 })],
  ] as const) {
    test(`emits ImageAnalyzed once, however often its parts are replayed (${name})`, async () => {
      assert.equal(await deliverAll(store(), randomUUID(), 3), 1);
    });
  }

  test('a part that arrives again before the emission was durable emits again (the results upsert absorbs it)', async () => {
    const store = new RedisAggregateStore(redis, { ttlSeconds: 60 });
    const imageId = randomUUID();
    const stage = aggregateStage({ store });
    const [preprocessed, detected] = events(imageId);
    assert.equal((await stage.handle(preprocessed!, ctx)).length, 0);
    assert.equal((await stage.handle(detected!, ctx)).length, 1, 'complete: emitted');
    // crash before onOutputsDurable: the input is redelivered
    const again = await stage.handle(detected!, ctx);
    assert.equal(again.length, 1, 'not lost');
    await stage.onOutputsDurable?.(detected!, again, ctx);
    assert.equal((await stage.handle(detected!, ctx)).length, 0, 'once durable, never again');
  });

  for (const [name, store] of [
    ['in memory', () => new MemoryAggregateStore()],
    ['in Redis', () => new RedisAggregateStore(redis, { ttlSeconds: 60 })],
  ] as const) {
    test(`a stage re-run after the emission emits again with its new outcome, the other analyses kept (${name})`, async () => {
      const stage = aggregateStage({ store: store() });
      const imageId = randomUUID();
      const envelope = { imageId, tenantId: 't', occurredAt: 1 };
      const box = { x: 0, y: 0, width: 10, height: 10 };
      const preprocessed = (analyses: ImagePreprocessed['analyses']): ImagePreprocessed => ({
        ...envelope,
        status: 'completed',
        analyses,
        original: { bucket: 'b', key: 'k', sha256: 'c'.repeat(64), size: 1, contentType: 'image/png' },
        attributes: { batch: '7' },
        renditions: [],
      });
      const detected = (modelName: string, labels: string[]): ObjectsDetected => ({
        ...envelope,
        status: 'completed',
        model: { ...model, name: modelName },
        objects: labels.map((label) => ({
          label,
          classId: 0,
          confidence: 0.9,
          box,
          boxNormalized: { left: 0, top: 0, width: 0.1, height: 0.1 },
        })),
      });
      const faces: FacesDetected = { ...envelope, status: 'completed', model, faces: [] };
      const deliver = async (eventType: string, value: unknown): Promise<ImageAnalyzed[]> => {
        const message = { eventType, value };
        const outputs = await stage.handle(message, ctx);
        if (outputs.length > 0) await stage.onOutputsDurable?.(message, outputs, ctx);
        return outputs.map((output) => output.value as ImageAnalyzed);
      };

      assert.equal((await deliver('ImagePreprocessed', preprocessed(['detect', 'faces']))).length, 0);
      assert.equal((await deliver('ObjectsDetected', detected('old', ['cat', 'cat']))).length, 0);
      const [first] = await deliver('FacesDetected', faces);
      assert.deepEqual(first?.labels, [{ label: 'cat', count: 2, confidence: 0.9 }]);

      // reprocess --stage detect: preprocess again with detect alone (nothing changes), then detect's new outcome.
      assert.deepEqual(
        await deliver('ImagePreprocessed', preprocessed(['detect'])),
        [],
        'the joined result is the same',
      );
      const [rerun, ...more] = await deliver('ObjectsDetected', detected('new', ['dog']));
      assert.equal(more.length, 0);
      assert.deepEqual(rerun?.labels, [{ label: 'dog', count: 1, confidence: 0.9 }], 'labels of the new detections');
      assert.deepEqual(
        rerun?.objects.map((object) => object.label),
        ['dog'],
      );
      assert.equal(rerun?.stages.detect.model?.name, 'new');
      assert.equal(rerun?.stages.faces.status, 'completed', 'faces was asked for first and stays in the analysis');
      assert.equal(rerun?.status, 'completed');
      assert.deepEqual(rerun?.attributes, { batch: '7' });
      // Replays of any part change nothing and emit nothing.
      assert.deepEqual(await deliver('ObjectsDetected', detected('new', ['dog'])), []);
      assert.deepEqual(await deliver('FacesDetected', faces), []);
      assert.deepEqual(await deliver('ImagePreprocessed', preprocessed(['detect'])), []);
    });
  }

  const batchCtx: BatchContext = { logger: ctx.logger, attempt: 1, signal: ctx.signal };
  const asItems = (messages: { eventType: string; value: unknown }[]): BatchItem[] =>
    messages.map((message, offset) => ({
      message,
      source: { topic: 't', partition: 0, offset: String(offset), key: (message.value as { imageId: string }).imageId },
    }));

  for (const [name, store] of [
    ['in memory', () => new MemoryAggregateStore()],
    ['in Redis', () => new RedisAggregateStore(redis, { ttlSeconds: 60 })],
  ] as const) {
    test(`a batch emits what one-by-one delivery emits: each complete image once, replays included (${name})`, async () => {
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      // Image 0 completes within the batch (twice over), image 1 only gets its preprocess outcome, image 2 both parts.
      const messages = [
        ...events(ids[0]!),
        events(ids[1]!)[0]!,
        ...events(ids[0]!),
        ...events(ids[2]!),
        { eventType: 'ImageUploaded', value: { imageId: ids[1] } },
      ];
      const batchStore = store();
      const stage = aggregateStage({ store: batchStore });
      const result = await stage.handleBatch!(asItems(messages), batchCtx);
      assert.deepEqual(
        result.rejected?.map(({ item, error }) => [item, error.code]),
        [[7, 'CODEC_INVALID_PAYLOAD']],
      );
      assert.deepEqual(
        result.outputs.map(({ item, event }) => [item, event.key]),
        [
          [4, ids[0]],
          [6, ids[2]],
        ],
        'one ImageAnalyzed per complete image, continuing its last part in the batch',
      );
      const expected = joinAnalysis(ids[0]!, {
        preprocessed: events(ids[0]!)[0]!.value as ImagePreprocessed,
        detect: events(ids[0]!)[1]!.value as ObjectsDetected,
      });
      // Equal to the one-by-one join but for when it happened and how long the join took.
      const timeless = (analysis: Omit<ImageAnalyzed, 'tenantId' | 'occurredAt'>) => ({
        ...analysis,
        occurredAt: 0,
        stages: { ...analysis.stages, aggregate: { status: analysis.stages.aggregate.status } },
      });
      assert.deepEqual(timeless(result.outputs[0]!.event.value as ImageAnalyzed), {
        ...timeless(expected),
        tenantId: 't',
      });
      // The producer's attributes survive the join state (JSON in Redis) into ImageAnalyzed.
      assert.deepEqual((result.outputs[0]!.event.value as ImageAnalyzed).attributes, { batch: '7' });

      // Redelivered before the outputs were durable: emitted again (not lost); once durable, never again.
      const again = await stage.handleBatch!(asItems(messages.slice(0, 7)), batchCtx);
      assert.equal(again.outputs.length, 2);
      await stage.onBatchOutputsDurable!(asItems(messages), again.outputs, batchCtx);
      assert.equal((await stage.handleBatch!(asItems(messages.slice(0, 7)), batchCtx)).outputs.length, 0);
      assert.equal(await deliverAll(batchStore, ids[0]!, 1), 0, 'and one by one neither');
      assert.equal(await deliverAll(batchStore, ids[1]!, 1), 1, 'image 1 completes one by one afterwards');
    });
  }
});
