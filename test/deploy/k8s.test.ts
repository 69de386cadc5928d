import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { consumerGroupFor, STAGE_INPUTS, STAGES, WORKER_STAGES } from '@imgpipe/contracts';
import { kafkaConnectionSettings, loadConfig, serviceSettings } from '@imgpipe/core';
import { kafkaConnectionConfig } from '@imgpipe/stream';
import {
  DATABASE_CLIENTS,
  type K8sObject,
  kustomizeBinary,
  manifestProblems,
  parseIni,
  pgbouncerProblems,
  REPO_ROOT,
  ref,
  render,
} from './manifests.ts';

const OVERLAYS = ['k8s/overlays/dev', 'k8s/overlays/prod'] as const;
const renders = new Map<string, K8sObject[]>();

before(() => {
  const kustomize = kustomizeBinary();
  for (const dir of ['k8s/base', ...OVERLAYS]) renders.set(dir, render(dir, kustomize));
});

function rendered(dir: string): K8sObject[] {
  const objects = renders.get(dir);
  assert.ok(objects, `${dir} was not rendered`);
  return objects;
}

function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(object, `${kind}/${name} not rendered`);
  return object;
}

const configMapName = (objects: readonly K8sObject[]) =>
  objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('imgpipe-config'))?.metadata.name ?? '';

const partitionsOf = (objects: readonly K8sObject[]) =>
  Number(find(objects, 'ConfigMap', configMapName(objects)).data?.['IMGPIPE_TOPIC_PARTITIONS']);

