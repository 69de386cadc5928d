import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Producer, ProducerBatch } from 'kafkajs';
import { ProduceBatcher } from './produce-batcher.ts';

/** A producer whose requests complete when the test says so, recording what each one carried. */
function controlledProducer() {
  const requests: { batch: ProducerBatch; settle: (error?: Error) => void }[] = [];
  const producer: Pick<Producer, 'sendBatch'> = {
    sendBatch: (batch) =>
      new Promise((resolve, reject) => {
        requests.push({ batch, settle: (error) => (error ? reject(error) : resolve([])) });
      }),
  };
  return { producer, requests };
}

const keysOf = (batch: ProducerBatch) =>
  (batch.topicMessages ?? []).flatMap((entry) => entry.messages.map((message) => `${entry.topic}:${message.key}`));

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('ProduceBatcher', () => {
  test('a lone message goes at once; those sent meanwhile go together in the next request, acks=-1', async () => {
    const { producer, requests } = controlledProducer();
    const batcher = new ProduceBatcher(producer);
    const settled: string[] = [];
    const first = batcher.send('a', { key: '1', value: 'x' }).then(() => settled.push('1'));
    await until(() => requests.length === 1);
    const rest = ['2', '3', '4'].map((key, index) =>
      batcher.send(index === 1 ? 'b' : 'a', { key, value: 'x' }).then(() => settled.push(key)),
    );
    assert.equal(requests.length, 1, 'nothing more is sent while a request is in flight');
    requests[0]!.settle();
    await first;
    await until(() => requests.length === 2);
    assert.deepEqual(keysOf(requests[0]!.batch), ['a:1']);
    assert.deepEqual(keysOf(requests[1]!.batch).sort(), ['a:2', 'a:4', 'b:3']);
    assert.equal(requests[1]!.batch.acks, -1);
    assert.deepEqual(settled, ['1'], 'a message resolves only when its own request is acknowledged');
    requests[1]!.settle();
    await Promise.all(rest);
    assert.deepEqual(settled.sort(), ['1', '2', '3', '4']);
  });

  test('a failed request fails its messages only; the next messages are still sent', async () => {
    const { producer, requests } = controlledProducer();
    const batcher = new ProduceBatcher(producer);
    const first = batcher.send('a', { key: '1', value: 'x' });
    await until(() => requests.length === 1);
    const second = batcher.send('a', { key: '2', value: 'x' });
    requests[0]!.settle(new Error('broker gone'));
    await assert.rejects(first, /broker gone/);
    await until(() => requests.length === 2);
    requests[1]!.settle();
    await second;
    const third = batcher.send('a', { key: '3', value: 'x' });
    await until(() => requests.length === 3);
    requests[2]!.settle();
    await third;
  });
});
