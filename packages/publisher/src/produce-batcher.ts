import type { Message, Producer } from 'kafkajs';

/** Messages per produce request at most; more wait for the next one. */
const MAX_BATCH = 500;

interface Waiting {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for produce: a message sent while a produce request is in flight waits for it and goes out with every
 * other message that arrived meanwhile, in one request (kafkajs sends each `send` as its own request, and an
 * idempotent producer has one request in flight per broker). Alone, a message goes at once: no linger timer, so a
 * quiet API adds no latency, and under load N concurrent uploads cost one round trip to the broker, not N.
 *
 * Every message is acknowledged by all in-sync replicas (acks=-1) before its promise resolves; if the request fails,
 * every message in it fails and nothing later is held back.
 */
export class ProduceBatcher {
  readonly #producer: Pick<Producer, 'sendBatch'>;
  #queue: Waiting[] = [];
  #sending = false;

  constructor(producer: Pick<Producer, 'sendBatch'>) {
    this.#producer = producer;
  }

  send(topic: string, message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ topic, message, resolve, reject });
      if (!this.#sending) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#sending = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        try {
          await this.#producer.sendBatch({ acks: -1, topicMessages: byTopic(batch) });
          for (const waiting of batch) waiting.resolve();
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
        }
      }
    } finally {
      this.#sending = false;
    }
  }
}

function byTopic(batch: readonly Waiting[]): { topic: string; messages: Message[] }[] {
  const topics = new Map<string, Message[]>();
  for (const { topic, message } of batch) {
    const messages = topics.get(topic) ?? [];
    messages.push(message);
    topics.set(topic, messages);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
