import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const IMGPIPE = fileURLToPath(new URL('../../apps/cli/bin/imgpipe.js', import.meta.url));

test('a worker without its model refuses to start, naming the model and the fix, instead of failing every image', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'imgpipe-no-models-'));
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [IMGPIPE, 'run', 'worker', '--stage', 'detect'],
      { env: { ...process.env, IMGPIPE_MODELS_DIR: empty, IMGPIPE_HTTP_PORT: '0' }, timeout: 60_000 },
      (error, _stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    );
  });
  assert.equal(code, 1);
  assert.match(stderr, /MODEL_NOT_FOUND: model "yolox-nano" \(yolox_nano\.onnx\) is not in the models directory/);
  assert.match(stderr, /imgpipe models fetch/);
});