describe('kubernetes manifests', () => {
  for (const dir of OVERLAYS) {
    test(`${dir}: the API may search a replica; API, results and init migrate past PgBouncer; 6432 is open`, () => {
      const objects = rendered(dir);
      interface EnvEntry {
        name: string;
        valueFrom?: { secretKeyRef?: { optional?: boolean } };
      }
      /** Secret references by variable, over the init containers and the containers. */
      const secretRefs = (object: K8sObject) => {
        const pod = object.spec.template.spec;
        const containers: { env?: EnvEntry[] }[] = [...(pod.initContainers ?? []), ...pod.containers];
        const refs = new Map<string, { optional?: boolean }>();
        for (const entry of containers.flatMap((container) => container.env ?? [])) {
          if (entry.valueFrom?.secretKeyRef) refs.set(entry.name, entry.valueFrom.secretKeyRef);
        }
        return refs;
      };
      const expected: [string, string, string[]][] = [
        ['Deployment', 'imgpipe-ingest-api', ['IMGPIPE_DATABASE_READ_URL']],
        ['Deployment', 'imgpipe-results', []],
        ['Job', 'imgpipe-init', []],
      ];
      for (const [kind, name, variables] of expected) {
        const refs = secretRefs(find(objects, kind, name));
        assert.ok(refs.has('IMGPIPE_DATABASE_URL'), `${name}: IMGPIPE_DATABASE_URL`);
        // PgBouncer is always in front of the primary here: the direct URL is required.
        assert.equal(refs.get('IMGPIPE_DATABASE_DIRECT_URL')?.optional, undefined, `${name}: required direct URL`);
        assert.ok(refs.has('IMGPIPE_DATABASE_DIRECT_URL'), `${name}: IMGPIPE_DATABASE_DIRECT_URL`);
        for (const variable of variables) {
          assert.equal(refs.get(variable)?.optional, true, `${name}: optional ${variable}`);
        }
      }
      for (const policy of ['ingest-api', 'results-egress', 'init-egress']) {
        const ports = find(objects, 'NetworkPolicy', policy).spec.egress.flatMap(
          (rule: { ports?: { port: number }[] }) => (rule.ports ?? []).map((port) => port.port),
        );
        assert.ok(ports.includes(6432) && ports.includes(5432), `${policy}: PgBouncer and PostgreSQL ports`);
      }
    });
  }

  for (const dir of ['k8s/base', ...OVERLAYS]) {
    test(`${dir} renders objects that pass the schemas and every rule`, () => {
      assert.deepEqual(manifestProblems(rendered(dir)), []);
    });
  }

  for (const dir of OVERLAYS) {
    test(`${dir}: one Deployment and one ScaledObject per stage, scaled on that stage's group and input`, () => {
      const objects = rendered(dir);
      for (const stage of WORKER_STAGES) {
        const so = find(objects, 'ScaledObject', `imgpipe-${stage}`);
        find(objects, 'Deployment', so.spec.scaleTargetRef.name);
        const metadata = so.spec.triggers[0].metadata;
        assert.equal(metadata.consumerGroup, consumerGroupFor(stage));
        const inputs = STAGE_INPUTS[stage];
        assert.equal(metadata.topic, inputs.length === 1 ? inputs[0] : undefined, `${stage} topic`);
        assert.ok(so.spec.maxReplicaCount <= partitionsOf(objects), `${stage} maxReplicaCount within partitions`);
      }
      const results = find(objects, 'ScaledObject', 'imgpipe-results');
      assert.equal(results.spec.triggers[0].metadata.consumerGroup, consumerGroupFor('results'));
      // The stages, results, the API, and PgBouncer.
      assert.equal(objects.filter((o) => o.kind === 'Deployment').length, WORKER_STAGES.length + 3);
      find(objects, 'HorizontalPodAutoscaler', 'imgpipe-ingest-api');
      find(objects, 'Job', 'imgpipe-init');
    });
  }

  for (const dir of OVERLAYS) {
    test(`${dir}: the ConfigMap and the Secret references give every endpoint variable, and the loader accepts them`, () => {
      const objects = rendered(dir);
      const env: Record<string, string> = { ...find(objects, 'ConfigMap', configMapName(objects)).data };
      for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
        for (const { name, valueFrom } of deployment.spec.template.spec.containers[0].env ?? []) {
          if (valueFrom?.secretKeyRef) env[name] = `<secret ${valueFrom.secretKeyRef.key}>`;
        }
      }
      env['IMGPIPE_DATABASE_URL'] &&= 'postgres://user:password@pgbouncer:6432/imgpipe';
      env['IMGPIPE_DATABASE_DIRECT_URL'] &&= 'postgres://user:password@postgres:5432/imgpipe';
      env['IMGPIPE_DATABASE_READ_URL'] &&= 'postgres://user:password@postgres-replica:5432/imgpipe';
      env['IMGPIPE_REDIS_URL'] &&= 'redis://redis:6379/0';
      for (const setting of Object.values(serviceSettings)) {
        const optional = setting.parse(undefined) === undefined;
        if (!optional) assert.ok(setting.variable in env, setting.variable);
      }
      assert.doesNotThrow(() => loadConfig(serviceSettings, env));
      if (env['IMGPIPE_KAFKA_SASL_MECHANISM'] !== 'none') {
        assert.ok(env['IMGPIPE_KAFKA_SASL_USERNAME'] && env['IMGPIPE_KAFKA_SASL_PASSWORD'], 'SASL credentials');
        assert.doesNotThrow(() =>
          kafkaConnectionConfig(loadConfig(kafkaConnectionSettings, { ...env, IMGPIPE_KAFKA_CA_FILE: '' })),
        );
      }
    });
  }

  for (const dir of OVERLAYS) {
    test(`${dir}: PgBouncer in transaction pooling behind the Service pgbouncer; the apps use it, migrations go direct`, () => {
      const objects = rendered(dir);
      assert.deepEqual(pgbouncerProblems(objects), []);
      const deployment = find(objects, 'Deployment', 'pgbouncer');
      assert.equal(deployment.spec.replicas, 2);
      find(objects, 'PodDisruptionBudget', 'pgbouncer');
      const service = find(objects, 'Service', 'pgbouncer');
      const servicePort = service.spec.ports[0].port;
      // docs/deploy.md's Secret template: the apps' URL names this Service and port; migrations name another host.
      const deployDoc = readFileSync(`${REPO_ROOT}docs/deploy.md`, 'utf8');
      const hostOf = (variable: string) =>
        new RegExp(`${variable}=postgres://[^@\\s]*@([^/\\s]+)/`).exec(deployDoc)?.[1];
      assert.equal(hostOf('IMGPIPE_DATABASE_URL'), `${service.metadata.name}:${servicePort}`);
      assert.ok(hostOf('IMGPIPE_DATABASE_DIRECT_URL'), 'the template gives a direct URL');
      assert.notEqual(hostOf('IMGPIPE_DATABASE_DIRECT_URL')?.split(':')[0], service.metadata.name);
      // The pool settings are docker-compose's; only where the auth file and the socket live differs.
      const ini = parseIni(
        find(objects, 'ConfigMap', objects.find((o) => o.metadata.name.startsWith('pgbouncer-config'))!.metadata.name)
          .data!['pgbouncer.ini']!,
      );
      const compose = parseIni(readFileSync(`${REPO_ROOT}infra/postgres/pgbouncer.ini`, 'utf8'));
      const pooling = (settings: Record<string, string> = {}) => {
        const { auth_file: _file, unix_socket_dir: _socket, ...rest } = settings;
        return rest;
      };
      assert.deepEqual(pooling(ini['pgbouncer']), pooling(compose['pgbouncer']));
      assert.deepEqual(ini['databases'], compose['databases']);
      assert.equal(DATABASE_CLIENTS.length, 3);
    });
  }

  test('prod: 24 partitions, and every Kafka trigger authenticates through the SASL/TLS TriggerAuthentication', () => {
    const objects = rendered('k8s/overlays/prod');
    assert.equal(partitionsOf(objects), 24);
    const auth = find(objects, 'TriggerAuthentication', 'imgpipe-kafka');
    const parameters = auth.spec.secretTargetRef.map((r: { parameter: string }) => r.parameter);
    assert.deepEqual([...parameters].sort(), ['ca', 'password', 'sasl', 'tls', 'username']);
    for (const so of objects.filter((o) => o.kind === 'ScaledObject')) {
      assert.equal(so.spec.triggers[0].authenticationRef?.name, 'imgpipe-kafka', ref(so));
    }
  });

  test('prod: every stage also scales on its measured throughput (Prometheus), the results service on lag alone', () => {
    const objects = rendered('k8s/overlays/prod');
    for (const stage of STAGES) {
      const so = find(objects, 'ScaledObject', `imgpipe-${stage}`);
      const types = so.spec.triggers.map((t: { type: string }) => t.type);
      assert.deepEqual(types, ['kafka', 'prometheus'], stage);
    }
    const results = find(objects, 'ScaledObject', 'imgpipe-results');
    assert.deepEqual(
      results.spec.triggers.map((t: { type: string }) => t.type),
      ['kafka'],
    );
  });
});

