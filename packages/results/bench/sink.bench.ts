/**
 * The results sink and the aggregate join, one message at a time against in batches, in one process against the real
 * PostgreSQL and Redis:
 *   results:   6 events per image (upload, preprocess, detect, faces, ocr, analysis), each decoded from its Avro
 *              bytes and handed to the results stage: (a) `handle` per message (one transaction, then the image
 *              re-read, cached and announced, per message) or (b) `handleBatch` per batch (one transaction, one
 *              read of the changed images, one Redis pipeline per batch);
 *   aggregate: the 4 events per image it joins, (a) `handle` per message or (b) `handleBatch` per batch, against the
 *              Redis join store, ImageAnalyzed marked emitted as the runtime does once it is durable.
 * Batches are shaped as kafkajs hands them over: one partition of one topic, so one event type, `--batch` images.
 * `--lanes` sequences run at once, like the partitions a process consumes concurrently (IMGPIPE_CONCURRENCY).
 * The two paths alternate for `--rounds` rounds on fresh images; medians are reported (a shared machine's load
 * moves single runs a lot: the load average is printed first).
 * With --kafka, the same results and aggregate events also go through the real Kafka runtime (StageRunner, batching
 * off and on), timed from producing them all to the last offset committed.
 *
 *   npm run bench:sink [-- --images 300 --batch 100 --lanes 2 --rounds 3 --only one-by-one|batch --kafka]
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  type BatchContext,
  type BatchItem,
  type DecodedMessage,
  EventCodec,
  type OutputEvent,
  type Stage,
  type StageContext,
} from '@imgpipe/contracts';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { aggregateStage, RedisAggregateStore } from '@imgpipe/stages';
import { createKafka, StageRunner } from '@imgpipe/stream';
import { createLogger } from '@imgpipe/telemetry';
import { Redis } from 'ioredis';
import { ResultsService, resultsServiceSettings } from '../src/index.ts';
import { lifecycleEvents, type PipelineEvent } from '../src/test-fixtures.ts';
import { recordFigures } from '../../../bench/figures.ts';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '300' },
    batch: { type: 'string', default: '100', description: 'images per batch (one event type per batch)' },
    lanes: { type: 'string', default: '2', description: 'sequences at once, like partitions consumed concurrently' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string', default: 'both', description: 'one-by-one, batch or both' },
    kafka: { type: 'boolean', default: false },
  },
});
const IMAGES = Number(values.images);
const BATCH = Number(values.batch);
const LANES = Number(values.lanes);
const ROUNDS = Number(values.rounds);
const ONLY = values.only;
const TENANT = `bench-sink-${randomUUID().slice(0, 8)}`;
const logger = createLogger('bench-sink', 'error');
const signal = new AbortController().signal;

const settings = loadConfig({ ...serviceSettings, ...resultsServiceSettings });
const codec = new EventCodec({ registryUrl: settings.schemaRegistryUrl });
const service = await ResultsService.open({ ...settings, sweepIntervalMs: 3_600_000, imageDeadlineMs: 3_600_000 });
const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: 3 });
const aggregate = aggregateStage({ store: new RedisAggregateStore(redis, { ttlSeconds: 600 }) });
const AGGREGATED = new Set(['ImagePreprocessed', 'ObjectsDetected', 'FacesDetected', 'TextRecognized']);

interface Encoded {
  key: string;
  eventType: string;
  bytes: Buffer;
}

/**
 * Per lane, the events of its images as a partition delivers them: images in groups of BATCH, and within a group
 * each event type in pipeline order. Returns batches (one event type each) of encoded events.
 */
async function workload(filter: (event: PipelineEvent) => boolean): Promise<Encoded[][][]> {
  const lanes: Encoded[][][] = Array.from({ length: LANES }, () => []);
  for (let start = 0; start < IMAGES; start += BATCH) {
    const group = Array.from({ length: Math.min(BATCH, IMAGES - start) }, () => randomUUID());
    const perImage = group.map((imageId) => lifecycleEvents(imageId, TENANT).filter(filter));
    const lane = lanes[(start / BATCH) % LANES]!;
    for (let position = 0; position < perImage[0]!.length; position += 1) {
      lane.push(
        await Promise.all(
          perImage.map(async (events) => {
            const { eventType, value } = events[position]!;
            const key = (value as { imageId: string }).imageId;
            return { key, eventType, bytes: await codec.encode(eventType, value) };
          }),
        ),
      );
    }
  }
  return lanes;
}

