import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');

test('Prometheus loads the alert rules that docker-compose mounts, and they use metrics the stage processes serve', () => {
  const prometheus = parse(read('infra/observability/prometheus.yml')) as { rule_files?: string[] };
  assert.deepEqual(prometheus.rule_files, ['/etc/prometheus/rules/*.yml']);
  assert.ok(read('docker-compose.yml').includes('./infra/observability/rules:/etc/prometheus/rules:ro'));

  const files = readdirSync(new URL('infra/observability/rules/', ROOT)).filter((name) => name.endsWith('.yml'));
  assert.ok(files.length > 0);
  const alerts = files.flatMap((file) => {
    const doc = parse(read(`infra/observability/rules/${file}`)) as {
      groups: { rules: { alert: string; expr: string; for?: string }[] }[];
    };
    return doc.groups.flatMap((group) => group.rules);
  });
  const byName = new Map(alerts.map((rule) => [rule.alert, rule]));
  assert.match(byName.get('ImgpipeStageStalled')?.expr ?? '', /\bimgpipe_stage_stalled\b/);
  assert.match(byName.get('ImgpipeStagePausedLong')?.expr ?? '', /\bimgpipe_stage_paused\b/);
  const served = [read('packages/stream/src/stall-detector.ts'), read('packages/stream/src/stage-operations.ts')].join(
    '\n',
  );
  for (const rule of alerts) {
    for (const metric of rule.expr.match(/\bimgpipe_[a-z_]+/g) ?? []) {
      assert.ok(served.includes(`name: '${metric}'`), `${rule.alert}: ${metric} is a metric the stage processes serve`);
    }
  }
});
