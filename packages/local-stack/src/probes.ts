import { connect } from 'node:net';
import { kafkaConnectionSettings, loadConfig } from '@imgpipe/core';
import { createKafka } from '@imgpipe/stream';
import { createLogger } from '@imgpipe/telemetry';
import type { HostPort } from './settings.ts';

/**
 * Readiness checks, each proving the service does its real job, not just that a port is open. Every probe resolves
 * true or throws with the reason; clients are closed before returning so a CLI run exits promptly.
 */

export function tcpOpen({ host, port }: HostPort, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function httpOk(url: string, timeoutMs = 2000): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, ...) is its cause.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`GET ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  await response.body?.cancel();
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return true;
}

/** A Kafka metadata request: the broker answers only once KRaft has elected its controller and it is registered. */
export async function kafkaMetadata(brokers: string, timeoutMs = 3000): Promise<boolean> {
  const admin = createKafka({
    connection: loadConfig(kafkaConnectionSettings, { IMGPIPE_KAFKA_BROKERS: brokers }),
    clientId: 'imgpipe-stack-probe',
    logger: createLogger('imgpipe-stack-probe', 'silent'),
    tuning: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, retry: { retries: 0 } },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('the cluster reports no brokers');
    return true;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export interface S3Access {
  readonly url: string;
  readonly region: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

export async function s3Client(access: S3Access, timeoutMs = 3000) {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint: access.url,
    region: access.region,
    forcePathStyle: true,
    credentials: { accessKeyId: access.accessKey, secretAccessKey: access.secretKey },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });
}

/** A SigV4-signed ListBuckets: proves the endpoint is S3 and accepts our credentials. */
export async function s3Signed(access: S3Access): Promise<boolean> {
  const { ListBucketsCommand } = await import('@aws-sdk/client-s3');
  const client = await s3Client(access);
  try {
    await client.send(new ListBucketsCommand({}));
    return true;
  } finally {
    client.destroy();
  }
}

/** Creates the bucket unless it exists. Returns whether it was created. */
export async function ensureBucket(access: S3Access, bucket: string): Promise<boolean> {
  const { CreateBucketCommand, HeadBucketCommand } = await import('@aws-sdk/client-s3');
  const client = await s3Client(access);
  try {
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
      return false;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404) throw error;
    }
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return true;
  } finally {
    client.destroy();
  }
}

/**
 * `select 1` within a deadline for the login and another for the query. The query's matters behind PgBouncer: while
 * the primary is away PgBouncer still logs the client in, then holds the query until it gets a server connection or
 * query_wait_timeout (120 s) passes, and a probe without a deadline waits that long (`stack up` after a stopped
 * primary did, before it started the primary).
 */
export async function pgQuery(url: string, timeoutMs = 3000): Promise<boolean> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  try {
    await client.connect();
    const result = await client.query<{ ok: number }>('select 1 as ok');
    if (result.rows[0]?.ok !== 1) throw new Error('select 1 did not return 1');
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function redisPing(url: string, timeoutMs = 2000): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const answer = await client.ping();
    if (answer !== 'PONG') throw new Error(`PING answered ${answer}`);
    return true;
  } finally {
    client.disconnect();
  }
}
