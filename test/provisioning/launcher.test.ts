import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

/**
 * The ./imgpipe launcher in a sandbox: a copy of it and of infra/bin in a folder laid out like a clone, whose
 * `apps/cli/bin/imgpipe.js` and `npm` are stand-ins that record how they were called (so nothing is installed and no
 * service is touched), and whose cache already holds "Node 24" (this node). Each case checks what the launcher ran.
 */
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const sandbox = mkdtempSync(join(tmpdir(), 'imgpipe-launcher-'));
const clone = join(sandbox, 'clone');
const shared = join(sandbox, 'shared');
const fakeBin = join(sandbox, 'bin');
const calls = join(sandbox, 'calls.log');

function write(path: string, text: string, mode = 0o644) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

before(() => {
  mkdirSync(join(clone, 'infra/bin'), { recursive: true });
  copyFileSync(join(REPO, 'imgpipe'), join(clone, 'imgpipe'));
  chmodSync(join(clone, 'imgpipe'), 0o755);
  for (const script of readdirSync(join(REPO, 'infra/bin'))) {
    copyFileSync(join(REPO, 'infra/bin', script), join(clone, 'infra/bin', script));
  }
  write(join(clone, 'package-lock.json'), '{"lockfileVersion": 3}\n');
  write(join(clone, 'packages/vision/src/models/manifest.ts'), 'export const MODEL_MANIFEST = [];\n');
  write(join(clone, 'packages/demo/src/demo.test.ts'), "import { test } from 'node:test';\ntest('demo', () => {});\n");
  write(join(clone, 'test/other.test.ts'), "import { test } from 'node:test';\ntest('other', () => {});\n");
  mkdirSync(join(shared, 'models'), { recursive: true });
  // The CLI stand-in: records its arguments; `models fetch --json` reports one model file; FAIL=<command> fails it.
  write(
    join(clone, 'apps/cli/bin/imgpipe.js'),
    `const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(calls)}, 'imgpipe ' + args.join(' ') + '\\n');
if (process.env.FAIL && args.join(' ').startsWith(process.env.FAIL)) { console.log('output of ' + args.join(' ')); process.exit(1); }
if (args[0] === 'models') {
  const dir = args[args.indexOf('--dir') + 1];
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(dir + '/model.onnx', 'weights');
  console.log(JSON.stringify({ dir, models: [{ name: 'm', path: dir + '/model.onnx', action: 'copied' }] }));
}
if (args[0] === '--help' || args[0] === 'analyze') console.log('Usage: imgpipe ' + (args[0] === 'analyze' ? 'analyze' : '<command>'));
`,
  );
  write(join(clone, 'apps/cli/package.json'), '{"type": "commonjs"}\n');
  // npm stand-in: `npm ci` records the call and creates node_modules.
  write(
    join(fakeBin, 'npm'),
    `#!/bin/bash\necho "npm $* ONNXRUNTIME_NODE_INSTALL=$ONNXRUNTIME_NODE_INSTALL" >> ${calls}\nmkdir -p node_modules\n`,
    0o755,
  );
  // Debian packages "installed".
  for (const command of ['redis-server', 'pg_ctlcluster', 'pgbouncer', 'java', 'mvn', 'python3', 'chromium']) {
    write(join(fakeBin, command), '#!/bin/bash\nexit 0\n', 0o755);
  }
  // "Node 24" already in the cache.
  mkdirSync(join(sandbox, 'cache/node-v24.21.0/bin'), { recursive: true });
  symlinkSync(process.execPath, join(sandbox, 'cache/node-v24.21.0/bin/node'));
});
after(() => rmSync(sandbox, { recursive: true, force: true }));

function imgpipe(args: string[], env: Record<string, string> = {}, cwd = clone) {
  rmSync(calls, { force: true });
  const result = spawnSync(join(clone, 'imgpipe'), args, {
    cwd,
    encoding: 'utf8',
    env: {
      PATH: `${fakeBin}:/usr/bin:/bin`,
      HOME: sandbox,
      IMGPIPE_CACHE: join(sandbox, 'cache'),
      IMGPIPE_MODELS_DIR: join(sandbox, 'models'),
      IMGPIPE_SHARED_DIR: shared,
      ...env,
    },
  });
  return { ...result, calls: existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [] };
}

