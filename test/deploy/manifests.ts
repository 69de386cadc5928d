/**
 * Renders the Kubernetes overlays with the real kustomize and checks what they would create, offline:
 * every object against its Kubernetes or KEDA schema (kubernetes-models), then the rules a schema cannot express:
 * KEDA kafka trigger keys and values, consumer groups and topics against @imgpipe/contracts, replica ceilings
 * against the configured partition count, references between objects, and the pod security baseline. Deployments
 * that run a third-party image (PgBouncer) are held to their own rule set (thirdPartyProblems).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import {
  consumerGroupFor,
  RESULTS_INPUTS,
  STAGE_INPUTS,
  WORKER_STAGES,
  type WorkerStageName,
} from '@imgpipe/contracts';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import {
  KAFKA_AUTH_PARAMETERS,
  KAFKA_BOOLEAN_KEYS,
  KAFKA_ENUMS,
  KAFKA_TRIGGER_METADATA_KEYS,
  PROMETHEUS_TRIGGER_METADATA_KEYS,
} from './keda-scaler-keys.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Loose shapes of the fields the rules read; the schemas check the rest.
interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}
interface Container {
  name: string;
  image?: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Probe {
  httpGet?: { path?: string; port?: string | number };
  tcpSocket?: { port?: string | number };
  grpc?: { port?: number };
  exec?: { command?: string[] };
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type?: string } };
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; emptyDir?: object }[];
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: PodSpec;
}
interface KafkaTrigger {
  type: string;
  metadata?: Record<string, unknown>;
  authenticationRef?: { name: string; kind?: string };
}
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  // biome-ignore lint/suspicious/noExplicitAny: rendered YAML; each rule narrows what it reads
  spec?: any;
  data?: Record<string, string>;
}

type Validatable = new (data: unknown) => { validate(): void };
const MODELS: Record<string, Validatable> = {
  'v1/ConfigMap': ConfigMap as unknown as Validatable,
  'v1/Namespace': Namespace as unknown as Validatable,
  'v1/Secret': Secret as unknown as Validatable,
  'v1/Service': Service as unknown as Validatable,
  'v1/ServiceAccount': ServiceAccount as unknown as Validatable,
  'apps/v1/Deployment': Deployment as unknown as Validatable,
  'batch/v1/Job': Job as unknown as Validatable,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as Validatable,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as unknown as Validatable,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as Validatable,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject as unknown as Validatable,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication as unknown as Validatable,
};

/** Stages whose pods hold nothing that needs a warm consumer and whose trigger names its one topic. */
const MAY_SCALE_TO_ZERO: readonly string[] = ['preprocess', 'detect', 'faces', 'ocr', 'transform', 'features'];
const APP_UID = 10001;

export function kustomizeBinary(): string {
  return execFileSync('bash', [`${REPO_ROOT}infra/bin/ensure-kustomize.sh`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** `kustomize build <dir>` parsed into objects. */
export function render(dir: string, kustomize = kustomizeBinary()): K8sObject[] {
  const yamlText = execFileSync(kustomize, ['build', `${REPO_ROOT}${dir}`], {
    encoding: 'utf8',
    maxBuffer: 32 * 1024 * 1024,
  });
  return parseAllDocuments(yamlText).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${dir}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as K8sObject;
  });
}

export function ref(object: K8sObject): string {
  return `${object.kind}/${object.metadata.name}`;
}

/** Every problem found, one line each; an empty list means the render is deployable as far as offline checks go. */
export function manifestProblems(objects: readonly K8sObject[]): string[] {
  return [...schemaProblems(objects), ...ruleProblems(objects)];
}

export function schemaProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    if (!Model) {
      problems.push(`${ref(object)}: no schema for ${object.apiVersion} ${object.kind}`);
      continue;
    }
    try {
      new Model(structuredClone(object)).validate();
    } catch (error) {
      problems.push(`${ref(object)}: schema: ${(error as Error).message}`);
    }
  }
  return problems;
}

