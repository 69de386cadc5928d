import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { resolveStackLayout } from './settings.ts';

describe('resolveStackLayout', () => {
  test('the defaults are the local stack on 127.0.0.1', () => {
    const layout = resolveStackLayout({ IMGPIPE_STACK_DIR: '/tmp/stack', IMGPIPE_CACHE: '/tmp/cache' });
    assert.equal(layout.stackDir, '/tmp/stack');
    assert.equal(layout.logsDir, '/tmp/stack/logs');
    assert.deepEqual(
      [layout.kafka.port, layout.kafka.controllerPort, layout.registry.port, layout.s3.port, layout.redis.port],
      [9092, 9093, 8081, 9000, 6379],
    );
    assert.equal(layout.kafka.version, '4.1.2');
    assert.deepEqual(
      [layout.postgres.port, layout.postgres.user, layout.postgres.password, layout.postgres.database],
      [5432, 'imgpipe', 'imgpipe', 'imgpipe'],
    );
  });

  test('ports follow the service variables; the controller sits next to the broker', () => {
    const layout = resolveStackLayout({
      IMGPIPE_KAFKA_BROKERS: 'localhost:19092,localhost:19094',
      IMGPIPE_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081/apis/ccompat/v7/',
      IMGPIPE_REDIS_URL: 'redis://:pa%3Ass@127.0.0.1:16379/2',
    });
    assert.equal(layout.kafka.port, 19092);
    assert.equal(layout.kafka.controllerPort, 19093);
    assert.equal(layout.registry.url, 'http://127.0.0.1:18081/apis/ccompat/v7');
    assert.equal(layout.redis.port, 16379);
    assert.equal(layout.redis.password, 'pa:ss');
  });

  test('a remote host or a malformed value is a configuration error naming the variable', () => {
    const expectConfigError = (env: Record<string, string>, variable: string) =>
      assert.throws(
        () => resolveStackLayout(env),
        (error: unknown) =>
          error instanceof ImgpipeError && error.code === 'CONFIG_INVALID' && error.message.includes(variable),
      );
    expectConfigError({ IMGPIPE_KAFKA_BROKERS: 'kafka.example.com:9092' }, 'IMGPIPE_KAFKA_BROKERS');
    expectConfigError({ IMGPIPE_KAFKA_BROKERS: '127.0.0.1' }, 'IMGPIPE_KAFKA_BROKERS');
    expectConfigError({ IMGPIPE_KAFKA_VERSION: 'latest' }, 'IMGPIPE_KAFKA_VERSION');
    expectConfigError({ IMGPIPE_DATABASE_URL: 'postgres://127.0.0.1:5432' }, 'IMGPIPE_DATABASE_URL');
    expectConfigError({ IMGPIPE_S3_ENDPOINT: 'not a url' }, 'IMGPIPE_S3_ENDPOINT');
    expectConfigError({ IMGPIPE_PGBOUNCER_PORT: '5432' }, 'IMGPIPE_PGBOUNCER_PORT');
    expectConfigError({ IMGPIPE_PG_REPLICA_PORT: '5432' }, 'IMGPIPE_PG_REPLICA_PORT');
  });

  test("PgBouncer and the replica serve the primary's database and role on ports of their own", () => {
    const layout = resolveStackLayout({ IMGPIPE_DATABASE_URL: 'postgres://app:s%40cret@localhost:15432/pix' });
    assert.equal(layout.pgbouncer.url, 'postgres://app:s%40cret@127.0.0.1:6432/pix');
    assert.equal(layout.pgbouncer.adminUrl, 'postgres://app:s%40cret@127.0.0.1:6432/pgbouncer');
    assert.equal(layout.replica.url, 'postgres://app:s%40cret@127.0.0.1:5433/pix');
    assert.equal(layout.replica.enabled, false);
    const asked = resolveStackLayout({ IMGPIPE_STACK_REPLICA: 'true', IMGPIPE_PG_REPLICA_PORT: '25433' });
    assert.equal(asked.replica.enabled, true);
    assert.equal(asked.replica.port, 25433);
  });
});
