/**
 * Simulates how KEDA's Kafka scaler and the HPA it drives size one imgpipe stage over a synthetic load curve, so
 * lagThreshold, replica ceilings and partition counts can be chosen on paper before a cluster proves them.
 *
 *   node scripts/keda-simulate.ts [--stage detect] [--pod-rate 30] [--partitions 24] [--max 12] [--rate-target 24]
 *                                 [--base 20] [--peak 150] [--peak-seconds 360] [--startup 20] [--rebalance 3]
 *                                 [--seconds 1800] [--every 30] [--json]
 *
 * The ScaledObject settings (lagThreshold, activationLagThreshold, min/max replicas, pollingInterval,
 * cooldownPeriod, the HPA behaviour) are read from k8s/base/workers/<stage>.yaml; flags override the ceilings
 * that the overlays patch. What is modelled, one-second steps:
 * - KEDA's metric: total lag of the group; unless allowIdleConsumers, capped so that lag / lagThreshold never
 *   exceeds the partition count (kafka_scaler.go getTotalLag). Active when lag > activationLagThreshold.
 * - KEDA itself: 0 -> max(1, min) when active at a polling tick; -> 0 once inactive for cooldownPeriod
 *   (only when minReplicaCount is 0). Between 1 and max the HPA decides.
 * - The HPA (sync every 15 s): desired = ceil(metric / lagThreshold) for an AverageValue target, skipped inside
 *   the 10 % tolerance, clamped to [max(1, min), max]; scale-down takes the highest recommendation of the
 *   stabilization window; each direction is rate-limited by its policies over periodSeconds, selectPolicy Max.
 * - With --rate-target (the prod overlay's Prometheus trigger): a second proposal ceil(processed rate over the
 *   last 2 minutes / rate-target), the HPA taking the larger; the rate also keeps KEDA active.
 * - Pods: a new pod consumes after --startup seconds (scheduling, model load, group join); every change of group
 *   membership pauses the whole group for --rebalance seconds; at most one consumer per partition does work,
 *   each at --pod-rate messages/s. Offsets are committed after processing, so the lag KEDA reads is the backlog
 *   plus the messages in flight (Little's law: processed per second x 1/pod-rate).
 * Not modelled: per-partition skew (lag is assumed spread evenly), excludePersistentLag (no stuck partitions),
 * node autoscaling delays, the KEDA fallback, and latency inside a pod.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';

export interface HpaPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}
export interface HpaRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min';
  policies: HpaPolicy[];
}
export interface ScalingConfig {
  lagThreshold: number;
  activationLagThreshold: number;
  minReplicas: number;
  maxReplicas: number;
  partitions: number;
  allowIdleConsumers: boolean;
  pollingInterval: number;
  cooldownPeriod: number;
  hpaSyncSeconds: number;
  scaleUp: HpaRules;
  scaleDown: HpaRules;
  /** Optional second trigger (prod overlay): processed messages/s over 2 minutes, target per pod. */
  rateTarget?: number;
}
export interface PodModel {
  /** Messages per second one consuming pod processes. */
  rate: number;
  startupSeconds: number;
  rebalanceSeconds: number;
}
export interface Row {
  t: number;
  arrivals: number;
  lag: number;
  metric: number;
  desired: number;
  replicas: number;
  consuming: number;
  note: string;
}

/** KEDA kafka scaler: the lag it reports to the HPA. */
export function kedaMetric(
  totalLag: number,
  config: Pick<ScalingConfig, 'lagThreshold' | 'partitions' | 'allowIdleConsumers'>,
): number {
  if (!config.allowIdleConsumers && Math.floor(totalLag / config.lagThreshold) > config.partitions) {
    return config.partitions * config.lagThreshold;
  }
  return totalLag;
}

/** HPA replica proposal for one External AverageValue metric, before behaviour limits. */
export function proposal(metric: number, target: number, current: number): number {
  if (current > 0 && Math.abs(metric / (target * current) - 1) <= 0.1) return current; // HPA tolerance
  return Math.ceil(metric / target);
}

