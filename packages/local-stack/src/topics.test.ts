import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMissing, retentionFor, topicSpecs } from './topics.ts';

test('pipeline topics keep 7 days, dead-letter topics 30 days, all with the asked partition count', () => {
  const specs = topicSpecs(['images.uploaded', 'imgpipe.ocr.dlq'], 6);
  assert.deepEqual(specs, [
    { name: 'images.uploaded', partitions: 6, retentionMs: 7 * 86_400_000 },
    { name: 'imgpipe.ocr.dlq', partitions: 6, retentionMs: 30 * 86_400_000 },
  ]);
  assert.equal(retentionFor('images.analyzed'), 604_800_000);
});

/** An admin client whose calls answer from a script: each entry an answer or an error to throw. */
function scriptedAdmin(script: {
  listTopics: (string[] | Error)[];
  createTopics: (true | Error)[];
  metadata: Error[];
}) {
  const calls = { listTopics: 0, createTopics: [] as string[][], fetchTopicMetadata: 0 };
  const topics = new Set<string>();
  const next = <T>(queue: (T | Error)[], fallback: () => T): T => {
    const answer = queue.shift();
    if (answer instanceof Error) throw answer;
    return answer ?? fallback();
  };
  const admin = {
    async listTopics() {
      calls.listTopics += 1;
      for (const name of next(script.listTopics, () => [])) topics.add(name);
      return [...topics];
    },
    async createTopics(request: { topics: { topic: string; numPartitions?: number }[] }) {
      calls.createTopics.push(request.topics.map((t) => t.topic));
      next(script.createTopics, () => true);
      for (const t of request.topics) topics.add(t.topic);
      return true;
    },
    async fetchTopicMetadata(request: { topics: string[] }) {
      calls.fetchTopicMetadata += 1;
      const error = script.metadata.shift();
      if (error) throw error;
      return { topics: request.topics.map((name) => ({ name, partitions: [{}, {}, {}] })) };
    },
  };
  return { admin, calls };
}

const kafkaError = (type: string, retriable: boolean) => Object.assign(new Error(type), { type, retriable });

test('a broker still settling: retriable answers are retried until the topics exist, none created twice', async () => {
  const { admin, calls } = scriptedAdmin({
    listTopics: [[]],
    createTopics: [kafkaError('UNKNOWN_TOPIC_OR_PARTITION', true)],
    metadata: [kafkaError('LEADER_NOT_AVAILABLE', true)],
  });
  const outcomes = await createMissing(admin as never, topicSpecs(['a', 'b'], 3), 1, { pauseMs: 1 });
  assert.deepEqual(
    outcomes.map((o) => [o.name, o.state, o.actualPartitions]),
    [
      ['a', 'created', 3],
      ['b', 'created', 3],
    ],
  );
  // First attempt: create refused (the scripted error, topics not made); second: created; third: metadata answers.
  assert.deepEqual(calls.createTopics, [
    ['a', 'b'],
    ['a', 'b'],
  ]);
  assert.equal(calls.fetchTopicMetadata, 2);
});

test('a topic an earlier attempt created is not created again; a refusal that is not retriable is thrown', async () => {
  const { admin, calls } = scriptedAdmin({ listTopics: [['a']], createTopics: [], metadata: [kafkaError('X', true)] });
  const outcomes = await createMissing(admin as never, topicSpecs(['a', 'b'], 3), 1, { pauseMs: 1 });
  assert.deepEqual(
    outcomes.map((o) => o.state),
    ['exists', 'created'],
  );
  assert.deepEqual(calls.createTopics, [['b']], 'the retry lists b as present and creates nothing');
  const refused = scriptedAdmin({
    listTopics: [[]],
    createTopics: [kafkaError('INVALID_REPLICATION_FACTOR', false)],
    metadata: [],
  });
  await assert.rejects(createMissing(refused.admin as never, topicSpecs(['a'], 3), 1, { pauseMs: 1 }), {
    message: 'INVALID_REPLICATION_FACTOR',
  });
  assert.equal(refused.calls.createTopics.length, 1);
});

test('retriable answers past the deadline are thrown', async () => {
  const { admin } = scriptedAdmin({
    listTopics: [[]],
    createTopics: Array.from({ length: 50 }, () => kafkaError('LEADER_NOT_AVAILABLE', true)),
    metadata: [],
  });
  await assert.rejects(createMissing(admin as never, topicSpecs(['a'], 3), 1, { deadlineMs: 20, pauseMs: 5 }), {
    message: 'LEADER_NOT_AVAILABLE',
  });
});