export function ruleProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const report = (object: K8sObject, message: string) => problems.push(`${ref(object)}: ${message}`);
  const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const deployments = ofKind('Deployment');
  const byName = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

  const configMaps = ofKind('ConfigMap');
  const config = configMaps.find((c) => c.metadata.name.startsWith('imgpipe-config'));
  const brokers = config?.data?.['IMGPIPE_KAFKA_BROKERS'];
  const partitions = Number(config?.data?.['IMGPIPE_TOPIC_PARTITIONS']);
  if (!config || !brokers || !Number.isInteger(partitions) || partitions < 1) {
    problems.push('ConfigMap/imgpipe-config: missing, or without IMGPIPE_KAFKA_BROKERS and IMGPIPE_TOPIC_PARTITIONS');
  }

  // Credentials are referenced, never rendered.
  for (const secret of ofKind('Secret')) report(secret, 'a Secret with values is rendered: reference it instead');

  const namespaces = new Set(objects.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace));
  if (namespaces.size > 1) problems.push(`objects span several namespaces: ${[...namespaces].join(', ')}`);

  // --- workloads: security baseline, resources, probes, references ---
  const images = new Set<string>();
  const checkPod = (owner: K8sObject, template: PodTemplate | undefined, longRunning: boolean) => {
    const pod = template?.spec;
    if (!pod) return report(owner, 'no pod template');
    if (isThirdParty(pod)) {
      for (const problem of thirdPartyProblems(owner, pod)) report(owner, problem);
      return;
    }
    const sc = pod.securityContext;
    if (sc?.runAsNonRoot !== true) report(owner, 'pod securityContext.runAsNonRoot must be true');
    if (sc?.runAsUser !== APP_UID) report(owner, `pod securityContext.runAsUser must be ${APP_UID} (the image's user)`);
    if (sc?.seccompProfile?.type !== 'RuntimeDefault') report(owner, 'pod seccompProfile must be RuntimeDefault');
    const emptyDirs = new Set((pod.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name));
    for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
      const where = `container ${container.name}`;
      if (container.image) images.add(container.image);
      const csc = container.securityContext;
      if (csc?.allowPrivilegeEscalation !== false) report(owner, `${where}: allowPrivilegeEscalation must be false`);
      if (csc?.readOnlyRootFilesystem !== true) report(owner, `${where}: readOnlyRootFilesystem must be true`);
      if (!csc?.capabilities?.drop?.includes('ALL')) report(owner, `${where}: capabilities must drop ALL`);
      const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
      if (!tmp || !emptyDirs.has(tmp.name)) report(owner, `${where}: /tmp must be an emptyDir (read-only root)`);
      for (const resource of ['cpu', 'memory']) {
        const request = container.resources?.requests?.[resource];
        const limit = container.resources?.limits?.[resource];
        if (!request || !limit) report(owner, `${where}: needs ${resource} request and limit`);
        else if (quantity(request) > quantity(limit)) report(owner, `${where}: ${resource} request above its limit`);
      }
      for (const source of container.envFrom ?? []) {
        const name = source.configMapRef?.name;
        if (name && !configMaps.some((c) => c.metadata.name === name)) {
          report(owner, `${where}: envFrom ConfigMap ${name} is not in the render`);
        }
      }
      if (!longRunning) continue;
      const ports = new Set((container.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
      const probes: [string, Probe | undefined, string][] = [
        ['livenessProbe', container.livenessProbe, '/healthz'],
        ['readinessProbe', container.readinessProbe, '/readyz'],
      ];
      for (const [kind, probe, path] of probes) {
        if (probe?.httpGet?.path !== path) report(owner, `${where}: ${kind} must GET ${path}`);
        else if (!ports.has(probe.httpGet.port))
          report(owner, `${where}: ${kind} port ${probe.httpGet.port} undeclared`);
      }
    }
  };
  for (const deployment of deployments) checkPod(deployment, deployment.spec?.template, true);
  for (const job of ofKind('Job')) checkPod(job, job.spec?.template, false);
  if (images.size > 1) problems.push(`the workloads run different images: ${[...images].join(', ')}`);

  const podsOf = (selector: Record<string, string> | undefined) =>
    deployments.filter((d) => {
      const labels: Record<string, string> = d.spec?.template?.metadata?.labels ?? {};
      return selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);
    });
  for (const service of ofKind('Service')) {
    if (podsOf(service.spec?.selector).length === 0) report(service, 'selects no Deployment');
  }
  for (const pdb of ofKind('PodDisruptionBudget')) {
    if (podsOf(pdb.spec?.selector?.matchLabels).length !== 1) report(pdb, 'must select exactly one Deployment');
  }
  for (const deployment of deployments) {
    const pdbs = ofKind('PodDisruptionBudget').filter((p) =>
      podsOf(p.spec?.selector?.matchLabels).includes(deployment),
    );
    if (pdbs.length === 0) report(deployment, 'no PodDisruptionBudget');
  }
  const defaultDeny = ofKind('NetworkPolicy').some(
    (np) =>
      Object.keys(np.spec?.podSelector ?? { x: 1 }).length === 0 &&
      ['Ingress', 'Egress'].every((t) => np.spec?.policyTypes?.includes(t)) &&
      !np.spec?.ingress &&
      !np.spec?.egress,
  );
  if (!defaultDeny) problems.push('no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)');

  // --- autoscaling: exactly one owner per Deployment ---
  const scaledObjects = ofKind('ScaledObject');
  const owners = new Map<string, string[]>();
  for (const hpa of ofKind('HorizontalPodAutoscaler')) {
    const target = hpa.spec?.scaleTargetRef;
    if (target?.kind !== 'Deployment' || !byName('Deployment', target.name)) report(hpa, 'target Deployment missing');
    const cpu = (hpa.spec?.metrics ?? []).some(
      (m: { type?: string; resource?: { name?: string } }) => m.type === 'Resource' && m.resource?.name === 'cpu',
    );
    if (!cpu) report(hpa, 'expected a CPU utilisation metric');
    owners.set(target?.name, [...(owners.get(target?.name) ?? []), ref(hpa)]);
  }
  for (const so of scaledObjects) {
    const name = so.spec?.scaleTargetRef?.name;
    owners.set(name, [...(owners.get(name) ?? []), ref(so)]);
  }
  for (const deployment of deployments) {
    const scaledBy = owners.get(deployment.metadata.name) ?? [];
    const pod: PodSpec | undefined = deployment.spec?.template?.spec;
    if (pod && isThirdParty(pod) && scaledBy.length === 0) {
      // Infrastructure at a fixed count: at least two, so one pod's loss or eviction is not an outage.
      const replicas = deployment.spec?.replicas;
      if (typeof replicas !== 'number' || replicas < 2) report(deployment, 'needs spec.replicas >= 2 (no autoscaler)');
      // Policies add up: any rule without `from` admits every source, whichever policy holds it.
      const labels = deployment.spec?.template?.metadata?.labels ?? {};
      const policies = ofKind('NetworkPolicy').filter(
        (np) => np.spec?.policyTypes?.includes('Ingress') && selects(np.spec?.podSelector, labels),
      );
      const guarded =
        policies.some(
          (np) => Object.keys(np.spec?.podSelector ?? {}).length > 0 && (np.spec?.ingress ?? []).length > 0,
        ) &&
        policies.every((np) =>
          (np.spec?.ingress ?? []).every((rule: { from?: unknown[] }) => (rule.from ?? []).length > 0),
        );
      if (!guarded)
        report(deployment, 'needs a NetworkPolicy of its own that admits only selected pods (ingress from)');
      continue;
    }
    if (scaledBy.length !== 1) report(deployment, `must have one autoscaler, has ${scaledBy.join(', ') || 'none'}`);
    if (scaledBy.length > 0 && deployment.spec?.replicas !== undefined) {
      report(deployment, 'sets spec.replicas although an autoscaler owns it (every apply would reset the count)');
    }
  }

  for (const so of scaledObjects) {
    problems.push(...scaledObjectProblems(so, objects, { brokers, partitions }).map((p) => `${ref(so)}: ${p}`));
  }
  return problems;
}

