import type { Kafka, KafkaMessage } from 'kafkajs';

/**
 * Reads a topic from a consumer group's position up to the end it had when reading began, then stops: for tools
 * (dlq list, dlq redrive) that work through what is there now instead of consuming forever. With `commit` the group
 * remembers how far it got, so the next run starts after it.
 */
export async function readTopicToEnd(options: {
  kafka: Kafka;
  topic: string;
  groupId: string;
  commit: boolean;
  onMessage: (message: KafkaMessage, partition: number) => Promise<void>;
  timeoutMs?: number;
}): Promise<{ read: number }> {
  const { kafka, topic, groupId } = options;
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(high) > BigInt(low)) ends.set(partition, BigInt(high));
    }
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    for (const { partition, offset } of committed[0]?.partitions ?? []) {
      const end = ends.get(partition);
      if (end !== undefined && BigInt(offset) >= end) ends.delete(partition);
    }
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return { read: 0 };

  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  let read = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic} did not reach its end within ${options.timeoutMs ?? 60_000} ms`)),
        options.timeoutMs ?? 60_000,
      );
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const end = ends.get(partition);
            if (end === undefined || BigInt(message.offset) >= end) return;
            await options.onMessage(message, partition);
            read += 1;
            if (options.commit) {
              await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
            }
            if (BigInt(message.offset) + 1n >= end) ends.delete(partition);
            if (ends.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return { read };
}