describe('./imgpipe', () => {
  test('first run: npm ci (with the GPU download skipped) and the models, then the command', () => {
    const result = imgpipe(['analyze', 'photos']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.calls, [
      'npm ci --no-audit --no-fund --loglevel=error ONNXRUNTIME_NODE_INSTALL=skip',
      `imgpipe models fetch --dir ${join(sandbox, 'models')} --from ${shared}/models --json`,
      'imgpipe analyze photos',
    ]);
    assert.equal(result.stdout, 'Usage: imgpipe analyze\n', 'stdout is the command’s own');
    assert.match(result.stderr, /^imgpipe: installing npm packages \(npm ci, first run\)\n/);
    assert.match(result.stderr, /imgpipe: checking the models in .* \(copying missing ones from .*shared\/models\)\n$/);
  });

  test('second run: nothing provisioned, nothing printed but the command’s output', () => {
    const result = imgpipe(['analyze', 'photos']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.calls, ['imgpipe analyze photos']);
    assert.equal(result.stderr, '');
  });

  test('npm ci again only when package-lock.json changes; models again only when a model file changes', () => {
    write(join(clone, 'package-lock.json'), '{"lockfileVersion": 3, "changed": true}\n');
    let result = imgpipe(['analyze', 'x']);
    assert.equal(result.calls.filter((call) => call.startsWith('npm ci')).length, 1);
    assert.match(result.stderr, /npm ci, package-lock.json changed/);
    assert.equal(imgpipe(['analyze', 'x']).calls.length, 1);

    write(join(sandbox, 'models/model.onnx'), 'tampered weights');
    result = imgpipe(['analyze', 'x']);
    assert.deepEqual(
      result.calls.map((call) => call.split(' ').slice(0, 3).join(' ')),
      ['imgpipe models fetch', 'imgpipe analyze x'],
    );
  });

  test('--help passes through without fetching models, and names the launcher’s test command', () => {
    let result = imgpipe(['analyze', '--help']);
    assert.deepEqual(result.calls, ['imgpipe analyze --help']);
    result = imgpipe(['--help']);
    assert.equal(result.status, 0);
    assert.deepEqual(result.calls, ['imgpipe --help']);
    assert.match(result.stdout, /^Usage: imgpipe <command>\n/);
    assert.match(result.stdout, /test \[files\.\.\.\]/);
  });

  test('test --help: the usage, nothing started', () => {
    const result = imgpipe(['test', '--help']);
    assert.equal(result.status, 0);
    assert.deepEqual(result.calls, []);
    assert.match(result.stdout, /^Usage: \.\/imgpipe test \[options for node --test\] \[test files\.\.\.\]\n/);
    assert.doesNotMatch(result.stdout, /Usage: imgpipe <command>/);
  });

  test('other commands get no models', () => {
    assert.deepEqual(imgpipe(['stack', 'status'], { IMGPIPE_MODELS_DIR: join(sandbox, 'other-models') }).calls, [
      'imgpipe stack status',
    ]);
  });

  test('test: the stack, topics and schemas quietly, then node --test on every test file', () => {
    const result = imgpipe(['test']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.calls[0], 'imgpipe stack up');
    assert.deepEqual(result.calls.slice(1).sort(), ['imgpipe schemas register', 'imgpipe topics create']);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /^ℹ tests 2$/m, 'both test files ran');
    assert.match(result.stdout, /^ℹ pass 2$/m);
  });

  test('test with files: only those, paths relative to where it is run, runner options passed through', () => {
    const result = imgpipe(['test', '--test-reporter=tap', 'other.test.ts'], {}, join(clone, 'test'));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^# tests 1$/m);
    assert.match(result.stdout, /^ok 1 - other$/m);
  });

  test('test stops at a failing setup step and shows its output', () => {
    const result = imgpipe(['test'], { FAIL: 'topics' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /output of topics create\nimgpipe test: 'imgpipe topics create' failed \(exit 1\)/);
    assert.doesNotMatch(result.stdout, /ℹ tests/, 'the runner did not start');
  });
});
