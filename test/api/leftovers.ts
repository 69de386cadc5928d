import { randomUUID } from 'node:crypto';
import { TOPICS } from '@imgpipe/contracts';
import type { RunningApi } from '@imgpipe/http-api';
import type { Kafka } from 'kafkajs';
import { testKafka, waitFor } from '../support/kafka.ts';
import { tenantImageCount, tenantObjects } from './support.ts';

type Offsets = Map<number, bigint>;

async function endOffsets(kafka: Kafka): Promise<Offsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(TOPICS.uploaded);
    return new Map(offsets.map((entry) => [entry.partition, BigInt(entry.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * What reached images.uploaded since the watch started: the topic's end offsets are read at the start, and the
 * messages between them and the end offsets at the time of asking are read with a throwaway consumer group.
 */
export class UploadedTopicWatch {
  readonly #kafka: Kafka;
  readonly #from: Offsets;

  private constructor(kafka: Kafka, from: Offsets) {
    this.#kafka = kafka;
    this.#from = from;
  }

  static async start(): Promise<UploadedTopicWatch> {
    const kafka = testKafka('api-leftovers');
    return new UploadedTopicWatch(kafka, await endOffsets(kafka));
  }

  /** Every message value produced since the start (none when no end offset moved). */
  async messagesSinceStart(): Promise<Buffer[]> {
    const to = await endOffsets(this.#kafka);
    const ranges = [...to].filter(([partition, end]) => end > (this.#from.get(partition) ?? 0n));
    if (ranges.length === 0) return [];
    const consumer = this.#kafka.consumer({ groupId: `api-leftovers-${randomUUID()}` });
    const values: Buffer[] = [];
    const reached = new Map<number, bigint>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPICS.uploaded, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const offset = BigInt(message.offset);
          if (offset >= (this.#from.get(partition) ?? 0n) && offset < (to.get(partition) ?? 0n)) {
            values.push(message.value ?? Buffer.alloc(0));
          }
          reached.set(partition, offset + 1n);
        },
      });
      for (const [partition] of ranges) {
        consumer.seek({ topic: TOPICS.uploaded, partition, offset: String(this.#from.get(partition) ?? 0n) });
      }
      await waitFor(
        'images.uploaded read up to its end offsets',
        () => (ranges.every(([partition, end]) => (reached.get(partition) ?? 0n) >= end) ? true : undefined),
        30_000,
      );
    } finally {
      await consumer.disconnect();
    }
    return values;
  }

  /** The ImageUploaded events of this tenant produced since the start (its id is in the event's bytes). */
  async eventValuesOf(tenant: string): Promise<Buffer[]> {
    const needle = Buffer.from(tenant);
    return (await this.messagesSinceStart()).filter((value) => value.includes(needle));
  }

  async eventsOf(tenant: string): Promise<number> {
    return (await this.eventValuesOf(tenant)).length;
  }
}

/** What a tenant has in S3, on images.uploaded since `watch` started, and in PostgreSQL's images table. */
export async function tenantLeftovers(api: RunningApi, watch: UploadedTopicWatch, tenant: string) {
  return {
    s3: await tenantObjects(tenant),
    kafka: await watch.eventsOf(tenant),
    postgres: await tenantImageCount(api, tenant),
  };
}

export const NOTHING = { s3: [], kafka: 0, postgres: 0 };
