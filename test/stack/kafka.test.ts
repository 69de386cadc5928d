import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createKafka } from '@imgpipe/stream';
import { createLogger } from '@imgpipe/telemetry';
import { config, eventually } from './support.ts';

describe('kafka (the real broker of the local stack)', () => {
  // Through createKafka, as every imgpipe client is made (its kafkajs request-queue mend included).
  const kafka = createKafka({
    connection: config,
    clientId: 'imgpipe-stack-test',
    logger: createLogger('imgpipe-stack-test', 'silent'),
  });
  const admin = kafka.admin();
  const topic = `imgpipe.test.kafka-${randomUUID()}`;
  const groupId = `imgpipe.test.group-${randomUUID()}`;

  before(async () => {
    await admin.connect();
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    });
    assert.equal(created, true);
  });

  after(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  test('a message produced is consumed through a consumer group, and the committed offset is stored', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'image-1', value: 'hello imgpipe' }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId });
    const received: { key: string; value: string; offset: string }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ message, partition }) => {
          received.push({
            key: message.key?.toString() ?? '',
            value: message.value?.toString() ?? '',
            offset: message.offset,
          });
          await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
        },
      });
      await eventually(() => received.length === 1, 'the produced message');
      assert.deepEqual(received, [{ key: 'image-1', value: 'hello imgpipe', offset: '0' }]);

      await eventually(async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return committed?.partitions[0]?.offset === '1';
      }, "the group's committed offset");
    } finally {
      await consumer.disconnect();
    }
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.deepEqual(committed?.partitions, [{ partition: 0, offset: '1', metadata: null }]);
    await admin.deleteGroups([groupId]);
  });
});
