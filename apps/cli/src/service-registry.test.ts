import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { NODE_RUNTIME_FLAGS } from './node-runtime-flags.ts';
import { devProcesses } from './service-registry.ts';
import { serviceCommand } from './supervisor.ts';

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

test('every imgpipe process startService starts runs with the runtime V8 flags, which node accepts on its command line', () => {
  for (const entry of devProcesses({ api: true }, {})) {
    const [program, ...args] = serviceCommand(entry);
    assert.equal(program, process.execPath, entry.name);
    assert.deepEqual(args.slice(0, NODE_RUNTIME_FLAGS.length), NODE_RUNTIME_FLAGS, entry.name);
    assert.match(args[NODE_RUNTIME_FLAGS.length]!, /imgpipe\.js$/, `${entry.name}: the flags come before the script`);
    assert.deepEqual(args.slice(NODE_RUNTIME_FLAGS.length + 1), entry.args, entry.name);
    assert.equal(
      entry.env['NODE_OPTIONS'],
      undefined,
      `${entry.name}: the caller's NODE_OPTIONS pass through as they are`,
    );
  }
  // A scenario test's process (no flags named) gets them too; a caller may still ask for node's defaults.
  assert.deepEqual(
    serviceCommand({ name: 'detect', args: ['run'] }).slice(1, 1 + NODE_RUNTIME_FLAGS.length),
    NODE_RUNTIME_FLAGS,
  );
  assert.deepEqual(serviceCommand({ name: 'detect', args: ['run'], nodeFlags: [] }).slice(2), ['run']);
  assert.deepEqual(serviceCommand({ name: 'x', args: [], command: ['sh', '-c', 'true'] }), ['sh', '-c', 'true']);
  assert.ok(NODE_RUNTIME_FLAGS.includes('--no-memory-reducer'));
  // node exits with "bad option" for a flag it does not know; these must start a process and reach its execArgv.
  const child = spawnSync(
    process.execPath,
    [...NODE_RUNTIME_FLAGS, '-e', 'console.log(JSON.stringify(process.execArgv))'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual((JSON.parse(child.stdout) as string[]).slice(0, NODE_RUNTIME_FLAGS.length), NODE_RUNTIME_FLAGS);
});
