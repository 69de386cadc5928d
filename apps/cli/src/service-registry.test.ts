import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { devProcesses, NODE_RUNTIME_OPTIONS } from './service-registry.ts';

test('imgpipe dev gives each image stage an equal share of the CPUs, and leaves a share the caller set', () => {
  const processes = devProcesses({ api: true }, {});
  const shares = Object.fromEntries(processes.map((entry) => [entry.name, entry.env['IMGPIPE_CPUS']]));
  const each = availableParallelism() / 4;
  for (const stage of ['preprocess', 'detect', 'faces', 'ocr']) {
    assert.ok(Math.abs(Number(shares[stage]) - each) < 0.01, `${stage}: ${shares[stage]} of ${availableParallelism()}`);
  }
  assert.deepEqual([shares['aggregate'], shares['results'], shares['api']], [undefined, undefined, undefined]);
  // The transform stage runs no models (sharp only) and idles for images without renditions: no share of its own.
  const transform = processes.find((entry) => entry.name === 'transform');
  assert.deepEqual(transform?.args, ['run', 'worker', '--stage', 'transform']);
  assert.equal(transform?.env['IMGPIPE_CPUS'], undefined);
  // Keypoints likewise: opt-in, no models, their own pool.
  const features = processes.find((entry) => entry.name === 'features');
  assert.deepEqual(features?.args, ['run', 'worker', '--stage', 'features']);
  assert.equal(features?.env['IMGPIPE_CPUS'], undefined);
  const chosen = devProcesses({ api: false }, { IMGPIPE_CPUS: '1.5' });
  assert.ok(
    chosen.every((entry) => entry.env['IMGPIPE_CPUS'] === undefined),
    'inherited from the environment',
  );
  assert.ok(!chosen.some((entry) => entry.name === 'api'));
});

test('every process imgpipe dev starts runs with the runtime V8 options, after any the caller set', () => {
  for (const entry of devProcesses({ api: true }, {})) {
    assert.equal(entry.env['NODE_OPTIONS'], NODE_RUNTIME_OPTIONS, entry.name);
  }
  for (const entry of devProcesses({ api: true }, { NODE_OPTIONS: '--enable-source-maps' })) {
    assert.equal(entry.env['NODE_OPTIONS'], `--enable-source-maps ${NODE_RUNTIME_OPTIONS}`, entry.name);
  }
  assert.match(NODE_RUNTIME_OPTIONS, /^--max-semi-space-size=\d+$/);
});