function context(key: string, offset: number): StageContext {
  return { logger, attempt: 1, signal, source: { topic: 'bench', partition: 0, offset: String(offset), key } };
}

interface Run {
  count: number;
  ms: number;
}

async function oneByOne(stage: Stage, lanes: Encoded[][][]): Promise<Run> {
  let count = 0;
  const started = performance.now();
  await Promise.all(
    lanes.map(async (batches) => {
      for (const batch of batches) {
        for (const { key, bytes } of batch) {
          const message: DecodedMessage = await codec.decode(bytes);
          const ctx = context(key, count);
          const outputs = await stage.handle(message, ctx);
          if (outputs.length > 0) await stage.onOutputsDurable?.(message, outputs, ctx);
          count += 1;
        }
      }
    }),
  );
  return { count, ms: performance.now() - started };
}

async function inBatches(stage: Stage, lanes: Encoded[][][]): Promise<Run> {
  let count = 0;
  const ctx: BatchContext = { logger, attempt: 1, signal };
  const started = performance.now();
  await Promise.all(
    lanes.map(async (batches) => {
      for (const batch of batches) {
        const items: BatchItem[] = await Promise.all(
          batch.map(async ({ key, bytes }, index) => ({
            message: await codec.decode(bytes),
            source: { topic: 'bench', partition: 0, offset: String(count + index), key },
            headers: {},
          })),
        );
        const result = await stage.handleBatch!(items, ctx);
        if (result.outputs.length > 0) await stage.onBatchOutputsDurable?.(items, result.outputs, ctx);
        if ((result.rejected ?? []).length > 0) throw new Error(`refused: ${JSON.stringify(result.rejected)}`);
        count += batch.length;
      }
    }),
  );
  return { count, ms: performance.now() - started };
}

const rate = (run: Run) => (run.count / run.ms) * 1000;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function report(label: string, runs: Run[]): number {
  const rates = runs.map(rate);
  const mid = median(rates);
  console.log(
    `  ${label.padEnd(20)} ${String(runs[0]!.count).padStart(6)} messages: median ${mid.toFixed(0).padStart(6)} messages/s ` +
      `(${rates.map((r) => r.toFixed(0)).join(', ')}), ${((1000 / mid) * LANES).toFixed(2)} ms busy per message`,
  );
  return mid;
}

async function compare(
  name: string,
  stage: Stage,
  filter: (event: PipelineEvent) => boolean,
  goal: number,
): Promise<{ one?: number; many?: number }> {
  console.log(`\n${name} (goal >= ${goal} messages/s per process)`);
  const a: Run[] = [];
  const b: Run[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    if (ONLY !== 'batch') a.push(await oneByOne(stage, await workload(filter)));
    if (ONLY !== 'one-by-one') b.push(await inBatches(stage, await workload(filter)));
  }
  const one = a.length > 0 ? report('one by one', a) : undefined;
  const many = b.length > 0 ? report(`in batches of ${BATCH}`, b) : undefined;
  if (one && many) console.log(`  batches / one by one: ${(many / one).toFixed(1)}x`);
  return { ...(one ? { one } : {}), ...(many ? { many } : {}) };
}

/**
 * A stage's events through StageRunner on a topic of their own: produce all, time until all are committed. Its
 * outputs (aggregate's ImageAnalyzed) go to a throwaway topic too, so no pipeline consumer sees them.
 */
