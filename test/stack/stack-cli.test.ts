import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig, kafkaConnectionSettings } from '@imgpipe/core';
import { createKafka } from '@imgpipe/stream';
import { createLogger } from '@imgpipe/telemetry';
import { config, eventually, runCli } from './support.ts';

interface StatusJson {
  ok: boolean;
  services: { name: string; up: boolean; endpoint: string; pid?: number; startedByImgpipe: boolean; rssKib?: number }[];
}

interface UpJson {
  ok: boolean;
  services: { name: string; state: string; endpoint: string; pid?: number }[];
}

const NAMES = ['kafka', 'schema-registry', 's3', 'postgres', 'redis', 'pgbouncer'];
/** The services listed, leaving out the optional replica (listed while one that `up` started runs). */
const required = (services: readonly { name: string }[]) =>
  services.map((service) => service.name).filter((name) => name !== 'pg-replica');

async function status(env?: NodeJS.ProcessEnv): Promise<{ code: number; json: StatusJson }> {
  const run = await runCli(['stack', 'status', '--json'], env);
  return { code: run.code, json: JSON.parse(run.stdout) as StatusJson };
}

async function stackUp(env?: NodeJS.ProcessEnv): Promise<UpJson> {
  const run = await runCli(['stack', 'up', '--json'], env);
  assert.equal(run.code, 0, `stack up failed:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(run.stdout) as UpJson;
}

/** Local ports nothing listens on: bind ephemeral ones (all at once, so they differ), then release them. */
async function closedPorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (server) =>
        new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            resolve(typeof address === 'object' && address ? address.port : 0);
          });
        }),
    ),
  );
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

describe('imgpipe stack (the CLI against the running local stack)', () => {
  test('stack up is idempotent: a second run starts nothing', async () => {
    await stackUp();
    const second = await stackUp();
    assert.equal(second.ok, true);
    assert.deepEqual(required(second.services), NAMES);
    for (const service of second.services) {
      assert.ok(['running', 'external'].includes(service.state), `${service.name} was ${service.state}`);
    }
  });

  test('status --json reports every service up with its endpoint', async () => {
    const { code, json } = await status();
    assert.equal(code, 0);
    assert.equal(json.ok, true);
    const byName = new Map(json.services.map((service) => [service.name, service]));
    assert.deepEqual(required(json.services), NAMES);
    for (const service of json.services) assert.equal(service.up, true, `${service.name} is down`);
    assert.equal(byName.get('kafka')?.endpoint, config.kafkaBrokers.split(',')[0]);
    assert.equal(byName.get('schema-registry')?.endpoint, config.schemaRegistryUrl);
    assert.equal(byName.get('s3')?.endpoint, config.s3Endpoint);
    assert.match(byName.get('postgres')?.endpoint ?? '', /^postgres:\/\/[^:@]+@127\.0\.0\.1:\d+\/\w+$/);
    assert.equal(byName.get('redis')?.endpoint, config.redisUrl);
    assert.match(byName.get('pgbouncer')?.endpoint ?? '', /^postgres:\/\/[^:@]+@127\.0\.0\.1:\d+\/\w+$/);
    const kafka = byName.get('kafka');
    assert.ok(kafka?.pid !== undefined && kafka.rssKib !== undefined && kafka.rssKib > 0, 'kafka pid and rss');
  });

  test('status exits non-zero and names the service when one is down', async () => {
    const [port] = await closedPorts(1);
    const { code, json } = await status({ ...process.env, IMGPIPE_REDIS_URL: `redis://127.0.0.1:${port}/0` });
    assert.equal(code, 1);
    assert.equal(json.ok, false);
    const redis = json.services.find((service) => service.name === 'redis');
    assert.equal(redis?.up, false);
    assert.equal(redis?.endpoint, `redis://127.0.0.1:${port}/0`);
  });

  test('a broker killed with SIGKILL comes back on stack up with its topics and messages; down stops it', async () => {
    // A broker of its own (own ports, own stack folder) so the shared one stays up for everything else; the other
    // services are the running ones, which this throwaway stack finds up and leaves alone.
    const [brokerPort, controllerPort] = await closedPorts(2);
    const stackDir = await mkdtemp(join(tmpdir(), 'imgpipe-stack-test-'));
    const brokers = `127.0.0.1:${brokerPort}`;
    const env = {
      ...process.env,
      IMGPIPE_STACK_DIR: stackDir,
      IMGPIPE_KAFKA_BROKERS: brokers,
      IMGPIPE_KAFKA_CONTROLLER_PORT: String(controllerPort),
    };
    const kafkaOf = <T extends { name: string }>(services: readonly T[]) =>
      services.find((service) => service.name === 'kafka');
    // Through createKafka, as every imgpipe client is made (its kafkajs request-queue mend included).
    const kafka = createKafka({
      connection: loadConfig(kafkaConnectionSettings, { ...process.env, IMGPIPE_KAFKA_BROKERS: brokers }),
      clientId: 'imgpipe-stack-restart-test',
      logger: createLogger('imgpipe-stack-restart-test', 'silent'),
    });
    const topic = `imgpipe.test.restart-${randomUUID()}`;
    try {
      const first = await stackUp(env);
      assert.equal(kafkaOf(first.services)?.state, 'started');
      for (const service of first.services.filter((s) => s.name !== 'kafka')) {
        assert.ok(['running', 'external'].includes(service.state), `${service.name} was ${service.state}`);
      }

      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2, replicationFactor: 1 }] });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      const sent = ['a', 'b', 'c'].map((key) => ({ key, value: `before the crash ${key}` }));
      await producer.send({ topic, acks: -1, messages: sent });
      await producer.disconnect();

      const before = kafkaOf((await status(env)).json.services);
      assert.ok(before?.startedByImgpipe && before.pid !== undefined, 'the broker is one that stack up started');
      process.kill(before.pid, 'SIGKILL');
      await eventually(async () => kafkaOf((await status(env)).json.services)?.up === false, 'the broker to go down');

      const again = kafkaOf((await stackUp(env)).services);
      assert.equal(again?.state, 'started');
      assert.notEqual(again?.pid, before.pid);

      const adminAfter = kafka.admin();
      await adminAfter.connect();
      assert.ok((await adminAfter.listTopics()).includes(topic), 'the topic survived the crash');
      await adminAfter.disconnect();
      const consumer = kafka.consumer({ groupId: `imgpipe.test.restart-${randomUUID()}` });
      const received: { key: string; value: string }[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            received.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
          },
        });
        await eventually(() => received.length >= sent.length, 'the messages written before the crash');
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual(
        received.sort((a, b) => a.key.localeCompare(b.key)),
        sent,
      );
    } finally {
      const down = await runCli(['stack', 'down', '--json'], env);
      await rm(stackDir, { recursive: true, force: true });
      assert.equal(down.code, 0, down.stderr);
      const outcomes = (JSON.parse(down.stdout) as { services: { name: string; outcome: string }[] }).services;
      assert.deepEqual(
        outcomes.map((outcome) => [outcome.name, outcome.outcome]),
        [
          ['kafka', 'stopped'],
          ['schema-registry', 'not-ours'],
          ['s3', 'not-ours'],
          ['postgres', 'not-ours'],
          ['redis', 'not-ours'],
          ['pgbouncer', 'not-ours'],
        ],
      );
    }
    const afterDown = await status(env);
    assert.equal(afterDown.code, 1);
    assert.equal(kafkaOf(afterDown.json.services)?.up, false);
    assert.ok(
      afterDown.json.services.filter((s) => s.name !== 'kafka').every((s) => s.up),
      'the rest stays up',
    );
  });
});
