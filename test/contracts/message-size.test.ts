/**
 * The inline-image limit against a real broker with Kafka's default size limits (what `imgpipe topics create` and
 * most clusters have): the largest ImageUploaded a producer may send, and the DeadLetter that copies it, both fit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  composeWireMessage,
  EventCodec,
  exampleEvents,
  INLINE_IMAGE_MAX_BYTES,
  loadEventSchemas,
} from '@imgpipe/contracts';
import type { Kafka, Producer } from 'kafkajs';
import { createTestTopic, testKafka } from '../support/kafka.ts';
import { registryUrl } from './registry-fixtures.ts';

describe('message sizes on a broker with default limits', () => {
  const codec = new EventCodec({ registryUrl });
  let kafka: Kafka;
  let producer: Producer;
  let topic: string;

  before(async () => {
    kafka = testKafka('imgpipe-test-message-size');
    topic = await createTestTopic(kafka, 'message-size');
    producer = kafka.producer();
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).finally(() => admin.disconnect());
  });

  const largestUpload = () => ({
    ...exampleEvents().ImageUploaded,
    blob: undefined,
    inline: Buffer.alloc(INLINE_IMAGE_MAX_BYTES, 0xab),
    size: INLINE_IMAGE_MAX_BYTES,
  });

  test('the largest inline ImageUploaded, and a DeadLetter carrying it, are accepted', async () => {
    const upload = largestUpload();
    const value = await codec.encode('ImageUploaded', upload);
    const traceparent = Buffer.from('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    await producer.send({ topic, acks: -1, messages: [{ key: upload.imageId, value, headers: { traceparent } }] });

    const letter = await codec.encode('DeadLetter', {
      imageId: upload.imageId,
      tenantId: upload.tenantId,
      sourceTopic: 'images.uploaded',
      partition: 0,
      offset: 12,
      key: Buffer.from(upload.imageId),
      value,
      headers: [{ key: 'traceparent', value: traceparent }],
      stage: 'preprocess',
      errorCode: 'IMAGE_CORRUPT',
      errorMessage: 'the image could not be decoded: unexpected end of JPEG data after 1000000 bytes',
      retriable: false,
      attempt: 1,
      failedAt: Date.now(),
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    await producer.send({ topic, acks: -1, messages: [{ key: upload.imageId, value: letter }] });
  });

  test('a 1 MiB inline image would not fit, which is why the limit is 1,000,000 bytes', async () => {
    await assert.rejects(codec.encode('ImageUploaded', { ...largestUpload(), inline: Buffer.alloc(1024 * 1024) }), {
      code: 'IMAGE_TOO_LARGE',
    });
    const body = loadEventSchemas().ImageUploaded.type.toBuffer({
      ...largestUpload(),
      inline: Buffer.alloc(1024 * 1024),
    });
    await assert.rejects(
      producer.send({ topic, acks: -1, messages: [{ key: 'k', value: composeWireMessage(1, body) }] }),
      /larger than the max message size/,
    );
  });
});
