import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { createLogger, startTracing } from '@imgpipe/telemetry';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { createTestTopic, testKafka, waitFor } from '../../../test/support/kafka.ts';
import { DEAD_LETTER_HEADERS, type DeadLetter } from './dead-letter.ts';
import type { DecodedMessage, MessageCodec } from './message-codec.ts';
import type { Stage } from './stage.ts';
import { StageRunner } from './stage-runner.ts';

/** The runtime is codec-agnostic; JSON keeps these tests about delivery, not Avro (covered in contracts). */
const jsonCodec: MessageCodec = {
  async decode(bytes) {
    try {
      return JSON.parse(bytes.toString('utf8')) as DecodedMessage;
    } catch {
      throw new ImgpipeError('CODEC_MISSING_MAGIC_BYTE', 'not JSON');
    }
  },
  async encode(eventType, value) {
    return Buffer.from(JSON.stringify({ eventType, value }));
  },
};

const logger = createLogger('stage-runner-test', 'silent');

async function collect(kafka: Kafka, topic: string, sink: KafkaMessage[]): Promise<() => Promise<void>> {
  const consumer = kafka.consumer({ groupId: `collector-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      sink.push(message);
    },
  });
  return () => consumer.disconnect();
}

function header(message: KafkaMessage, key: string): string | undefined {
  return message.headers?.[key]?.toString();
}

describe('StageRunner against a real broker', () => {
  const kafka = testKafka('stage-runner-test');
  let input: string;
  let output: string;
  let dlq: string;
  const outputs: KafkaMessage[] = [];
  const letters: KafkaMessage[] = [];
  const stops: (() => Promise<unknown>)[] = [];

  before(async () => {
    [input, output, dlq] = await Promise.all([
      createTestTopic(kafka, 'in', 2),
      createTestTopic(kafka, 'out', 2),
      createTestTopic(kafka, 'dlq', 2),
    ]);
    stops.push(await collect(kafka, output, outputs), await collect(kafka, dlq, letters));
  });

  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  function stage(handle: Stage['handle'], extra: Partial<Stage> = {}): Stage {
    return { name: 'test', groupId: `test-${randomUUID()}`, inputs: [input], deadLetterTopic: dlq, handle, ...extra };
  }

  before(() => startTracing({ serviceName: 'stage-runner-test' }));

  async function run(s: Stage, options: Partial<ConstructorParameters<typeof StageRunner>[0]> = {}) {
    const runner = new StageRunner({
      kafka,
      codec: jsonCodec,
      stage: s,
      logger,
      retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50 },
      ...options,
    });
    await runner.start();
    stops.push(() => runner.stop());
    return runner;
  }

  async function send(key: string, value: Buffer | object, headers: Record<string, string> = {}, topic = input) {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key, value: Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)), headers }],
    });
    await producer.disconnect();
  }

  test('produces outputs with the same key, then commits; retries transient errors; dead-letters poison', async () => {
    const attemptsSeen = new Map<string, number[]>();
    const runner = await run(
      stage(
        async (message, ctx) => {
          const { n, mode } = message.value as { n: number; mode: string };
          const key = ctx.source.key!;
          attemptsSeen.set(key, [...(attemptsSeen.get(key) ?? []), ctx.attempt]);
          if (mode === 'poison') throw new ImgpipeError('IMAGE_CORRUPT', 'this image is broken');
          // A dependency unavailable is retried past maxAttempts (3 here), until the message's deadline.
          if (mode === 'flaky' && ctx.attempt < 5) throw new ImgpipeError('STORAGE_UNAVAILABLE', 'try later');
          // Any other transient failure gets maxAttempts, then the dead-letter topic.
          if (mode === 'always-down') throw new ImgpipeError('MODEL_INFERENCE_FAILED', 'still failing');
          return [{ topic: output, eventType: 'Doubled', key, value: { n: n * 2 } }];
        },
        {
          async onFailure(_message, error, ctx) {
            return [{ topic: output, eventType: 'Failed', key: ctx.source.key!, value: { code: error.code } }];
          },
        },
      ),
    );
    const ids = {
      ok: randomUUID(),
      poison: randomUUID(),
      flaky: randomUUID(),
      down: randomUUID(),
      garbage: randomUUID(),
    };
    await send(
      ids.poison,
      { eventType: 'Number', value: { n: 0, mode: 'poison' } },
      { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    );
    await send(ids.ok, { eventType: 'Number', value: { n: 21, mode: 'ok' } });
    await send(ids.flaky, { eventType: 'Number', value: { n: 5, mode: 'flaky' } });
    await send(ids.down, { eventType: 'Number', value: { n: 1, mode: 'always-down' } });
    await send(ids.garbage, Buffer.from([0xde, 0xad, 0xbe, 0xef]));

    const byKey = (sink: KafkaMessage[], key: string) => sink.filter((m) => m.key?.toString() === key);
    await waitFor('all outputs and dead letters', () =>
      byKey(outputs, ids.ok).length === 1 &&
      byKey(outputs, ids.flaky).length === 1 &&
      byKey(letters, ids.poison).length === 1 &&
      byKey(letters, ids.down).length === 1 &&
      byKey(letters, ids.garbage).length === 1
        ? true
        : undefined,
    );

    const ok = JSON.parse(byKey(outputs, ids.ok)[0]!.value!.toString());
    assert.deepEqual(ok, { eventType: 'Doubled', value: { n: 42 } });
    assert.deepEqual(attemptsSeen.get(ids.flaky), [1, 2, 3, 4, 5], 'an unavailable dependency outlasts maxAttempts');
    assert.deepEqual(attemptsSeen.get(ids.poison), [1], 'a deterministic failure is not retried');
    assert.deepEqual(attemptsSeen.get(ids.down), [1, 2, 3], 'a transient failure is retried up to maxAttempts');

    const poison = byKey(letters, ids.poison)[0]!;
    assert.equal(header(poison, DEAD_LETTER_HEADERS.errorCode), 'IMAGE_CORRUPT');
    assert.equal(header(poison, DEAD_LETTER_HEADERS.stage), 'test');
    const letter = JSON.parse(poison.value!.toString()).value as DeadLetter & { value: { data: number[] } };
    assert.equal(letter.errorCode, 'IMAGE_CORRUPT');
    assert.equal(letter.retriable, false);
    assert.equal(letter.sourceTopic, input);
    assert.equal(letter.traceId, '0af7651916cd43dd8448eb211c80319c', 'the dead letter keeps the trace id');
    assert.equal(
      Buffer.from(letter.value.data).toString(),
      JSON.stringify({ eventType: 'Number', value: { n: 0, mode: 'poison' } }),
      'the original bytes are kept whole',
    );
    assert.ok(
      (JSON.parse(JSON.stringify(letter.headers)) as { key: string }[]).some((h) => h.key === 'traceparent'),
      'the original headers are kept',
    );
    assert.equal(byKey(outputs, ids.poison).length, 1, 'onFailure publishes a failed outcome');

    const down = byKey(letters, ids.down)[0]!;
    assert.equal(header(down, DEAD_LETTER_HEADERS.errorCode), 'MODEL_INFERENCE_FAILED');
    assert.equal(header(down, DEAD_LETTER_HEADERS.attempt), '3');
    assert.equal(header(byKey(letters, ids.garbage)[0]!, DEAD_LETTER_HEADERS.errorCode), 'CODEC_MISSING_MAGIC_BYTE');

    const admin = kafka.admin();
    await admin.connect();
    const committed = await waitFor('committed offsets', async () => {
      const [topic] = await admin.fetchOffsets({ groupId: runner.groupId, topics: [input] });
      const total = (topic?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      return total === 5 ? total : undefined;
    });
    await admin.disconnect();
    assert.equal(committed, 5, 'every message, poison included, is committed so nothing blocks its partition');
  });

  test('a handler slower than the session timeout causes no rebalance and runs once', async () => {
    let calls = 0;
    const key = randomUUID();
    const slowInput = await createTestTopic(kafka, 'slow', 1);
    const runner = await run(
      stage(
        async (_message, ctx) => {
          calls += 1;
          await new Promise((resolve) => setTimeout(resolve, 9_000));
          return [{ topic: output, eventType: 'Slow', key: ctx.source.key!, value: { done: true } }];
        },
        { inputs: [slowInput] },
      ),
      { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 },
    );
    await waitFor('the group to be joined', () => (runner.health.state === 'joined' ? true : undefined));
    const joinsBefore = runner.health.joins;
    await send(key, { eventType: 'Number', value: { n: 1 } }, {}, slowInput);
    await waitFor('the slow output', () => (outputs.some((m) => m.key?.toString() === key) ? true : undefined), 60_000);
    assert.equal(calls, 1, 'the slow message is processed exactly once');
    assert.equal(runner.health.joins, joinsBefore, 'no rebalance while the handler ran past the session timeout');
    assert.equal(runner.health.state, 'joined');
  });
});

describe('StageRunner in batches against a real broker', () => {
  const kafka = testKafka('stage-runner-batch-test');
  const stops: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  async function topics(partitions = 1) {
    const [input, output, dlq] = await Promise.all([
      createTestTopic(kafka, 'batch-in', partitions),
      createTestTopic(kafka, 'batch-out', partitions),
      createTestTopic(kafka, 'batch-dlq', partitions),
    ]);
    const outputs: KafkaMessage[] = [];
    const letters: KafkaMessage[] = [];
    stops.push(await collect(kafka, output, outputs), await collect(kafka, dlq, letters));
    return { input: input!, output: output!, dlq: dlq!, outputs, letters };
  }

  async function sendAll(topic: string, messages: { key: string; value: Buffer | object }[]) {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: messages.map(({ key, value }) => ({
        key,
        value: Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)),
      })),
    });
    await producer.disconnect();
  }

  async function committed(groupId: string, topic: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    } finally {
      await admin.disconnect();
    }
  }

  async function run(stage: Stage, options: Partial<ConstructorParameters<typeof StageRunner>[0]> = {}) {
    const runner = new StageRunner({
      kafka,
      codec: jsonCodec,
      stage,
      logger,
      retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50 },
      ...options,
    });
    await runner.start();
    stops.push(() => runner.stop());
    return runner;
  }

  const n = (message: DecodedMessage) => (message.value as { n: number }).n;

  test('hands over whatever was fetched, in order; isolates poison and refused messages; commits everything', async () => {
    const t = await topics();
    const calls: number[][] = [];
    const applied: number[] = [];
    const stage: Stage = {
      name: 'test',
      groupId: `batch-${randomUUID()}`,
      inputs: [t.input],
      deadLetterTopic: t.dlq,
      handle: async () => {
        throw new Error('not used in batches');
      },
      async handleBatch(items) {
        const ns = items.map((item) => n(item.message));
        calls.push(ns);
        // 13 always breaks the whole call (a bug the handler does not know how to pin on one message).
        if (ns.includes(13)) throw new ImgpipeError('STAGE_INTERNAL', 'thirteen');
        const rejected = items.flatMap((item, index) =>
          n(item.message) === 7 ? [{ item: index, error: new ImgpipeError('EVENT_TENANT_MISMATCH', 'seven') }] : [],
        );
        applied.push(...ns.filter((value) => value !== 7));
        return {
          outputs: items.flatMap((item, index) =>
            n(item.message) === 7
              ? []
              : [
                  {
                    item: index,
                    event: {
                      topic: t.output,
                      eventType: 'Doubled',
                      key: item.source.key!,
                      value: { n: n(item.message) * 2 },
                    },
                  },
                ],
          ),
          rejected,
        };
      },
    };
    const values = Array.from({ length: 20 }, (_, i) => i);
    // Produced before the consumer starts: the first fetch returns them together.
    await sendAll(t.input, [
      ...values.map((i) => ({ key: `k${i}`, value: { eventType: 'Number', value: { n: i } } })),
      { key: 'garbage', value: Buffer.from([0xde, 0xad]) },
    ]);
    const runner = await run(stage);
    assert.equal(runner.batching, true);
    await waitFor('every message committed', async () =>
      (await committed(stage.groupId, t.input)) === 21 ? true : undefined,
    );
    assert.ok(calls[0]!.length > 1, `the first call got a batch (${calls[0]!.length})`);
    assert.deepEqual(
      applied,
      values.filter((i) => i !== 7 && i !== 13),
      'each good message applied once, in order',
    );
    await waitFor('outputs and letters', () => (t.outputs.length === 18 && t.letters.length === 3 ? true : undefined));
    assert.deepEqual(
      t.outputs.map((m) => JSON.parse(m.value!.toString()).value.n),
      values.filter((i) => i !== 7 && i !== 13).map((i) => i * 2),
    );
    const codes = Object.fromEntries(
      t.letters.map((m) => [m.key?.toString(), header(m, DEAD_LETTER_HEADERS.errorCode)]),
    );
    assert.deepEqual(codes, {
      k7: 'EVENT_TENANT_MISMATCH',
      k13: 'STAGE_INTERNAL',
      garbage: 'CODEC_MISSING_MAGIC_BYTE',
    });
    assert.ok(
      calls.some((call) => call.length === 1 && call[0] === 13),
      'the batch was split until 13 was alone',
    );
  });

  test('a transient failure holds the partition (no offset committed) and retries the whole batch', async () => {
    const t = await topics();
    let down = true;
    let failures = 0;
    const applied: number[] = [];
    const stage: Stage = {
      name: 'test',
      groupId: `batch-${randomUUID()}`,
      inputs: [t.input],
      deadLetterTopic: t.dlq,
      handle: async () => [],
      async handleBatch(items) {
        if (down) {
          failures += 1;
          throw new ImgpipeError('DATABASE_UNAVAILABLE', 'down');
        }
        applied.push(...items.map((item) => n(item.message)));
        return { outputs: [] };
      },
    };
    await sendAll(
      t.input,
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: { eventType: 'Number', value: { n: i } } })),
    );
    // maxAttempts is 3: a dependency that is unavailable is retried past it, until the messages' deadline.
    await run(stage);
    await waitFor('more failed attempts than maxAttempts', () => (failures >= 5 ? true : undefined));
    assert.equal(await committed(stage.groupId, t.input), 0, 'nothing committed past an unapplied message');
    down = false;
    await waitFor('every message committed', async () =>
      (await committed(stage.groupId, t.input)) === 10 ? true : undefined,
    );
    assert.deepEqual(
      applied,
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.equal(t.letters.length, 0, 'nothing dead-lettered');
  });

  test('batchMaxMessages splits a fetch; 0 turns batching off', async () => {
    const t = await topics();
    const sizes: number[] = [];
    const stage: Stage = {
      name: 'test',
      groupId: `batch-${randomUUID()}`,
      inputs: [t.input],
      deadLetterTopic: t.dlq,
      handle: async () => [],
      async handleBatch(items) {
        sizes.push(items.length);
        return { outputs: [] };
      },
    };
    await sendAll(
      t.input,
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: { eventType: 'Number', value: { n: i } } })),
    );
    await run(stage, { batchMaxMessages: 3 });
    await waitFor('every message committed', async () =>
      (await committed(stage.groupId, t.input)) === 10 ? true : undefined,
    );
    assert.ok(Math.max(...sizes) <= 3, `sizes ${sizes}`);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      10,
    );
    const off = new StageRunner({ kafka, codec: jsonCodec, stage, logger, batchMaxMessages: 0 });
    assert.equal(off.batching, false);
  });
});
