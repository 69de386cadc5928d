import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { config, eventually, runCli } from './support.ts';

interface StatusJson {
  ok: boolean;
  services: { name: string; up: boolean; endpoint: string; pid?: number; startedByImgpipe: boolean; rssKib?: number }[];
}

interface UpJson {
  ok: boolean;
  services: { name: string; state: string; endpoint: string; pid?: number }[];
}

const NAMES = ['kafka', 'schema-registry', 's3', 'postgres', 'redis'];

async function status(env?: NodeJS.ProcessEnv): Promise<{ code: number; json: StatusJson }> {
  const run = await runCli(['stack', 'status', '--json'], env);
  return { code: run.code, json: JSON.parse(run.stdout) as StatusJson };
}

async function stackUp(): Promise<UpJson> {
  const run = await runCli(['stack', 'up', '--json']);
  assert.equal(run.code, 0, `stack up failed:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(run.stdout) as UpJson;
}

/** A local port nothing listens on: bind an ephemeral one, then release it. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('imgpipe stack (the CLI against the running local stack)', () => {
  test('stack up is idempotent: a second run starts nothing', async () => {
    await stackUp();
    const second = await stackUp();
    assert.equal(second.ok, true);
    assert.deepEqual(
      second.services.map((service) => service.name),
      NAMES,
    );
    for (const service of second.services) {
      assert.ok(['running', 'external'].includes(service.state), `${service.name} was ${service.state}`);
    }
  });

  test('status --json reports all five services up with their endpoints', async () => {
    const { code, json } = await status();
    assert.equal(code, 0);
    assert.equal(json.ok, true);
    const byName = new Map(json.services.map((service) => [service.name, service]));
    assert.deepEqual([...byName.keys()], NAMES);
    for (const service of json.services) assert.equal(service.up, true, `${service.name} is down`);
    assert.equal(byName.get('kafka')?.endpoint, config.kafkaBrokers.split(',')[0]);
    assert.equal(byName.get('schema-registry')?.endpoint, config.schemaRegistryUrl);
    assert.equal(byName.get('s3')?.endpoint, config.s3Endpoint);
    assert.match(byName.get('postgres')?.endpoint ?? '', /^postgres:\/\/[^:@]+@127\.0\.0\.1:\d+\/\w+$/);
    assert.equal(byName.get('redis')?.endpoint, config.redisUrl);
    const kafka = byName.get('kafka');
    assert.ok(kafka?.pid !== undefined && kafka.rssKib !== undefined && kafka.rssKib > 0, 'kafka pid and rss');
  });

  test('status exits non-zero and names the service when one is down', async () => {
    const port = await closedPort();
    const { code, json } = await status({ ...process.env, IMGPIPE_REDIS_URL: `redis://127.0.0.1:${port}/0` });
    assert.equal(code, 1);
    assert.equal(json.ok, false);
    const redis = json.services.find((service) => service.name === 'redis');
    assert.equal(redis?.up, false);
    assert.equal(redis?.endpoint, `redis://127.0.0.1:${port}/0`);
  });

  test('a broker killed with SIGKILL comes back on stack up with its topics and messages', async () => {
    const kafka = new Kafka({
      clientId: 'imgpipe-stack-restart-test',
      brokers: config.kafkaBrokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const topic = `imgpipe.test.restart-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2, replicationFactor: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    const sent = ['a', 'b', 'c'].map((key) => ({ key, value: `before the crash ${key}` }));
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();
    await admin.disconnect();

    const before = (await status()).json.services.find((service) => service.name === 'kafka');
    assert.ok(before?.startedByImgpipe, 'the broker must be one that imgpipe stack up started');
    const pid = before.pid!;
    process.kill(pid, 'SIGKILL');
    await eventually(
      async () => (await status()).json.services.find((s) => s.name === 'kafka')?.up === false,
      'the broker to go down',
    );

    const upAgain = await stackUp();
    const kafkaUp = upAgain.services.find((service) => service.name === 'kafka');
    assert.equal(kafkaUp?.state, 'started');
    assert.notEqual(kafkaUp?.pid, pid);

    const adminAfter = kafka.admin();
    await adminAfter.connect();
    const consumer = kafka.consumer({ groupId: `imgpipe.test.restart-${randomUUID()}` });
    try {
      assert.ok((await adminAfter.listTopics()).includes(topic), 'the topic survived the crash');
      const received: { key: string; value: string }[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          received.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
        },
      });
      await eventually(() => received.length >= sent.length, 'the messages written before the crash');
      assert.deepEqual(
        received.sort((a, b) => a.key.localeCompare(b.key)),
        sent,
      );
    } finally {
      await consumer.disconnect();
      await adminAfter.deleteTopics({ topics: [topic] }).catch(() => {});
      await adminAfter.disconnect();
    }
  });
});