/** The imgpipe image: `imgpipe` before the overlays' image override, `<registry>/.../imgpipe` after it. */
export function isImgpipeImage(image: string | undefined): boolean {
  const repository = (image ?? '').split('@')[0]!.replace(/:[^/]*$/, '');
  return repository.split('/').at(-1) === 'imgpipe';
}

/** A pod whose containers run no imgpipe image: third-party infrastructure (PgBouncer). */
export function isThirdParty(pod: PodSpec): boolean {
  return ![...(pod.initContainers ?? []), ...pod.containers].some((c) => isImgpipeImage(c.image));
}

/** Pinned: by digest, or by an exact version tag (not latest, not a floating major like `1` or `1.23`). */
export function isPinnedImage(image: string | undefined): boolean {
  if (!image) return false;
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^/:@]+)$/.exec(image)?.[1];
  return tag !== undefined && /^v?\d+\.\d+\.\d+([-.+][0-9A-Za-z.-]+)?$/.test(tag);
}

/**
 * The rules for a third-party infrastructure pod (its image's user is its own, its probes need not be HTTP): a
 * pinned image, non-root with an explicit non-zero uid, RuntimeDefault seccomp, no privilege escalation, a
 * read-only root filesystem, all capabilities dropped, requests and limits, and liveness and readiness probes on
 * declared ports.
 */
