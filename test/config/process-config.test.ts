/**
 * Each process composes one configuration from the settings of the packages it wires and loads it once, at start-up:
 * two mistakes in two packages' variables are both reported, one line each, and the process exits 78 (EX_CONFIG)
 * before it connects to anything, so these tests need no services.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { loadApiConfig } from '../../apps/ingest-api/src/config.ts';
import { loadResultsConfig } from '../../apps/results/src/config.ts';
import { loadWorkerConfig } from '../../apps/worker/src/config.ts';
import { sharedPath } from '../support/shared.ts';

const IMGPIPE = fileURLToPath(new URL('../../apps/cli/bin/imgpipe.js', import.meta.url));

/** This process's environment without any imgpipe or OpenTelemetry variable, plus the given ones. */
function environment(variables: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('IMGPIPE_') && !name.startsWith('OTEL_')),
  );
  return { ...clean, ...variables };
}

function run(args: string[], variables: Record<string, string>) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [IMGPIPE, ...args],
      { env: environment(variables), timeout: 60_000 },
      (error, _stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    );
  });
}

/** The lines of a CONFIG_INVALID report that name one mistake each. */
function mistakes(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('  - '))
    .map((line) => line.slice(4));
}

const CASES: { name: string; args: string[]; variables: Record<string, string>; expected: string[] }[] = [
  {
    name: 'worker --stage detect: stream, storage and vision settings',
    args: ['run', 'worker', '--stage', 'detect'],
    variables: {
      IMGPIPE_CONCURRENCY: 'abc',
      IMGPIPE_S3_ENDPOINT: 'not-a-url',
      IMGPIPE_DETECT_SCORE_THRESHOLD: '2',
    },
    expected: [
      'IMGPIPE_CONCURRENCY must be a whole number (got "abc")',
      'IMGPIPE_DETECT_SCORE_THRESHOLD must be at most 1 (got 2)',
      'IMGPIPE_S3_ENDPOINT must be a URL such as http://host:port (got "not-a-url")',
    ],
  },
  {
    name: 'worker --stage aggregate: stream and telemetry settings',
    args: ['run', 'worker', '--stage', 'aggregate'],
    variables: { IMGPIPE_MAX_ATTEMPTS: '0', IMGPIPE_LOG_LEVEL: 'loud' },
    expected: [
      'IMGPIPE_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'IMGPIPE_MAX_ATTEMPTS must be at least 1 (got 0)',
    ],
  },
  {
    name: 'results: stream, results store and webhook settings',
    args: ['run', 'results'],
    variables: {
      IMGPIPE_CONCURRENCY: 'abc',
      IMGPIPE_SWEEP_INTERVAL_MS: 'soon',
      IMGPIPE_WEBHOOK_MAX_ATTEMPTS: '0',
      IMGPIPE_DATABASE_DIRECT_URL: 'not-a-url',
    },
    expected: [
      'IMGPIPE_CONCURRENCY must be a whole number (got "abc")',
      'IMGPIPE_DATABASE_DIRECT_URL must be a URL such as postgres://host:port (got "not-a-url")',
      'IMGPIPE_SWEEP_INTERVAL_MS must be a whole number (got "soon")',
      'IMGPIPE_WEBHOOK_MAX_ATTEMPTS must be at least 1 (got 0)',
    ],
  },
  {
    name: 'ingest-api: HTTP API, service endpoint and telemetry settings',
    args: ['run', 'ingest-api'],
    variables: {
      IMGPIPE_API_PORT: '99999',
      IMGPIPE_S3_ENDPOINT: 'not-a-url',
      IMGPIPE_LOG_LEVEL: 'loud',
      IMGPIPE_JWT_SECRET: 'too-short',
      IMGPIPE_DATABASE_READ_URL: 'http://replica:5432/imgpipe',
    },
    expected: [
      'IMGPIPE_API_PORT must be at most 65535 (got 99999)',
      'IMGPIPE_DATABASE_READ_URL must be a URL starting with postgres:// or postgresql:// (got "http://replica:5432/imgpipe")',
      'IMGPIPE_JWT_SECRET must be at least 32 characters (got 9)',
      'IMGPIPE_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'IMGPIPE_S3_ENDPOINT must be a URL such as http://host:port (got "not-a-url")',
    ],
  },
  {
    name: 'the CLI (produce): Kafka and storage settings',
    args: ['produce', sharedPath('images', 'photos', 'dog.jpg')],
    variables: { IMGPIPE_KAFKA_SSL: 'maybe', IMGPIPE_S3_ENDPOINT: 'ftp://s3' },
    expected: [
      'IMGPIPE_KAFKA_SSL must be true or false (got "maybe")',
      'IMGPIPE_S3_ENDPOINT must be a URL starting with http:// or https:// (got "ftp://s3")',
    ],
  },
];

describe('every mistake in a process configuration is reported at once, with exit 78', () => {
  for (const { name, args, variables, expected } of CASES) {
    test(name, async () => {
      const { code, stderr } = await run(args, variables);
      assert.equal(code, 78, stderr);
      assert.match(stderr, /CONFIG_INVALID/);
      assert.deepEqual(mistakes(stderr).sort(), expected, stderr);
    });
  }

  test('valid values of the same variables load, each into the group of the package that reads it', () => {
    const worker = loadWorkerConfig({
      IMGPIPE_CONCURRENCY: '3',
      IMGPIPE_S3_ENDPOINT: 'https://s3.example:9000',
      IMGPIPE_DETECT_SCORE_THRESHOLD: '0.5',
      IMGPIPE_LOG_LEVEL: 'warn',
    });
    assert.equal(worker.process.concurrency, 3);
    assert.equal(worker.process.logLevel, 'warn');
    assert.equal(worker.stages.storage.s3Endpoint, 'https://s3.example:9000');
    assert.equal(worker.stages.vision.detectScoreThreshold, 0.5);

    const results = loadResultsConfig({ IMGPIPE_SWEEP_INTERVAL_MS: '500', IMGPIPE_WEBHOOK_MAX_ATTEMPTS: '2' });
    assert.equal(results.results.sweepIntervalMs, 500);
    assert.equal(results.webhooks.maxAttempts, 2);
    assert.equal(results.process.concurrency, 2, 'the default');

    const api = loadApiConfig({
      IMGPIPE_API_PORT: '8081',
      IMGPIPE_LOG_LEVEL: 'error',
      IMGPIPE_EGRESS_ALLOW: '10.0.0.0/8',
    });
    assert.equal(api.api.port, 8081);
    assert.deepEqual(api.api.egressAllow, ['10.0.0.0/8']);
    assert.equal(api.telemetry.logLevel, 'error');
  });
});
