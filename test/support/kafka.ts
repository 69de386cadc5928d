import { randomUUID } from 'node:crypto';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { createKafka } from '@imgpipe/stream';
import { createLogger } from '@imgpipe/telemetry';
import type { Kafka } from 'kafkajs';

export const endpoints = loadConfig(serviceSettings);

export function testKafka(clientId = 'imgpipe-test'): Kafka {
  return createKafka({ connection: endpoints, clientId, logger: createLogger(clientId, 'error') });
}

/** A throwaway topic for one test; Kafka here refuses auto-creation, as production should. */
export async function createTestTopic(kafka: Kafka, prefix: string, partitions = 1): Promise<string> {
  const topic = `test.${prefix}.${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
