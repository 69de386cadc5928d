import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { kafkaConnectionSettings, loadConfig } from '@imgpipe/core';
import { kafkaConnectionConfig } from './kafka-client.ts';

const connection = (env: Record<string, string>) => loadConfig(kafkaConnectionSettings, env);

test('plain brokers by default', () => {
  assert.deepEqual(kafkaConnectionConfig(connection({ IMGPIPE_KAFKA_BROKERS: 'a:9092, b:9092' })), {
    brokers: ['a:9092', 'b:9092'],
    ssl: false,
  });
});

test('TLS with a CA file and SASL/SCRAM from the environment', () => {
  const ca = join(mkdtempSync(join(tmpdir(), 'imgpipe-ca-')), 'ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const config = kafkaConnectionConfig(
    connection({
      IMGPIPE_KAFKA_BROKERS: 'kafka:9093',
      IMGPIPE_KAFKA_SSL: 'true',
      IMGPIPE_KAFKA_CA_FILE: ca,
      IMGPIPE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      IMGPIPE_KAFKA_SASL_USERNAME: 'imgpipe',
      IMGPIPE_KAFKA_SASL_PASSWORD: 's3cret',
    }),
  );
  assert.deepEqual(config.sasl, { mechanism: 'scram-sha-512', username: 'imgpipe', password: 's3cret' });
  assert.match((config.ssl as { ca: string[] }).ca[0]!, /BEGIN CERTIFICATE/);
});

test('a SASL mechanism without credentials is refused at start-up', () => {
  assert.throws(() => kafkaConnectionConfig(connection({ IMGPIPE_KAFKA_SASL_MECHANISM: 'plain' })), {
    code: 'CONFIG_INVALID',
  });
  assert.throws(() => connection({ IMGPIPE_KAFKA_SASL_MECHANISM: 'gssapi' }), { code: 'CONFIG_INVALID' });
});
