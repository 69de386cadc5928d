import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  burstCurve,
  hpaRecommendation,
  kedaMetric,
  type ScalingConfig,
  scalingConfigOf,
  simulate,
} from '../../scripts/keda-simulate.ts';

const detect = scalingConfigOf('detect', { partitions: 24, maxReplicas: 12 });
const pod = { rate: 21, startupSeconds: 20, rebalanceSeconds: 3 };

describe('keda-simulate', () => {
  test('reads the ScaledObject of k8s/base/workers/<stage>.yaml', () => {
    assert.equal(detect.lagThreshold, 315);
    assert.equal(detect.minReplicas, 0);
    assert.equal(detect.cooldownPeriod, 300);
    assert.equal(detect.scaleDown.stabilizationWindowSeconds, 300);
    assert.equal(scalingConfigOf('aggregate').minReplicas, 1);
  });

  test("KEDA's metric is capped at partitions x lagThreshold unless idle consumers are allowed", () => {
    const config = { lagThreshold: 100, partitions: 6, allowIdleConsumers: false };
    assert.equal(kedaMetric(550, config), 550);
    // KEDA compares the integer quotient: 690 / 100 -> 6, not above 6, so 690 passes and the HPA asks for
    // ceil(6.9) = 7 pods for 6 partitions. Only maxReplicaCount <= partitions stops the seventh.
    assert.equal(kedaMetric(690, config), 690);
    assert.equal(kedaMetric(700, config), 600);
    assert.equal(kedaMetric(10_000, config), 600);
    assert.equal(kedaMetric(10_000, { ...config, allowIdleConsumers: true }), 10_000);
  });

  test('the HPA proposes ceil(metric / target) outside a 10 % tolerance, the larger of two triggers', () => {
    const config: ScalingConfig = { ...detect, lagThreshold: 100, minReplicas: 0, maxReplicas: 12 };
    assert.equal(hpaRecommendation(250, 1, config), 3);
    assert.equal(hpaRecommendation(310, 3, config), 3, 'within tolerance: stay');
    assert.equal(hpaRecommendation(0, 3, config), 1, 'never below one: zero is KEDA`s call');
    assert.equal(hpaRecommendation(5000, 3, config), 12, 'clamped to maxReplicaCount');
    assert.equal(hpaRecommendation(0, 3, { ...config, rateTarget: 10 }, 55), 6, 'the throughput trigger wins');
  });

  test('wakes from zero at the first polling tick with lag, stays within the ceiling, sleeps after the cooldown', () => {
    const rows = simulate(detect, pod, burstCurve(21, 210, 360), 1800);
    const woke = rows.find((r) => r.replicas > 0);
    assert.equal(woke?.t, 60);
    assert.match(woke?.note ?? '', /KEDA activates/);
    assert.ok(rows.every((r) => r.replicas <= detect.maxReplicas && r.consuming <= detect.partitions));
    const last = rows.at(-1);
    assert.equal(last?.replicas, 0, 'idle long enough: back to zero');
  });

  test('under sustained load a throughput trigger holds the replicas that the lag trigger alone gives away', () => {
    const curve = burstCurve(21, 210, 900);
    const steady = (config: ScalingConfig) =>
      simulate(config, pod, curve, 960)
        .filter((r) => r.t >= 500)
        .map((r) => r.replicas);
    const lagOnly = steady(detect);
    const withRate = steady({ ...detect, rateTarget: 17 });
    assert.ok(Math.min(...lagOnly) < Math.ceil(210 / 21), 'lag alone scales below what the load needs');
    assert.ok(Math.min(...withRate) >= Math.ceil(210 / 21), 'the throughput trigger does not');
  });
});