async function throughKafka(
  target: Stage,
  filter: (event: PipelineEvent) => boolean,
  batchMaxMessages: number,
): Promise<number> {
  const kafka = createKafka({ connection: settings, clientId: 'bench-sink', logger });
  const admin = kafka.admin();
  await admin.connect();
  const suffix = randomUUID().slice(0, 8);
  const [topic, dlq, out] = [`bench.sink.${suffix}`, `bench.sink-dlq.${suffix}`, `bench.sink-out.${suffix}`];
  await admin.createTopics({
    topics: [topic, dlq, out].map((name) => ({ topic: name, numPartitions: LANES, replicationFactor: 1 })),
    waitForLeaders: true,
  });
  const redirect = (event: OutputEvent): OutputEvent => ({ ...event, topic: out });
  const stage: Stage = {
    ...target,
    groupId: `bench-sink-${suffix}`,
    inputs: [topic],
    deadLetterTopic: dlq,
    handle: async (message, ctx) => (await target.handle(message, ctx)).map(redirect),
    ...(target.handleBatch
      ? {
          handleBatch: async (items, ctx) => {
            const result = await target.handleBatch!(items, ctx);
            return { ...result, outputs: result.outputs.map(({ item, event }) => ({ item, event: redirect(event) })) };
          },
        }
      : {}),
  };
  const runner = new StageRunner({ kafka, codec, stage, logger, concurrency: LANES, batchMaxMessages });
  try {
    await runner.start();
    while (runner.health.state !== 'joined') await new Promise((resolve) => setTimeout(resolve, 50));
    const lanes = await workload(filter);
    const producer = kafka.producer();
    await producer.connect();
    const started = performance.now();
    const messages = lanes.flat(2).map(({ key, bytes }) => ({ key, value: bytes }));
    for (let start = 0; start < messages.length; start += 1000) {
      await producer.send({ topic, acks: -1, messages: messages.slice(start, start + 1000) });
    }
    await producer.disconnect();
    for (;;) {
      const [entry] = await admin.fetchOffsets({ groupId: stage.groupId, topics: [topic] });
      const done = (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      if (done >= messages.length) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return report(batchMaxMessages === 0 ? 'Kafka, one by one' : 'Kafka, in batches', [
      { count: messages.length, ms: performance.now() - started },
    ]);
  } finally {
    await runner.stop();
    await admin.deleteTopics({ topics: [topic, dlq, out] }).catch(() => {});
    await admin.disconnect();
  }
}

try {
  const load = loadavg().map((l) => l.toFixed(1));
  console.log(
    `${IMAGES} images, ${LANES} lanes, batches of ${BATCH} images (one event type each), ${ROUNDS} rounds; ` +
      `load average ${load.join(' ')} on ${availableParallelism()} CPUs`,
  );
  const results = await compare('results: 6 events per image', service.stage, () => true, 1000);
  const joined = await compare('aggregate: 4 events per image', aggregate, (e) => AGGREGATED.has(e.eventType), 500);
  const figures: Record<string, number> = {};
  if (results.one) figures['resultsOneByOne'] = results.one;
  if (results.many) figures['resultsBatched'] = results.many;
  if (joined.one) figures['aggregateOneByOne'] = joined.one;
  if (joined.many) figures['aggregateBatched'] = joined.many;
  if (values.kafka) {
    const all = () => true;
    const joins = (event: PipelineEvent) => AGGREGATED.has(event.eventType);
    console.log('\nresults through the Kafka runtime (produce all, until every offset is committed)');
    if (ONLY !== 'batch') figures['resultsKafkaOneByOne'] = await throughKafka(service.stage, all, 0);
    if (ONLY !== 'one-by-one') figures['resultsKafkaBatched'] = await throughKafka(service.stage, all, BATCH * 6);
    console.log('\naggregate through the Kafka runtime (its ImageAnalyzed to a throwaway topic)');
    if (ONLY !== 'batch') figures['aggregateKafkaOneByOne'] = await throughKafka(aggregate, joins, 0);
    if (ONLY !== 'one-by-one') figures['aggregateKafkaBatched'] = await throughKafka(aggregate, joins, BATCH * 4);
  }
  recordFigures('sink', figures);
} finally {
  await service.db.deleteFrom('images').where('tenant_id', '=', TENANT).execute();
  await service.close();
  await redis.quit();
}
