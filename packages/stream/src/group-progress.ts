import type { Admin } from 'kafkajs';

/** Where a consumer group stands on its input topics: messages not yet committed, and the sum of its positions. */
export interface GroupProgress {
  lag: number;
  /** Sum over partitions of the committed position: it grows exactly when the group commits progress. */
  position: bigint;
}

/** The group's lag and committed position on its topics, from the brokers (what every replica sees alike). */
export async function measureGroupProgress(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<GroupProgress> {
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  let lag = 0;
  let position = 0n;
  for (const { topic, partitions } of committed) {
    const watermarks = new Map((await admin.fetchTopicOffsets(topic)).map((entry) => [entry.partition, entry]));
    for (const { partition, offset } of partitions) {
      const { high = '0', low = '0' } = watermarks.get(partition) ?? {};
      // A partition the group never committed on starts from the low watermark (fromBeginning).
      const at = BigInt(offset) < 0n ? BigInt(low) : BigInt(offset);
      position += at;
      lag += Math.max(0, Number(BigInt(high) - at));
    }
  }
  return { lag, position };
}
