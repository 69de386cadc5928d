import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { loadVisionConfig } from './config.ts';
import { releaseModels } from './models/model-loader.ts';
import { readShared, sharedModelsDir } from './testing/shared.ts';
import { createVision } from './vision.ts';

after(releaseModels);

const config = loadVisionConfig({ IMGPIPE_MODELS_DIR: sharedModelsDir() });
const images = [
  ['photos', 'dog.jpg'],
  ['photos', 'astronaut.png'],
  ['coco', '000000000139.jpg'],
  ['coco', '000000002299.jpg'],
] as const;

async function analyse(workers: number) {
  const vision = createVision({ config, workers });
  try {
    const results = [];
    for (const parts of images) {
      const { info, derivatives } = await vision.preprocess(readShared('images', ...parts));
      const [objects, faces] = await Promise.all([
        vision.detectObjects(derivatives.normalized),
        vision.detectFaces(derivatives.normalized),
      ]);
      results.push({
        info,
        derivatives,
        objects: objects.objects,
        detector: objects.model,
        faces: faces.faces,
        faceModel: faces.model,
      });
    }
    return { results, mode: vision.executor.mode };
  } finally {
    await vision.close();
  }
}

describe('createVision', () => {
  test('results are identical on the main thread and in the worker pool', async () => {
    const here = await analyse(0);
    const pooled = await analyse(2);
    assert.equal(here.mode, 'in-process');
    assert.equal(pooled.mode, 'worker-pool');
    assert.deepEqual(pooled.results, here.results);
    assert.ok(here.results.every((result) => result.objects.length > 0));
    assert.equal(here.results[1]!.faces.length, 1);
  });

  test('configuration errors are reported together', () => {
    assert.throws(
      () => loadVisionConfig({ IMGPIPE_DETECT_SCORE_THRESHOLD: '2', IMGPIPE_VISION_WORKERS: 'many' }),
      (error: Error & { code?: string }) =>
        error.code === 'CONFIG_INVALID' &&
        /IMGPIPE_DETECT_SCORE_THRESHOLD/.test(error.message) &&
        /IMGPIPE_VISION_WORKERS/.test(error.message),
    );
  });
});