/** The HPA takes the largest proposal of its metrics, clamped to [max(1, min), max]. */
export function hpaRecommendation(lagMetric: number, current: number, config: ScalingConfig, rate = 0): number {
  const proposals = [proposal(lagMetric, config.lagThreshold, current)];
  if (config.rateTarget) proposals.push(proposal(rate, config.rateTarget, current));
  return Math.min(config.maxReplicas, Math.max(1, config.minReplicas, ...proposals));
}

interface ScaleEvent {
  t: number;
  change: number;
}

/** The HPA's behaviour: stabilization window, then the policies' rate limit over their periods. */
export function applyBehavior(
  t: number,
  current: number,
  recommendation: number,
  history: { t: number; recommendation: number }[],
  events: readonly ScaleEvent[],
  config: ScalingConfig,
): { desired: number; limitedBy?: string } {
  const upWindow = history.filter((h) => h.t > t - config.scaleUp.stabilizationWindowSeconds);
  const downWindow = history.filter((h) => h.t > t - config.scaleDown.stabilizationWindowSeconds);
  let desired = recommendation;
  // Scale up to the lowest, down to the highest recommendation within each window.
  if (desired > current) desired = Math.min(desired, ...upWindow.map((h) => h.recommendation), desired);
  if (desired < current) desired = Math.max(desired, ...downWindow.map((h) => h.recommendation));
  if (desired < current && desired !== recommendation) {
    if (desired === current) return { desired, limitedBy: 'stabilization window' };
  }
  if (desired === current)
    return { desired, limitedBy: recommendation !== current ? 'stabilization window' : undefined };

  const rules = desired > current ? config.scaleUp : config.scaleDown;
  const limits = rules.policies.map((policy) => {
    const inPeriod = events.filter((e) => e.t > t - policy.periodSeconds);
    if (desired > current) {
      const start = current - inPeriod.filter((e) => e.change > 0).reduce((sum, e) => sum + e.change, 0);
      return policy.type === 'Pods' ? start + policy.value : Math.ceil(start * (1 + policy.value / 100));
    }
    const start = current - inPeriod.filter((e) => e.change < 0).reduce((sum, e) => sum + e.change, 0);
    return policy.type === 'Pods' ? start - policy.value : Math.ceil(start * (1 - policy.value / 100));
  });
  if (desired > current) {
    const limit = rules.selectPolicy === 'Max' ? Math.max(...limits) : Math.min(...limits);
    return desired > limit ? { desired: Math.max(current, limit), limitedBy: 'scale-up policy' } : { desired };
  }
  const limit = rules.selectPolicy === 'Max' ? Math.min(...limits) : Math.max(...limits);
  return desired < limit ? { desired: Math.min(current, limit), limitedBy: 'scale-down policy' } : { desired };
}

