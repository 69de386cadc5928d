import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Consumer } from 'kafkajs';
import { ConsumerHealth } from './consumer-health.ts';

/** Just the instrumentation surface ConsumerHealth reads: kafkajs's event names and `on`. */
function instrumented(): { consumer: Consumer; emit(event: string, payload?: unknown): void } {
  const emitter = new EventEmitter();
  const events = {
    GROUP_JOIN: 'consumer.group_join',
    REBALANCING: 'consumer.rebalancing',
    CRASH: 'consumer.crash',
    STOP: 'consumer.stop',
    DISCONNECT: 'consumer.disconnect',
  };
  const consumer = { events, on: (name: string, listener: (event: unknown) => void) => emitter.on(name, listener) };
  return {
    consumer: consumer as unknown as Consumer,
    emit: (event, payload) => emitter.emit(event, { payload }),
  };
}

test('ready only while a group member; live unless crashed for good', () => {
  const { consumer, emit } = instrumented();
  const health = new ConsumerHealth();
  health.watch(consumer);
  assert.deepEqual([health.report().live, health.report().ready], [true, false], 'starting');
  emit('consumer.group_join');
  assert.deepEqual([health.report().live, health.report().ready, health.joins], [true, true, 1]);
  emit('consumer.rebalancing');
  assert.equal(health.report().ready, false, 'not ready while rebalancing');
  emit('consumer.group_join');
  assert.equal(health.joins, 2);
  emit('consumer.crash', { error: new Error('broker gone'), restart: true });
  assert.deepEqual([health.report().live, health.report().ready], [true, false], 'a crash kafkajs restarts from');
  emit('consumer.group_join');
  emit('consumer.crash', { error: new Error('fatal'), restart: false });
  assert.deepEqual([health.report().live, health.report().ready], [false, false], 'a crash for good');
  assert.equal(health.report().details['lastError'], 'fatal');
});

test('stopping is not ready, and stays so until the consumer has left', () => {
  const { consumer, emit } = instrumented();
  const health = new ConsumerHealth();
  health.watch(consumer);
  emit('consumer.group_join');
  health.stopping();
  assert.equal(health.report().ready, false);
  emit('consumer.stop');
  assert.equal(health.state, 'stopping');
  emit('consumer.disconnect');
  assert.equal(health.state, 'stopped');
  assert.equal(health.report().live, true);
});

test('readiness detail names the partitions of each topic the group gave this process at its last join', () => {
  const { consumer, emit } = instrumented();
  const health = new ConsumerHealth();
  health.watch(consumer);
  emit('consumer.group_join', { memberAssignment: { 'images.uploaded': [5, 1, 3] } });
  assert.deepEqual(health.report().details['partitions'], { 'images.uploaded': [1, 3, 5] });
  emit('consumer.group_join', { memberAssignment: { 'images.uploaded': [1], 'images.other': [0] } });
  assert.deepEqual(health.report().details['partitions'], { 'images.uploaded': [1], 'images.other': [0] });
});