export function thirdPartyProblems(owner: K8sObject, pod: PodSpec): string[] {
  const problems: string[] = [];
  const sc = pod.securityContext;
  if (sc?.runAsNonRoot !== true) problems.push('pod securityContext.runAsNonRoot must be true');
  if (typeof sc?.runAsUser !== 'number' || sc.runAsUser === 0) {
    problems.push('pod securityContext.runAsUser must name a non-root uid (the kubelet cannot check a user name)');
  }
  if (sc?.seccompProfile?.type !== 'RuntimeDefault') problems.push('pod seccompProfile must be RuntimeDefault');
  if (ref(owner).startsWith('Deployment/') && (owner.spec?.template?.spec?.automountServiceAccountToken ?? true)) {
    problems.push('automountServiceAccountToken must be false (infrastructure needs no API access)');
  }
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const where = `container ${container.name}`;
    if (!isPinnedImage(container.image)) {
      problems.push(`${where}: image ${container.image} must be pinned by digest or an exact version tag`);
    }
    const csc = container.securityContext;
    if (csc?.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
    if (csc?.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem must be true`);
    if (!csc?.capabilities?.drop?.includes('ALL')) problems.push(`${where}: capabilities must drop ALL`);
    for (const resource of ['cpu', 'memory']) {
      const request = container.resources?.requests?.[resource];
      const limit = container.resources?.limits?.[resource];
      if (!request || !limit) problems.push(`${where}: needs ${resource} request and limit`);
      else if (quantity(request) > quantity(limit)) problems.push(`${where}: ${resource} request above its limit`);
    }
    if (pod.initContainers?.includes(container)) continue;
    const ports = new Set((container.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
    for (const [kind, probe] of [
      ['livenessProbe', container.livenessProbe],
      ['readinessProbe', container.readinessProbe],
    ] as const) {
      if (!probe) {
        problems.push(`${where}: needs a ${kind}`);
        continue;
      }
      const port = probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
      if (port === undefined && !probe.exec?.command?.length) problems.push(`${where}: ${kind} has no handler`);
      else if (port !== undefined && !ports.has(port)) problems.push(`${where}: ${kind} port ${port} undeclared`);
    }
  }
  return problems;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether a label selector selects a set of labels (matchLabels and the In, NotIn, Exists, DoesNotExist operators). */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    byLabel &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const value = labels[key];
      if (operator === 'In') return value !== undefined && values.includes(value);
      if (operator === 'NotIn') return value === undefined || !values.includes(value);
      if (operator === 'Exists') return value !== undefined;
      if (operator === 'DoesNotExist') return value === undefined;
      return false;
    })
  );
}

/** The KEDA rules for one ScaledObject, given the render it belongs to. */
export function scaledObjectProblems(
  so: K8sObject,
  objects: readonly K8sObject[],
  cluster: { brokers: string | undefined; partitions: number },
): string[] {
  const problems: string[] = [];
  const spec = so.spec ?? {};
  const targetKind = spec.scaleTargetRef?.kind ?? 'Deployment';
  const target = objects.find((o) => o.kind === targetKind && o.metadata.name === spec.scaleTargetRef?.name);
  if (!target) return [`scale target ${targetKind}/${spec.scaleTargetRef?.name} is not in the render`];

  const service = serviceOf(target);
  if (!service)
    return [`cannot tell which stage ${ref(target)} runs (expected args run worker --stage <s> | run results)`];
  const inputs: readonly string[] = service === 'results' ? RESULTS_INPUTS : STAGE_INPUTS[service];

  const min: number = spec.minReplicaCount ?? 0;
  const max: number | undefined = spec.maxReplicaCount;
  if (max === undefined) problems.push('maxReplicaCount must be set (KEDA defaults to 100)');
  else if (max > cluster.partitions) {
    problems.push(`maxReplicaCount ${max} exceeds the ${cluster.partitions} topic partitions (idle consumers)`);
  }
  if (max !== undefined && min > max) problems.push(`minReplicaCount ${min} above maxReplicaCount ${max}`);
  if (min === 0 && !MAY_SCALE_TO_ZERO.includes(service)) {
    problems.push(`${service} must keep minReplicaCount >= 1 (see the manifest's scaling note)`);
  }

  const triggers: KafkaTrigger[] = spec.triggers ?? [];
  const kafka = triggers.filter((t) => t.type === 'kafka');
  if (kafka.length !== 1) problems.push('expected exactly one kafka trigger');
  for (const trigger of triggers.filter((t) => t.type !== 'kafka')) {
    if (trigger.type !== 'prometheus') {
      problems.push(`unexpected ${trigger.type} trigger (kafka lag, optionally prometheus throughput)`);
      continue;
    }
    const md = trigger.metadata ?? {};
    for (const key of Object.keys(md)) {
      if (!PROMETHEUS_TRIGGER_METADATA_KEYS.has(key))
        problems.push(`prometheus trigger: unknown metadata key '${key}'`);
    }
    if (!/^https?:\/\/[^\s/]+/.test(String(md['serverAddress'])))
      problems.push('prometheus trigger: serverAddress must be a URL');
    if (!/^\d+(\.\d+)?$/.test(String(md['threshold'])) || Number(md['threshold']) <= 0) {
      problems.push(`prometheus trigger: threshold must be a positive number, got '${md['threshold']}'`);
    }
    const query = String(md['query']);
    if (!query.includes('imgpipe_messages_processed_total') || !query.includes(`stage="${service}"`)) {
      problems.push(`prometheus trigger: query must measure ${service}'s own throughput (stage="${service}")`);
    }
  }
  for (const trigger of kafka) {
    const md = trigger.metadata ?? {};
    for (const [key, value] of Object.entries(md)) {
      if (!KAFKA_TRIGGER_METADATA_KEYS.has(key)) problems.push(`kafka trigger: unknown metadata key '${key}'`);
      if (typeof value !== 'string') problems.push(`kafka trigger: ${key} must be a string, got ${typeof value}`);
    }
    const str = (key: string) => (typeof md[key] === 'string' ? (md[key] as string) : undefined);
    for (const [key, allowed] of Object.entries(KAFKA_ENUMS)) {
      const value = str(key);
      if (value !== undefined && !allowed.includes(value))
        problems.push(`kafka trigger: ${key} '${value}' not one of ${allowed}`);
    }
    for (const key of KAFKA_BOOLEAN_KEYS) {
      const value = str(key);
      if (value !== undefined && value !== 'true' && value !== 'false')
        problems.push(`kafka trigger: ${key} must be "true" or "false"`);
    }
    const lag = str('lagThreshold');
    if (!lag || !/^[1-9]\d*$/.test(lag))
      problems.push(`kafka trigger: lagThreshold must be a positive integer, got '${lag}'`);
    const activation = str('activationLagThreshold');
    if (activation !== undefined && !/^\d+$/.test(activation))
      problems.push('kafka trigger: activationLagThreshold must be an integer >= 0');
    if (str('offsetResetPolicy') !== 'earliest') {
      problems.push(
        'kafka trigger: offsetResetPolicy must be "earliest" (the consumers start new groups from the beginning)',
      );
    }
    if (str('allowIdleConsumers') === 'true')
      problems.push('kafka trigger: allowIdleConsumers would scale past the partitions');
    if (str('allowIdleConsumers') === 'true' && str('limitToPartitionsWithLag') === 'true') {
      problems.push('kafka trigger: allowIdleConsumers and limitToPartitionsWithLag are exclusive');
    }
    const version = str('version');
    if (!version || !/^\d+\.\d+\.\d+(\.\d+)?$/.test(version)) {
      problems.push("kafka trigger: version must name the brokers' Kafka version (the scaler otherwise speaks 1.0.0)");
    }
    if (str('bootstrapServers') === undefined) problems.push('kafka trigger: bootstrapServers missing');
    else if (cluster.brokers !== undefined && str('bootstrapServers') !== cluster.brokers) {
      problems.push(
        `kafka trigger: bootstrapServers '${str('bootstrapServers')}' differs from IMGPIPE_KAFKA_BROKERS '${cluster.brokers}'`,
      );
    }
    const group = consumerGroupFor(service);
    if (str('consumerGroup') !== group) {
      problems.push(`kafka trigger: consumerGroup '${str('consumerGroup')}' is not the ${service} group '${group}'`);
    }
    const topic = str('topic');
    if (inputs.length === 1) {
      if (topic !== inputs[0])
        problems.push(`kafka trigger: topic '${topic}' is not ${service}'s input '${inputs[0]}'`);
    } else if (topic !== undefined) {
      problems.push(
        `kafka trigger: ${service} consumes ${inputs.length} topics; name none so KEDA sums their lag (got '${topic}')`,
      );
    } else if (min < 1) {
      problems.push(
        'kafka trigger: without a topic KEDA cannot see a group before its first commit: minReplicaCount must be >= 1',
      );
    }
    if (trigger.authenticationRef) {
      const kind = trigger.authenticationRef.kind ?? 'TriggerAuthentication';
      const auth = objects.find((o) => o.kind === kind && o.metadata.name === trigger.authenticationRef?.name);
      if (!auth) problems.push(`kafka trigger: ${kind}/${trigger.authenticationRef.name} is not in the render`);
      for (const { parameter } of auth?.spec?.secretTargetRef ?? []) {
        if (!KAFKA_AUTH_PARAMETERS.has(parameter))
          problems.push(`${kind}/${auth?.metadata.name}: unknown kafka auth parameter '${parameter}'`);
      }
    }
  }
  return problems;
}

/** Which consumer a Deployment runs, read from its container arguments. */
export function serviceOf(deployment: K8sObject): WorkerStageName | 'results' | undefined {
  const containers: Container[] = deployment.spec?.template?.spec?.containers ?? [];
  for (const { args = [] } of containers) {
    if (args[0] === 'run' && args[1] === 'results') return 'results';
    const stage = args[0] === 'run' && args[1] === 'worker' ? args[args.indexOf('--stage') + 1] : undefined;
    if (stage && (WORKER_STAGES as readonly string[]).includes(stage)) return stage as WorkerStageName;
  }
  return undefined;
}

/** Kubernetes quantity to a number (cores or bytes), for comparing requests with limits. */
export function quantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text);
  if (!match) return Number.NaN;
  const factor: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(match[1]) * (match[2] ? (factor[match[2]] ?? Number.NaN) : 1);
}

