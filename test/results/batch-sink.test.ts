/**
 * The results sink in batches, through the real Kafka runtime against the real PostgreSQL and Redis: a batch with
 * several events of the same image, a replayed batch, and a batch that fails half-way (its PostgreSQL connection
 * killed mid-transaction, a poison event, an event for another tenant's image) all converge on the rows that
 * one-by-one processing of the same events leaves, and no offset is ever committed past an unapplied event.
 *
 * The one-by-one reference is the same stage run by the same runtime with batching off (batchMaxMessages 0), over
 * the same event sequence for other image ids; rows are compared with the ids masked.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { EventCodec } from '@imgpipe/contracts';
import {
  createDatabase,
  createRedis,
  getImage,
  ResultsCache,
  ResultsRepository,
  ResultsService,
  resultsStage,
} from '@imgpipe/results';
import { type PipelineEvent, lifecycleEvents } from '../../packages/results/src/test-fixtures.ts';
import { DEAD_LETTER_HEADERS, type Stage, StageRunner } from '@imgpipe/stream';
import { createLogger } from '@imgpipe/telemetry';
import type { KafkaMessage } from 'kafkajs';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestTopic, endpoints, testKafka, waitFor } from '../support/kafka.ts';

const logger = createLogger('batch-sink-test', 'silent');
const APPLICATION = `imgpipe-batch-sink-${randomUUID().slice(0, 8)}`;
const TENANT = `test-batch-sink-${randomUUID().slice(0, 8)}`;
const INTRUDER = `${TENANT}-intruder`;
// One instant for every write, so time columns compare equal between the batch and the one-by-one runs.
const clock = () => new Date('2099-06-01T00:00:00.000Z');

describe('the results sink in batches', () => {
  const kafka = testKafka('batch-sink-test');
  const codec = new EventCodec({ registryUrl: endpoints.schemaRegistryUrl });
  // The sink's own pool, named so the test can find (and kill) its connections in pg_stat_activity.
  const db = createDatabase({ url: endpoints.databaseUrl, poolSize: 4, applicationName: APPLICATION });
  const reader = createDatabase({ url: endpoints.databaseUrl, poolSize: 2, applicationName: `${APPLICATION}-reader` });
  const redis = createRedis(endpoints.redisUrl);
  let service: ResultsService;
  let base: Stage;
  const stops: (() => Promise<unknown>)[] = [];

  before(async () => {
    service = await ResultsService.open({
      databaseUrl: endpoints.databaseUrl,
      redisUrl: endpoints.redisUrl,
      sweepIntervalMs: 3_600_000,
      imageDeadlineMs: 3_600_000,
    });
    base = resultsStage({
      repository: new ResultsRepository(db, { clock }),
      onChange: (images) => service.refreshMany(images),
    });
  });

  after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await reader.deleteFrom('images').where('tenant_id', 'in', [TENANT, INTRUDER]).execute();
    await service.close();
    await redis.quit();
    await db.destroy();
    await reader.destroy();
  });

  /** The results stage on a test topic and consumer group of its own, recording the image ids of each batch call. */
  function sink(topic: string, dlq: string) {
    const calls: string[][] = [];
    const stage: Stage = {
      ...base,
      groupId: `test-batch-sink-${randomUUID()}`,
      inputs: [topic],
      deadLetterTopic: dlq,
      handleBatch: (items, ctx) => {
        calls.push(items.map((item) => (item.message.value as { imageId: string }).imageId));
        return base.handleBatch!(items, ctx);
      },
    };
    return { stage, calls };
  }

  async function start(stage: Stage, batchMaxMessages: number): Promise<StageRunner> {
    const runner = new StageRunner({
      kafka,
      codec,
      stage,
      logger,
      batchMaxMessages,
      retry: { maxAttempts: 50, initialDelayMs: 50, maxDelayMs: 200 },
    });
    await runner.start();
    stops.push(() => runner.stop());
    return runner;
  }

  /** Produces the events in one request to a one-partition topic; returns each one's offset. */
  async function produce(topic: string, events: readonly PipelineEvent[]): Promise<number[]> {
    const producer = kafka.producer();
    await producer.connect();
    try {
      const messages = await Promise.all(
        events.map(async ({ eventType, value }) => ({
          key: value.imageId,
          value: await codec.encode(eventType, value),
        })),
      );
      const [sent] = await producer.send({ topic, acks: -1, messages });
      return events.map((_event, index) => Number(sent!.baseOffset) + index);
    } finally {
      await producer.disconnect();
    }
  }

  /** The group's committed offset on the topic's only partition (-1: nothing committed). */
  async function committed(groupId: string, topic: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return Number(entry?.partitions[0]?.offset ?? -1);
    } finally {
      await admin.disconnect();
    }
  }

  async function collect(topic: string): Promise<KafkaMessage[]> {
    const sinkMessages: KafkaMessage[] = [];
    const consumer = kafka.consumer({ groupId: `collector-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        sinkMessages.push(message);
      },
    });
    stops.push(() => consumer.disconnect());
    return sinkMessages;
  }

  /** Every row the store keeps for an image, the id masked; `version` keeps images.updated_at (else left out). */
  async function snapshot(imageId: string, version = false) {
    const image = await reader.selectFrom('images').selectAll().where('id', '=', imageId).executeTakeFirstOrThrow();
    const { id: _id, updated_at: updatedAt, ...columns } = image;
    const rows = async (table: 'image_stages' | 'detections' | 'faces' | 'text_lines' | 'image_labels') =>
      (await reader.selectFrom(table).selectAll().where('image_id', '=', imageId).execute())
        .map(({ image_id: _image, ...row }) => row)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const all = {
      image: version ? { ...columns, updated_at: updatedAt } : columns,
      stages: await rows('image_stages'),
      detections: await rows('detections'),
      faces: await rows('faces'),
      textLines: await rows('text_lines'),
      labels: await rows('image_labels'),
    };
    return JSON.parse(JSON.stringify(all).replaceAll(imageId, '<image id>')) as unknown;
  }

  /** Runs the events one message at a time (batching off) to completion: the reference rows. */
  async function oneByOne(events: readonly PipelineEvent[]): Promise<{ letters: KafkaMessage[] }> {
    const [topic, dlq] = [
      await createTestTopic(kafka, 'results-ref', 1),
      await createTestTopic(kafka, 'results-ref-dlq', 1),
    ];
    const letters = await collect(dlq);
    const { stage, calls } = sink(topic, dlq);
    const offsets = await produce(topic, events);
    const runner = await start(stage, 0);
    assert.equal(runner.batching, false);
    await waitFor('the one-by-one run to commit everything', async () =>
      (await committed(stage.groupId, topic)) === offsets.at(-1)! + 1 ? true : undefined,
    );
    assert.equal(calls.length, 0, 'no batch calls when batching is off');
    return { letters };
  }

  /** The events of each image, interleaved position by position, as a partition of the results topics mixes them. */
  function interleaved(perImage: readonly PipelineEvent[][]): PipelineEvent[] {
    const longest = Math.max(...perImage.map((events) => events.length));
    return Array.from({ length: longest }, (_, i) =>
      perImage.flatMap((events) => (events[i] ? [events[i]] : [])),
    ).flat();
  }

  /** A lifecycle with two events replayed: ImagePreprocessed and ObjectsDetected each arrive twice. */
  function withReplays(imageId: string): PipelineEvent[] {
    const [uploaded, preprocessed, detected, faces, text, analyzed] = lifecycleEvents(imageId, TENANT);
    return [uploaded!, preprocessed!, detected!, faces!, preprocessed!, text!, detected!, analyzed!];
  }

  test('a batch with several events per image, and the same batch replayed, leave the one-by-one rows', async () => {
    const reference = [randomUUID(), randomUUID(), randomUUID()];
    const batched = [randomUUID(), randomUUID(), randomUUID()];
    await oneByOne(interleaved(reference.map(withReplays)));

    const [topic, dlq] = [
      await createTestTopic(kafka, 'results-batch', 1),
      await createTestTopic(kafka, 'results-batch-dlq', 1),
    ];
    const events = interleaved(batched.map(withReplays));
    const offsets = await produce(topic, events);
    const first = sink(topic, dlq);
    const runner = await start(first.stage, 500);
    assert.equal(runner.batching, true);
    await waitFor('the batch run to commit everything', async () =>
      (await committed(first.stage.groupId, topic)) === offsets.at(-1)! + 1 ? true : undefined,
    );
    assert.ok(
      first.calls.some((ids) => ids.length > new Set(ids).size),
      `a batch held two events of one image (${first.calls.map((ids) => ids.length)})`,
    );
    for (const [i, imageId] of batched.entries()) {
      assert.deepEqual(await snapshot(imageId), await snapshot(reference[i]!), `image ${i}: the one-by-one rows`);
      const view = await getImage(reader, TENANT, imageId);
      assert.equal(view?.status, 'completed');
      assert.deepEqual(await new ResultsCache(redis).getLatest(TENANT, imageId), view, 'the cached view is current');
    }

    // The same batch again, as a consumer that lost its offsets would see it: nothing changes, not even versions.
    const before = await Promise.all(batched.map((imageId) => snapshot(imageId, true)));
    const replay = sink(topic, dlq);
    await start(replay.stage, 500);
    await waitFor('the replay to commit everything', async () =>
      (await committed(replay.stage.groupId, topic)) === offsets.at(-1)! + 1 ? true : undefined,
    );
    assert.ok(
      replay.calls.some((ids) => ids.length > 1),
      'replayed in batches',
    );
    assert.deepEqual(await Promise.all(batched.map((imageId) => snapshot(imageId, true))), before);
  });

  test('a batch that fails half-way converges on the one-by-one rows, committing nothing past unapplied events', async () => {
    /**
     * Per image: the full lifecycle; image 1 also gets an ObjectsDetected from another tenant (refused), image 2's
     * TextRecognized carries a NUL character PostgreSQL cannot store (it fails its transaction every time), and the
     * last image was uploaded before the batch (one of its stage rows is what the test locks).
     */
    const scenario = (ids: string[]): PipelineEvent[][] =>
      ids.map((imageId, i) => {
        const events = lifecycleEvents(imageId, TENANT);
        if (i === 1) {
          const detected = events[2] as Extract<PipelineEvent, { eventType: 'ObjectsDetected' }>;
          events.splice(3, 0, { eventType: 'ObjectsDetected', value: { ...detected.value, tenantId: INTRUDER } });
        }
        if (i === 2) {
          const text = events[4] as Extract<PipelineEvent, { eventType: 'TextRecognized' }>;
          const poisoned = { ...text.value.text, fullText: 'LINE\u000042' };
          events[4] = { eventType: 'TextRecognized', value: { ...text.value, text: poisoned } };
        }
        return i === ids.length - 1 ? events.slice(1) : events;
      });
    const preUpload = async (imageId: string) => {
      const [uploaded] = lifecycleEvents(imageId, TENANT);
      await base.handle(uploaded!, {
        logger,
        attempt: 1,
        signal: new AbortController().signal,
        source: { topic: 'x', partition: 0, offset: '0', key: imageId },
      });
    };

    const reference = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await preUpload(reference[3]!);
    const { letters: referenceLetters } = await oneByOne(interleaved(scenario(reference)));

    const batched = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const locked = batched[3]!;
    await preUpload(locked);
    const [topic, dlq] = [
      await createTestTopic(kafka, 'results-fail', 1),
      await createTestTopic(kafka, 'results-fail-dlq', 1),
    ];
    const letters = await collect(dlq);
    const events = interleaved(scenario(batched));
    const offsets = await produce(topic, events);

    // Another session holds the lock on one stage row the batch will update: the batch's transaction stops
    // half-way (new images and their stage rows inserted, image rows updated, then waiting to update that stage
    // row), where the test kills its connection.
    const blocker = new pg.Client({
      connectionString: endpoints.databaseUrl,
      application_name: `${APPLICATION}-blocker`,
    });
    await blocker.connect();
    stops.push(() => blocker.end());
    await blocker.query('begin');
    await blocker.query("select 1 from image_stages where image_id = $1 and stage = 'detect' for update", [locked]);

    const { stage, calls } = sink(topic, dlq);
    await start(stage, 500);
    // Watched from outside any transaction: inside one, pg_stat_activity would show the same snapshot every time.
    const waiting = async (not?: number) => {
      const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity
        where application_name = ${APPLICATION} and wait_event_type = 'Lock'`.execute(reader);
      return rows.find((row) => row.pid !== not)?.pid;
    };
    const killed: number[] = [];
    for (let round = 0; round < 2; round += 1) {
      const pid = await waitFor('the batch transaction to wait on the locked row', () => waiting(killed.at(-1)));
      assert.equal(await committed(stage.groupId, topic), -1, 'nothing committed while the batch is unapplied');
      const { rows: wrote } = await sql`select 1 from pg_locks where pid = ${pid}
        and relation = 'images'::regclass and mode = 'RowExclusiveLock'`.execute(reader);
      assert.equal(wrote.length, 1, 'killed half-way: the transaction had already written image rows');
      await sql`select pg_terminate_backend(${pid})`.execute(reader);
      killed.push(pid);
    }
    // Retried on a new connection while the partition waited: still nothing committed.
    await waitFor('the retry to wait again', () => waiting(killed.at(-1)));
    assert.equal(await committed(stage.groupId, topic), -1);
    assert.equal(calls[0]!.length, events.length, 'the first attempt held the whole batch');
    assert.ok(calls.length >= 3, 'the same batch was retried');
    await blocker.query('rollback');

    await waitFor('the batch run to commit everything', async () =>
      (await committed(stage.groupId, topic)) === offsets.at(-1)! + 1 ? true : undefined,
    );
    for (const [i, imageId] of batched.entries()) {
      assert.deepEqual(await snapshot(imageId), await snapshot(reference[i]!), `image ${i}: the one-by-one rows`);
    }
    const poisonOffsets = events.flatMap((event, index) =>
      (event.eventType === 'ObjectsDetected' && event.value.tenantId === INTRUDER) ||
      (event.eventType === 'TextRecognized' && event.value.text.fullText.includes('\u0000'))
        ? [offsets[index]!]
        : [],
    );
    const summary = (messages: KafkaMessage[]) =>
      messages
        .map((m) => [
          m.headers?.[DEAD_LETTER_HEADERS.errorCode]?.toString(),
          m.headers?.[DEAD_LETTER_HEADERS.sourceOffset]?.toString(),
        ])
        .sort();
    await waitFor('two dead letters', () => (letters.length === 2 && referenceLetters.length === 2 ? true : undefined));
    assert.deepEqual(
      summary(letters).map(([code]) => code),
      ['EVENT_TENANT_MISMATCH', 'STAGE_INTERNAL'],
    );
    assert.deepEqual(
      summary(letters)
        .map(([, offset]) => Number(offset))
        .sort((a, b) => a - b),
      poisonOffsets,
      'exactly the two bad events were dead-lettered',
    );
    assert.deepEqual(
      summary(referenceLetters).map(([code]) => code),
      ['EVENT_TENANT_MISMATCH', 'STAGE_INTERNAL'],
      'one by one dead-letters the same two',
    );
    assert.ok(
      calls.some((ids) => ids.length === 1),
      `the failing batch was split down to single messages (${calls.map((ids) => ids.length)})`,
    );
  });
});
