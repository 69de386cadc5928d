import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveStackLayout } from '../settings.ts';
import { newClusterId, serverProperties } from './kafka.ts';

function parse(properties: string): Map<string, string> {
  return new Map(
    properties
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('kafka server.properties', () => {
  test('a single-node KRaft cluster with every replication factor at 1', () => {
    const layout = resolveStackLayout({ IMGPIPE_KAFKA_BROKERS: '127.0.0.1:19092', IMGPIPE_TOPIC_PARTITIONS: '4' });
    const settings = parse(serverProperties(layout, '/data/kafka'));
    assert.equal(settings.get('process.roles'), 'broker,controller');
    assert.equal(settings.get('controller.quorum.voters'), '1@127.0.0.1:19093');
    assert.equal(settings.get('listeners'), 'PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    assert.equal(settings.get('log.dirs'), '/data/kafka');
    assert.equal(settings.get('auto.create.topics.enable'), 'false');
    assert.equal(settings.get('num.partitions'), '4');
    for (const key of [
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
      'transaction.state.log.min.isr',
      'offsets.topic.num.partitions',
    ]) {
      assert.equal(settings.get(key), '1', key);
    }
    assert.equal(settings.get('group.initial.rebalance.delay.ms'), '0');
  });

  test('Kafka 3.9 gets no 4.x-only share coordinator settings', () => {
    const v4 = parse(serverProperties(resolveStackLayout({}), '/d'));
    const v3 = parse(serverProperties(resolveStackLayout({ IMGPIPE_KAFKA_VERSION: '3.9.1' }), '/d'));
    assert.equal(v4.get('share.coordinator.state.topic.replication.factor'), '1');
    assert.equal(v3.has('share.coordinator.state.topic.replication.factor'), false);
  });

  test('cluster ids are 22 URL-safe base64 characters, never starting with a dash', () => {
    for (let i = 0; i < 200; i++) assert.match(newClusterId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
