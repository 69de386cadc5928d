/**
 * docker-compose.yml, checked without a Docker engine: the machines here have the docker client but neither an
 * engine nor the compose plugin (`docker compose version` fails), so the file is parsed (YAML merge keys resolved
 * as compose does) and held to the rules `docker compose config` and a first `up` would enforce, plus the
 * project's own: the native stack's host ports and variable names, one service per stage, and observability
 * configs that point at real services and real metric names.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { WORKER_STAGES } from '@imgpipe/contracts';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { parse } from 'yaml';
import { REPO_ROOT } from './manifests.ts';

interface Healthcheck {
  test?: string[] | string;
  disable?: boolean;
}
interface ComposeService {
  image?: string;
  build?: { context: string } | string;
  command?: string[] | string;
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  profiles?: string[];
  volumes?: string[];
}

const compose = parse(readFileSync(`${REPO_ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;

/** Services whose image has no shell or client to probe with; each says why. */
const NO_HEALTHCHECK: Record<string, string> = {
  'otel-collector': 'distroless image: nothing inside can run a check; dependents wait on service_started',
};
/** The native stack's host ports (`imgpipe stack up`), which compose must keep. */
const HOST_PORTS: Record<string, number> = {
  kafka: 9092,
  'schema-registry': 8081,
  s3: 9000,
  postgres: 5432,
  pgbouncer: 6432,
  'postgres-replica': 5433,
  redis: 6379,
  'ingest-api': 8080,
};
const METRICS = [
  'imgpipe_messages_processed_total',
  'imgpipe_messages_failed_total',
  'imgpipe_messages_dead_lettered_total',
  'imgpipe_processing_duration_seconds',
  'imgpipe_in_flight_messages',
  'imgpipe_consumer_lag',
  'imgpipe_model_inference_duration_seconds',
  'imgpipe_http_request_duration_seconds',
];

const hasHealthcheck = (service: ComposeService | undefined) =>
  service?.healthcheck !== undefined && service.healthcheck.disable !== true && service.healthcheck.test !== undefined;
const hostPort = (mapping: string) => Number(mapping.split(':').at(-2));
const apps = Object.entries(services).filter(([, s]) => s.image === 'imgpipe:local');

describe('docker-compose.yml', () => {
  test('every service has a pinned image or a build, and a health check unless it is one-shot or exempt', () => {
    for (const [name, service] of Object.entries(services)) {
      assert.ok(service.image || service.build, `${name}: image or build`);
      if (service.image && !service.build) {
        assert.match(service.image, /^[\w./-]+:[\w.-]+$/, `${name}: image has a tag`);
        assert.doesNotMatch(service.image, /:latest$/, `${name}: image pinned, not latest`);
      }
      if (service.build) {
        const context = typeof service.build === 'string' ? service.build : service.build.context;
        assert.ok(existsSync(`${REPO_ROOT}${context}/Dockerfile`), `${name}: build context has a Dockerfile`);
      }
      const oneShot = service.restart === 'no';
      if (oneShot || name in NO_HEALTHCHECK) continue;
      assert.ok(hasHealthcheck(service), `${name}: health check`);
    }
  });

  test('every depends_on target exists and supports its condition', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        const dependency = services[target];
        assert.ok(dependency, `${name} depends on unknown service ${target}`);
        if (condition === 'service_healthy')
          assert.ok(hasHealthcheck(dependency), `${name} -> ${target}: healthy needs a check`);
        else if (condition === 'service_completed_successfully') {
          assert.equal(dependency.restart, 'no', `${name} -> ${target}: a completed dependency must be one-shot`);
        } else assert.equal(condition, 'service_started', `${name} -> ${target}: known condition`);
        if (dependency.profiles) {
          assert.ok(
            dependency.profiles.every((p) => service.profiles?.includes(p)),
            `${name} -> ${target}: the dependency's profile is active whenever ${name} is`,
          );
        }
      }
    }
  });

  test('the native stack host ports, each published once', () => {
    for (const [name, port] of Object.entries(HOST_PORTS)) {
      assert.ok(
        services[name]?.ports?.some((p) => hostPort(p) === port),
        `${name} published on ${port}`,
      );
    }
    const published = Object.values(services).flatMap((s) => (s.ports ?? []).map(hostPort));
    assert.equal(new Set(published).size, published.length, `no host port twice: ${published}`);
  });

  test('one worker per stage, the results service and the API, all gated on the init job', () => {
    const commands = apps.map(([, s]) => (Array.isArray(s.command) ? s.command.join(' ') : s.command));
    for (const stage of WORKER_STAGES)
      assert.ok(commands.includes(`run worker --stage ${stage}`), `worker for ${stage}`);
    assert.ok(commands.includes('run results'));
    assert.ok(commands.includes('run ingest-api'));
    const init = services['init'];
    assert.ok(init?.command && String(init.command).includes('migrate'), 'init migrates');
    for (const step of ['topics create', 'schemas register']) assert.ok(String(init.command).includes(step), step);
    for (const [name, service] of apps) {
      if (name === 'init') continue;
      assert.equal(service.depends_on?.['init']?.condition, 'service_completed_successfully', `${name} waits for init`);
    }
  });

  test('the apps get every endpoint variable, with values the config loader accepts', () => {
    for (const [name, service] of apps) {
      const env = service.environment ?? {};
      for (const setting of Object.values(serviceSettings)) {
        const optional = setting.parse(undefined) === undefined;
        if (!optional) assert.ok(setting.variable in env, `${name}: ${setting.variable}`);
      }
      assert.doesNotThrow(() => loadConfig(serviceSettings, env), `${name}: loadConfig accepts the environment`);
      assert.equal(env['OTEL_EXPORTER_OTLP_ENDPOINT'], 'http://otel-collector:4318');
      assert.ok(env['IMGPIPE_KAFKA_BROKERS']?.startsWith('kafka:'), `${name}: the in-network listener`);
    }
  });

  test('the apps write through PgBouncer in transaction pooling, migrate on the primary, search on the replica', () => {
    const host = (url: string | undefined) => (url ? `${new URL(url).hostname}:${new URL(url).port}` : undefined);
    for (const [name, service] of apps) {
      const env = service.environment ?? {};
      assert.equal(host(env['IMGPIPE_DATABASE_URL']), 'pgbouncer:6432', `${name}: writes through PgBouncer`);
      assert.equal(host(env['IMGPIPE_DATABASE_DIRECT_URL']), 'postgres:5432', `${name}: migrations on the primary`);
      assert.equal(host(env['IMGPIPE_DATABASE_READ_URL']), 'postgres-replica:5432', `${name}: searches on the replica`);
      if (name === 'init') continue;
      for (const dependency of ['pgbouncer', 'postgres-replica']) {
        assert.equal(service.depends_on?.[dependency]?.condition, 'service_healthy', `${name} waits for ${dependency}`);
      }
    }
    const ini = readFileSync(`${REPO_ROOT}infra/postgres/pgbouncer.ini`, 'utf8');
    const setting = (key: string) => new RegExp(`^${key}\\s*=\\s*(.+)$`, 'm').exec(ini)?.[1]?.trim();
    assert.equal(setting('pool_mode'), 'transaction');
    assert.equal(setting('listen_port'), '6432');
    assert.equal(setting('imgpipe'), 'host=postgres port=5432 dbname=imgpipe', 'the pool points at the primary');
    assert.ok(
      services['pgbouncer']?.volumes?.some((volume) => volume.endsWith(':/etc/pgbouncer/pgbouncer.ini:ro')),
      'the ini is mounted where the image reads it',
    );
    const replica = services['postgres-replica'];
    assert.match(String(replica?.command), /pg_basebackup -h postgres .*--write-recovery-conf/);
    assert.ok(
      services['postgres']?.volumes?.some((volume) => volume.includes('/docker-entrypoint-initdb.d/')),
      'the primary lets the replica stream',
    );
  });

  test('mounted config files exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('./infra/')) assert.ok(existsSync(`${REPO_ROOT}${source}`), `${name}: ${source}`);
      }
    }
  });
});