/** An ini file's sections as key/value maps (PgBouncer's syntax: `;` and `#` comments, `key = value`). */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = sections[header[1]!] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (section && eq > 0) section[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return sections;
}

/** The processes that use PostgreSQL, as [kind, name, container]: each needs PgBouncer and the direct URL. */
export const DATABASE_CLIENTS: readonly [string, string, string][] = [
  ['Deployment', 'imgpipe-ingest-api', 'ingest-api'],
  ['Deployment', 'imgpipe-results', 'results'],
  ['Job', 'imgpipe-init', 'migrate'],
];

/**
 * PgBouncer's wiring in a render: its ini in transaction pooling, listening where its Service sends clients, its
 * userlist from a Secret mount; the Service `pgbouncer` selecting its pods; every database client with
 * IMGPIPE_DATABASE_URL and a required IMGPIPE_DATABASE_DIRECT_URL (migrations must not go through transaction
 * pooling); and the NetworkPolicies letting those clients reach PgBouncer on its port and PgBouncer the primary.
 */
export function pgbouncerProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const service = find('Service', 'pgbouncer');
  const deployment = find('Deployment', 'pgbouncer');
  const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('pgbouncer-config'));
  if (!service || !deployment || !config) return ['Service, Deployment and ConfigMap pgbouncer must all be rendered'];
  const pod: PodSpec = deployment.spec.template.spec;
  const podLabels: Record<string, string> = deployment.spec.template.metadata?.labels ?? {};
  const container = pod.containers[0]!;
  const ini = parseIni(config.data?.['pgbouncer.ini'] ?? '');
  const settings = ini['pgbouncer'] ?? {};
  if (settings['pool_mode'] !== 'transaction')
    problems.push(`pool_mode is '${settings['pool_mode']}', not transaction`);

  if (!selects({ matchLabels: service.spec?.selector }, podLabels))
    problems.push('Service/pgbouncer: selects no PgBouncer pod');
  const servicePort = service.spec?.ports?.[0];
  const target = container.ports?.find(
    (p) => p.name === servicePort?.targetPort || p.containerPort === servicePort?.targetPort,
  );
  if (!target || String(target.containerPort) !== settings['listen_port']) {
    problems.push(
      `Service/pgbouncer: targets ${servicePort?.targetPort}, PgBouncer listens on ${settings['listen_port']}`,
    );
  }
  const mounts = container.volumeMounts ?? [];
  const volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[] = pod.volumes ?? [];
  const mountOf = (path: string | undefined) =>
    mounts.filter((m) => path !== undefined && (path === m.mountPath || path.startsWith(`${m.mountPath}/`))).at(-1);
  const authVolume = volumes.find((v) => v.name === mountOf(settings['auth_file'])?.name);
  if (!authVolume?.secret) problems.push(`auth_file ${settings['auth_file']} is not on a Secret volume`);
  const iniVolume = volumes.find((v) => v.name === mountOf(container.args?.[0])?.name);
  if (iniVolume?.configMap?.name !== config.metadata.name) problems.push('PgBouncer does not run the rendered ini');

  const primary = /port=(\d+)/.exec(ini['databases']?.['imgpipe'] ?? '')?.[1];
  const pgbouncerPolicies = objects.filter(
    (o) =>
      o.kind === 'NetworkPolicy' &&
      selects(o.spec?.podSelector, podLabels) &&
      Object.keys(o.spec.podSelector).length > 0,
  );
  const egressPorts = pgbouncerPolicies.flatMap((np) =>
    (np.spec.egress ?? []).flatMap((rule: { ports?: { port: number }[] }) =>
      (rule.ports ?? []).map((p) => String(p.port)),
    ),
  );
  if (!primary || !egressPorts.includes(primary))
    problems.push(`PgBouncer may not reach the primary's port ${primary}`);

  for (const [kind, name, containerName] of DATABASE_CLIENTS) {
    const client = find(kind, name);
    if (!client) {
      problems.push(`${kind}/${name}: not rendered`);
      continue;
    }
    const clientPod: PodSpec = client.spec.template.spec;
    const clientContainer = [...(clientPod.initContainers ?? []), ...clientPod.containers].find(
      (c) => c.name === containerName,
    );
    const env = new Map((clientContainer?.env ?? []).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
    if (!env.get('IMGPIPE_DATABASE_URL')) problems.push(`${kind}/${name}: IMGPIPE_DATABASE_URL is not from a Secret`);
    const direct = env.get('IMGPIPE_DATABASE_DIRECT_URL') as { optional?: boolean } | undefined;
    if (!direct || direct.optional === true) {
      problems.push(`${kind}/${name}: IMGPIPE_DATABASE_DIRECT_URL must be a required Secret reference (migrations)`);
    }
    const labels: Record<string, string> = client.spec.template.metadata?.labels ?? {};
    const admitted = pgbouncerPolicies.some((np) =>
      (np.spec.ingress ?? []).some(
        (rule: { from?: { podSelector?: LabelSelector }[]; ports?: { port: number }[] }) =>
          (rule.from ?? []).some((peer) => selects(peer.podSelector, labels)) &&
          (rule.ports ?? []).some((p) => p.port === target?.containerPort),
      ),
    );
    if (!admitted)
      problems.push(`${kind}/${name}: PgBouncer's NetworkPolicy does not admit it on ${target?.containerPort}`);
  }
  return problems;
}