describe('the manifest checks hold third-party infrastructure to its own rules', () => {
  const mutate = (change: (pgbouncer: K8sObject, objects: K8sObject[]) => void) => {
    const copy = structuredClone(rendered('k8s/overlays/prod'));
    change(find(copy, 'Deployment', 'pgbouncer'), copy);
    return [...manifestProblems(copy), ...pgbouncerProblems(copy)];
  };
  const expectProblem = (problems: string[], pattern: RegExp) =>
    assert.ok(
      problems.some((p) => pattern.test(p)),
      `expected a problem matching ${pattern}, got:\n${problems.join('\n')}`,
    );
  const container = (deployment: K8sObject) => deployment.spec.template.spec.containers[0];

  test('PgBouncer passes as rendered (it is not held to the imgpipe image, its uid or HTTP probes)', () => {
    assert.deepEqual(
      mutate(() => {}),
      [],
    );
  });

  test('a floating tag, root, a writable root, privilege escalation, a missing probe or limit are each caught', () => {
    const cases: [(d: K8sObject) => void, RegExp][] = [
      [
        (d) => (container(d).image = 'edoburu/pgbouncer:latest'),
        /pgbouncer: container pgbouncer: image .* must be pinned/,
      ],
      [(d) => (container(d).image = 'edoburu/pgbouncer:1.23'), /must be pinned by digest or an exact version tag/],
      [
        (d) => (d.spec.template.spec.securityContext.runAsUser = 0),
        /pgbouncer: pod securityContext.runAsUser must name a non-root uid/,
      ],
      [
        (d) => delete d.spec.template.spec.securityContext.runAsNonRoot,
        /pgbouncer: pod securityContext.runAsNonRoot must be true/,
      ],
      [
        (d) => (container(d).securityContext.readOnlyRootFilesystem = false),
        /pgbouncer: container pgbouncer: readOnlyRootFilesystem/,
      ],
      [
        (d) => (container(d).securityContext.allowPrivilegeEscalation = true),
        /pgbouncer: container pgbouncer: allowPrivilegeEscalation/,
      ],
      [(d) => delete container(d).readinessProbe, /pgbouncer: container pgbouncer: needs a readinessProbe/],
      [
        (d) => (container(d).livenessProbe.tcpSocket.port = 'pg'),
        /pgbouncer: container pgbouncer: livenessProbe port pg undeclared/,
      ],
      [
        (d) => delete container(d).resources.limits.memory,
        /pgbouncer: container pgbouncer: needs memory request and limit/,
      ],
      [(d) => (d.spec.replicas = 1), /Deployment\/pgbouncer: needs spec.replicas >= 2/],
    ];
    for (const [change, pattern] of cases) expectProblem(mutate(change), pattern);
    // A digest pins as well as a tag.
    const digest = `edoburu/pgbouncer@sha256:${'a'.repeat(64)}`;
    assert.deepEqual(
      mutate((d) => (container(d).image = digest)),
      [],
    );
  });

  test('session pooling, the apps migrating through PgBouncer, or a NetworkPolicy that shuts them out are caught', () => {
    expectProblem(
      mutate((_d, objects) => {
        const config = objects.find((o) => o.metadata.name.startsWith('pgbouncer-config'))!;
        config.data!['pgbouncer.ini'] = config.data!['pgbouncer.ini']!.replace(
          'pool_mode = transaction',
          'pool_mode = session',
        );
      }),
      /pool_mode is 'session', not transaction/,
    );
    expectProblem(
      mutate((_d, objects) => {
        const job = find(objects, 'Job', 'imgpipe-init');
        const migrate = job.spec.template.spec.initContainers[0];
        migrate.env = migrate.env.filter((e: { name: string }) => e.name !== 'IMGPIPE_DATABASE_DIRECT_URL');
      }),
      /Job\/imgpipe-init: IMGPIPE_DATABASE_DIRECT_URL must be a required Secret reference/,
    );
    expectProblem(
      mutate((_d, objects) => {
        find(objects, 'NetworkPolicy', 'pgbouncer').spec.ingress[0].from[0].podSelector.matchExpressions[1].values = [
          'ingest-api',
        ];
      }),
      /Deployment\/imgpipe-results: PgBouncer's NetworkPolicy does not admit it on 6432/,
    );
    expectProblem(
      mutate((_d, objects) => {
        find(objects, 'NetworkPolicy', 'pgbouncer').spec.ingress[0].from = [];
      }),
      /Deployment\/pgbouncer: needs a NetworkPolicy of its own/,
    );
    expectProblem(
      mutate((d) => {
        d.spec.template.metadata.labels['app.kubernetes.io/name'] = 'bouncer';
      }),
      /Service\/pgbouncer: selects no PgBouncer pod/,
    );
  });
});

