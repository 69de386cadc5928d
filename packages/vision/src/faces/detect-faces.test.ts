import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { releaseModels } from '../models/model-loader.ts';
import { preprocess } from '../preprocess/preprocess.ts';
import { readShared, sharedModelsDir } from '../testing/shared.ts';
import { detectFaces } from './detect-faces.ts';

after(releaseModels);

describe('detectFaces with YuNet', () => {
  test('astronaut.png has exactly one face, with landmarks inside it in anatomical order', async () => {
    const { info, derivatives } = await preprocess(readShared('images', 'photos', 'astronaut.png'));
    const { faces, model } = await detectFaces(derivatives.normalized, { modelsDir: sharedModelsDir() });
    assert.equal(faces.length, 1);
    assert.equal(model.name, 'yunet-n');
    const [face] = faces;
    const { box, boxNormalized, landmarks } = face!;
    assert.ok(face!.confidence > 0.8);
    assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= info.width && box.y + box.height <= info.height);
    assert.ok(box.width > 40 && box.width < 200, JSON.stringify(box));
    for (const value of Object.values(boxNormalized)) assert.ok(value >= 0 && value <= 1);
    for (const point of Object.values(landmarks)) {
      assert.ok(point.x >= box.x && point.x <= box.x + box.width, JSON.stringify({ point, box }));
      assert.ok(point.y >= box.y && point.y <= box.y + box.height, JSON.stringify({ point, box }));
    }
    // The subject's right eye appears on the viewer's left; eyes above the nose, nose above the mouth.
    assert.ok(landmarks.rightEye.x < landmarks.leftEye.x);
    assert.ok(landmarks.mouthRight.x < landmarks.mouthLeft.x);
    assert.ok(Math.max(landmarks.rightEye.y, landmarks.leftEye.y) < landmarks.nose.y);
    assert.ok(landmarks.nose.y < Math.min(landmarks.mouthRight.y, landmarks.mouthLeft.y));
  });

  test('no faces where there are none', async () => {
    for (const file of ['giraffe.jpg', 'chelsea.png', 'coffee.png']) {
      const { derivatives } = await preprocess(readShared('images', 'photos', file));
      const { faces } = await detectFaces(derivatives.normalized, { modelsDir: sharedModelsDir() });
      assert.equal(faces.length, 0, file);
    }
  });

  test('face boxes follow EXIF orientation', async () => {
    const { sharp } = await import('../sharp-instance.ts');
    const rotated = await sharp(readShared('images', 'photos', 'astronaut.png'))
      .rotate(-90)
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const { info, derivatives } = await preprocess(rotated);
    assert.deepEqual([info.width, info.height], [512, 512]);
    const { faces } = await detectFaces(derivatives.normalized, { modelsDir: sharedModelsDir() });
    assert.equal(faces.length, 1);
    assert.ok(
      Math.abs(faces[0]!.box.x - 178) < 12 && Math.abs(faces[0]!.box.y - 65) < 12,
      JSON.stringify(faces[0]!.box),
    );
  });
});