/** Runs the model for `seconds`, with `arrivals(t)` messages per second arriving. */
export function simulate(
  config: ScalingConfig,
  pod: PodModel,
  arrivals: (t: number) => number,
  seconds: number,
): Row[] {
  let lag = 0;
  let replicas = config.minReplicas;
  let readyAt: number[] = Array.from({ length: replicas }, () => 0);
  let pausedUntil = 0;
  let lastActive = Number.NEGATIVE_INFINITY;
  let desired = replicas;
  let metric = 0;
  let note = '';
  const history: { t: number; recommendation: number }[] = [];
  const events: ScaleEvent[] = [];
  const rows: Row[] = [];
  let consumingBefore = readyAt.length;
  let lastHold = '';
  const processedWindow: number[] = [];

  const setReplicas = (t: number, next: number, why: string) => {
    if (next === replicas) return;
    events.push({ t, change: next - replicas });
    if (next > replicas)
      readyAt = [...readyAt, ...Array.from({ length: next - replicas }, () => t + pod.startupSeconds)];
    else readyAt = readyAt.slice(0, next); // the newest pods go first
    note = [note, `${why}: ${replicas} -> ${next}`].filter(Boolean).join('; ');
    replicas = next;
  };

  for (let t = 0; t < seconds; t++) {
    const arriving = arrivals(t);
    lag += arriving;
    const ready = readyAt.filter((at) => at <= t).length;
    const consuming = Math.min(ready, config.partitions);
    if (consuming !== consumingBefore) {
      pausedUntil = t + pod.rebalanceSeconds; // group membership changed: everyone stops for the rebalance
      consumingBefore = consuming;
    }
    const processed = t >= pausedUntil ? Math.min(lag, consuming * pod.rate) : 0;
    lag -= processed;
    processedWindow.push(processed);
    if (processedWindow.length > 120) processedWindow.shift();
    const rate = processedWindow.reduce((sum, n) => sum + n, 0) / processedWindow.length;
    const reportedLag = lag + Math.ceil(processed / pod.rate);

    metric = kedaMetric(reportedLag, config);
    const active = reportedLag > config.activationLagThreshold || (config.rateTarget !== undefined && rate > 0);
    if (active) lastActive = t;
    if (t % config.pollingInterval === 0) {
      if (replicas === 0 && active) setReplicas(t, Math.max(1, config.minReplicas), 'KEDA activates');
      else if (replicas > 0 && config.minReplicas === 0 && !active && t - lastActive >= config.cooldownPeriod) {
        setReplicas(t, 0, 'KEDA cooldown over');
      }
    }
    if (t % config.hpaSyncSeconds === 0 && replicas > 0) {
      const recommendation = hpaRecommendation(metric, replicas, config, rate);
      history.push({ t, recommendation });
      const decision = applyBehavior(t, replicas, recommendation, history, events, config);
      desired = decision.desired;
      if (desired !== replicas) setReplicas(t, desired, decision.limitedBy ? `HPA (${decision.limitedBy})` : 'HPA');
      else if (decision.limitedBy && recommendation !== replicas) {
        const hold = `HPA holds ${replicas}, recommends ${recommendation} (${decision.limitedBy})`;
        if (hold !== lastHold) note ||= hold;
        lastHold = hold;
      } else lastHold = '';
    }
    rows.push({
      t,
      arrivals: arriving,
      lag: Math.round(reportedLag),
      metric: Math.round(metric),
      desired,
      replicas,
      consuming,
      note,
    });
    note = '';
  }
  return rows;
}

/** The scaling settings of a stage's ScaledObject in k8s/base/workers/<stage>.yaml (the results service's: k8s/base/results.yaml). */
export function scalingConfigOf(stage: string, overrides: Partial<ScalingConfig> = {}): ScalingConfig {
  const path = stage === 'results' ? '../k8s/base/results.yaml' : `../k8s/base/workers/${stage}.yaml`;
  const file = fileURLToPath(new URL(path, import.meta.url));
  const docs = readFileSync(file, 'utf8')
    .split(/^---$/m)
    .map((text) => parse(text) as { kind: string; spec: Record<string, never> });
  const so = docs.find((d) => d.kind === 'ScaledObject')?.spec as unknown as {
    minReplicaCount: number;
    maxReplicaCount: number;
    pollingInterval: number;
    cooldownPeriod: number;
    advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleUp: HpaRules; scaleDown: HpaRules } } };
    triggers: { metadata: Record<string, string> }[];
  };
  const metadata = so.triggers[0]?.metadata ?? {};
  const behavior = so.advanced.horizontalPodAutoscalerConfig.behavior;
  return {
    lagThreshold: Number(metadata['lagThreshold']),
    activationLagThreshold: Number(metadata['activationLagThreshold'] ?? 0),
    minReplicas: so.minReplicaCount,
    maxReplicas: so.maxReplicaCount,
    partitions: so.maxReplicaCount,
    allowIdleConsumers: metadata['allowIdleConsumers'] === 'true',
    pollingInterval: so.pollingInterval,
    cooldownPeriod: so.cooldownPeriod,
    hpaSyncSeconds: 15,
    scaleUp: behavior.scaleUp,
    scaleDown: behavior.scaleDown,
    ...overrides,
  };
}