describe('the manifest checks reject broken ScaledObjects', () => {
  // Each case mutates a copy of the prod render and expects a problem naming the mistake.
  const mutate = (change: (objects: K8sObject[]) => void): string[] => {
    const copy = structuredClone(rendered('k8s/overlays/prod'));
    change(copy);
    return manifestProblems(copy);
  };
  const trigger = (objects: K8sObject[], stage: string) =>
    find(objects, 'ScaledObject', `imgpipe-${stage}`).spec.triggers[0].metadata as Record<string, unknown>;
  const expectProblem = (problems: string[], pattern: RegExp) =>
    assert.ok(
      problems.some((p) => pattern.test(p)),
      `expected a problem matching ${pattern}, got:\n${problems.join('\n')}`,
    );

  test('a misspelled key (lagThreshhold) is caught although the CRD schema accepts it', () => {
    const problems = mutate((objects) => {
      const md = trigger(objects, 'detect');
      md['lagThreshhold'] = md['lagThreshold'];
      delete md['lagThreshold'];
    });
    expectProblem(problems, /ScaledObject\/imgpipe-detect: kafka trigger: unknown metadata key 'lagThreshhold'/);
    expectProblem(problems, /imgpipe-detect: kafka trigger: lagThreshold must be a positive integer/);
    assert.ok(!problems.some((p) => p.includes('schema')), 'the schema alone does not see it');
  });

  test("a consumer group that is not the stage's group is caught", () => {
    const problems = mutate((objects) => {
      trigger(objects, 'ocr')['consumerGroup'] = 'imgpipe-ocr';
    });
    expectProblem(
      problems,
      /imgpipe-ocr: kafka trigger: consumerGroup 'imgpipe-ocr' is not the ocr group 'imgpipe.ocr'/,
    );
  });

  test("a topic that is not the stage's input is caught", () => {
    const problems = mutate((objects) => {
      trigger(objects, 'faces')['topic'] = 'images.uploaded';
    });
    expectProblem(problems, /imgpipe-faces: kafka trigger: topic 'images.uploaded' is not faces's input/);
  });

  test('more replicas than partitions is caught', () => {
    const problems = mutate((objects) => {
      find(objects, 'ScaledObject', 'imgpipe-ocr').spec.maxReplicaCount = 48;
    });
    expectProblem(problems, /imgpipe-ocr: maxReplicaCount 48 exceeds the 24 topic partitions/);
  });

  test('a non-string metadata value fails the KEDA schema', () => {
    const problems = mutate((objects) => {
      trigger(objects, 'preprocess')['lagThreshold'] = 50;
    });
    expectProblem(problems, /ScaledObject\/imgpipe-preprocess: schema: .*lagThreshold must be string/);
  });

  test('the aggregate stage scaled to zero without a topic is caught', () => {
    const problems = mutate((objects) => {
      find(objects, 'ScaledObject', 'imgpipe-aggregate').spec.minReplicaCount = 0;
    });
    expectProblem(problems, /imgpipe-aggregate: aggregate must keep minReplicaCount >= 1/);
  });

  test('a ScaledObject whose Deployment is missing is caught', () => {
    const problems = mutate((objects) => {
      find(objects, 'ScaledObject', 'imgpipe-faces').spec.scaleTargetRef.name = 'imgpipe-face';
    });
    expectProblem(problems, /imgpipe-faces: scale target Deployment\/imgpipe-face is not in the render/);
  });

  test('a throughput trigger that measures another stage, or with a misspelled key, is caught', () => {
    const problems = mutate((objects) => {
      const md = find(objects, 'ScaledObject', 'imgpipe-faces').spec.triggers[1].metadata;
      md.query = md.query.replace('stage="faces"', 'stage="detect"');
      md.treshold = md.threshold;
      delete md.threshold;
    });
    expectProblem(problems, /imgpipe-faces: prometheus trigger: query must measure faces's own throughput/);
    expectProblem(problems, /imgpipe-faces: prometheus trigger: unknown metadata key 'treshold'/);
  });

  test('a latest offset policy, a root user and a second autoscaler are caught', () => {
    const problems = mutate((objects) => {
      trigger(objects, 'detect')['offsetResetPolicy'] = 'latest';
      find(objects, 'Deployment', 'imgpipe-detect').spec.template.spec.securityContext.runAsUser = 0;
      const hpa = structuredClone(find(objects, 'HorizontalPodAutoscaler', 'imgpipe-ingest-api'));
      hpa.metadata.name = 'imgpipe-detect';
      hpa.spec.scaleTargetRef.name = 'imgpipe-detect';
      objects.push(hpa);
    });
    expectProblem(problems, /imgpipe-detect: kafka trigger: offsetResetPolicy must be "earliest"/);
    expectProblem(problems, /Deployment\/imgpipe-detect: pod securityContext.runAsUser must be 10001/);
    expectProblem(problems, /Deployment\/imgpipe-detect: must have one autoscaler/);
  });
});