describe('observability configs', () => {
  const dir = `${REPO_ROOT}infra/observability/`;

  test('Prometheus scrapes every app at the port it serves metrics on', () => {
    const config = parse(readFileSync(`${dir}prometheus.yml`, 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = config.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    for (const [name] of apps) {
      if (name === 'init') continue;
      const port = name === 'ingest-api' ? 8080 : 9464;
      assert.ok(targets.includes(`${name}:${port}`), `Prometheus scrapes ${name}:${port}`);
    }
    for (const target of targets) {
      const host = target.split(':')[0] ?? '';
      assert.ok(host === '127.0.0.1' || host in services, `scrape target ${target} is a compose service`);
    }
  });

  test('the collector pipeline uses only components it defines, and exports to Jaeger', () => {
    const config = parse(readFileSync(`${dir}otel-collector.yaml`, 'utf8')) as {
      receivers: object;
      processors: object;
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
    };
    for (const [name, pipeline] of Object.entries(config.service.pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        for (const id of pipeline[kind]) assert.ok(id in config[kind], `${name}: ${kind} ${id} defined`);
      }
    }
    assert.ok(Object.values(config.exporters).some((e) => e.endpoint.startsWith('jaeger:')));
  });

  test('the Grafana dashboard queries only imgpipe metrics that exist, through the provisioned datasource', () => {
    const datasources = parse(readFileSync(`${dir}grafana/provisioning/datasources/datasources.yaml`, 'utf8')) as {
      datasources: { uid: string }[];
    };
    const uids = new Set(datasources.datasources.map((d) => d.uid));
    const dashboard = JSON.parse(readFileSync(`${dir}grafana/dashboards/imgpipe-pipeline.json`, 'utf8')) as {
      panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
    };
    const known = new Set(METRICS.flatMap((m) => [m, `${m}_bucket`, `${m}_count`, `${m}_sum`]));
    const wanted = ['Throughput', 'latency p50 / p95', 'Errors', 'Dead-lettered', 'lag', 'In-flight'];
    for (const title of wanted)
      assert.ok(
        dashboard.panels.some((p) => p.title.includes(title)),
        `panel: ${title}`,
      );
    for (const panel of dashboard.panels) {
      assert.ok(uids.has(panel.datasource.uid), `${panel.title}: datasource provisioned`);
      for (const { expr } of panel.targets) {
        for (const metric of expr.match(/imgpipe_[a-z_]+/g) ?? [])
          assert.ok(known.has(metric), `${panel.title}: ${metric}`);
      }
    }
  });
});