/** Idle for a minute, `peak` for `peakSeconds`, `base` for nine minutes, then idle. */
export function burstCurve(base: number, peak: number, peakSeconds: number): (t: number) => number {
  return (t) => (t < 60 ? 0 : t < 60 + peakSeconds ? peak : t < 600 + peakSeconds ? base : 0);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string', default: 'detect' },
      'pod-rate': { type: 'string', default: '30' },
      partitions: { type: 'string' },
      max: { type: 'string' },
      base: { type: 'string', default: '20' },
      peak: { type: 'string', default: '150' },
      'rate-target': { type: 'string' },
      'peak-seconds': { type: 'string', default: '360' },
      startup: { type: 'string', default: '20' },
      rebalance: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '1800' },
      every: { type: 'string', default: '30' },
      json: { type: 'boolean', default: false },
    },
  });
  const overrides: Partial<ScalingConfig> = {};
  if (values.partitions) overrides.partitions = Number(values.partitions);
  if (values.max) overrides.maxReplicas = Number(values.max);
  if (values['rate-target']) overrides.rateTarget = Number(values['rate-target']);
  const config = scalingConfigOf(values.stage, overrides);
  const pod = {
    rate: Number(values['pod-rate']),
    startupSeconds: Number(values.startup),
    rebalanceSeconds: Number(values.rebalance),
  };
  const peakSeconds = Number(values['peak-seconds']);
  const curve = burstCurve(Number(values.base), Number(values.peak), peakSeconds);
  const rows = simulate(config, pod, curve, Number(values.seconds));
  if (values.json) {
    console.log(JSON.stringify({ config, pod, rows }, null, 2));
  } else {
    const every = Number(values.every);
    console.log(
      `stage ${values.stage}: lagThreshold ${config.lagThreshold}, activation ${config.activationLagThreshold}, ` +
        `replicas ${config.minReplicas}..${config.maxReplicas}, partitions ${config.partitions}; ` +
        (config.rateTarget ? `throughput trigger ${config.rateTarget} msg/s per pod; ` : 'lag trigger only; ') +
        `pod ${pod.rate} msg/s, ready after ${pod.startupSeconds} s, rebalance ${pod.rebalanceSeconds} s; ` +
        `load 0 -> ${values.peak}/s (60-${60 + peakSeconds} s) -> ${values.base}/s (to ${600 + peakSeconds} s) -> 0`,
    );
    console.log('| t (s) | in/s | lag | KEDA metric | HPA desired | replicas | consuming | event |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    let pending: string[] = [];
    for (const row of rows) {
      if (row.note) pending.push(`${row.t}s ${row.note}`);
      if (row.t % every !== 0) continue;
      const event = pending.join('; ');
      pending = [];
      console.log(
        `| ${row.t} | ${row.arrivals} | ${row.lag} | ${row.metric} | ${row.desired} | ${row.replicas} | ${row.consuming} | ${event} |`,
      );
    }
    const peakLag = Math.max(...rows.map((r) => r.lag));
    const podSeconds = rows.reduce((sum, r) => sum + r.replicas, 0);
    const drained = rows.find((r) => r.t > 60 + peakSeconds && r.lag <= config.lagThreshold)?.t;
    console.log(
      `\npeak lag ${peakLag} (${Math.round(peakLag / Math.max(1, Number(values.peak)))} s of peak input); ` +
        `max replicas ${Math.max(...rows.map((r) => r.replicas))}; ` +
        `under one lagThreshold after the peak at ${drained ?? 'never'} s; ` +
        `${Math.round(podSeconds / 60)} pod-minutes`,
    );
  }
}
