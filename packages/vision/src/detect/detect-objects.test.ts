import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { DetectedObject } from '@imgpipe/contracts';
import { nonMaxSuppression } from '../geometry/boxes.ts';
import { releaseModels } from '../models/model-loader.ts';
import type { NormalizedImage } from '../preprocess/normalized-image.ts';
import { preprocess } from '../preprocess/preprocess.ts';
import { buildConstantModel } from '../testing/onnx-builder.ts';
import { readShared, sharedModelsDir, sharedPath } from '../testing/shared.ts';
import { COCO_CLASSES, parseNamesMetadata } from './coco-classes.ts';
import { detectObjects } from './detect-objects.ts';

after(releaseModels);

const expected = JSON.parse(await readFile(sharedPath('images', 'expected.json'), 'utf8')) as Record<
  string,
  { objects?: string[] }
>;

function assertPlausible(objects: DetectedObject[], width: number, height: number): void {
  for (const object of objects) {
    const { box, boxNormalized: n } = object;
    assert.ok(object.confidence >= 0.3 && object.confidence <= 1, JSON.stringify(object));
    assert.ok(box.x >= 0 && box.y >= 0 && box.width > 0 && box.height > 0, JSON.stringify(object));
    assert.ok(box.x + box.width <= width + 0.01 && box.y + box.height <= height + 0.01, JSON.stringify(object));
    for (const value of [n.left, n.top, n.width, n.height]) assert.ok(value >= 0 && value <= 1, JSON.stringify(object));
    assert.ok(n.left + n.width <= 1.000001 && n.top + n.height <= 1.000001, JSON.stringify(object));
    assert.ok(Math.abs(n.left * width - box.x) < 0.05 && Math.abs(n.width * width - box.width) < 0.05);
  }
}

describe('detectObjects with YOLOX-nano', () => {
  const cases = Object.entries(expected).filter(([, value]) => value.objects);
  for (const [file, { objects: wanted }] of cases) {
    test(`${file}: finds ${wanted!.join(', ')}`, async () => {
      const { info, derivatives } = await preprocess(readShared('images', file));
      const result = await detectObjects(derivatives.normalized, { modelsDir: sharedModelsDir() });
      const labels = new Set(result.objects.map((object) => object.label));
      for (const alternatives of wanted!) {
        assert.ok(
          alternatives.split('|').some((label) => labels.has(label)),
          `${file}: expected ${alternatives} among ${[...labels].join(', ')}`,
        );
      }
      assertPlausible(result.objects, info.width, info.height);
      assert.equal(result.model.name, 'yolox-nano');
      assert.match(result.model.sha256, /^695e750a/);
      const confidences = result.objects.map((object) => object.confidence);
      assert.deepEqual(
        confidences,
        [...confidences].sort((a, b) => b - a),
      );
    });
  }

  test('boxes are in pixels of the oriented original, whatever the normalised size', async () => {
    const bytes = readShared('images', 'photos', 'dog.jpg');
    const full = await preprocess(bytes);
    const small = await preprocess(bytes, { normalizedMaxSide: 400 });
    const dogIn = async (image: NormalizedImage) =>
      (await detectObjects(image, { modelsDir: sharedModelsDir() })).objects.find((object) => object.label === 'dog')!;
    const [a, b] = [await dogIn(full.derivatives.normalized), await dogIn(small.derivatives.normalized)];
    assert.ok(
      Math.abs(a.box.x - b.box.x) < 15 && Math.abs(a.box.width - b.box.width) < 20,
      `${JSON.stringify(a.box)} vs ${JSON.stringify(b.box)}`,
    );
  });

  test('the score threshold is configurable', async () => {
    const { derivatives } = await preprocess(readShared('images', 'coco', '000000000139.jpg'));
    const strict = await detectObjects(derivatives.normalized, { modelsDir: sharedModelsDir(), scoreThreshold: 0.8 });
    assert.ok(strict.objects.length >= 1);
    assert.ok(strict.objects.every((object) => object.confidence >= 0.8));
    const loose = await detectObjects(derivatives.normalized, { modelsDir: sharedModelsDir(), scoreThreshold: 0.1 });
    assert.ok(loose.objects.length > strict.objects.length);
  });

  test('the built-in COCO names are those of the shared coco_classes.txt', async () => {
    const file = (await readFile(sharedPath('models', 'coco_classes.txt'), 'utf8')).split('\n').filter(Boolean);
    assert.deepEqual([...COCO_CLASSES], file);
  });
});

describe('detectObjects with an Ultralytics export', () => {
  let dir: string;
  after(() => rm(dir, { recursive: true, force: true }));

  test('decodes [1, 4+C, N], maps the centred letterbox back, and names classes from metadata', async () => {
    dir = await mkdtemp(join(tmpdir(), 'imgpipe-yolo-'));
    // Three anchors, two classes, on a 64x64 input. Anchor 0: class 1 at 0.9; anchor 1 overlaps it with 0.6 (NMS
    // drops it); anchor 2: class 0 at 0.2, below the threshold.
    const anchors = 3;
    const rows = [
      [32, 33, 10],
      [32, 32, 10],
      [20, 20, 4],
      [10, 10, 4],
      [0.1, 0.1, 0.2],
      [0.9, 0.6, 0.1],
    ];
    const values = new Float32Array(rows.flat());
    const path = join(dir, 'yolo11n.onnx');
    await writeFile(
      path,
      buildConstantModel({
        input: { name: 'images', shape: [1, 3, 64, 64] },
        output: { name: 'output0', shape: [1, 6, anchors], values },
        metadata: { names: "{0: 'person', 1: 'bicycle'}", task: 'detect', imgsz: '[64, 64]' },
      }),
    );
    // A 128x64 normalised image of a 256x128 original: scaled to 64x32, padded 16 px above and below.
    const image: NormalizedImage = {
      data: new Uint8Array(128 * 64 * 3),
      width: 128,
      height: 64,
      originalWidth: 256,
      originalHeight: 128,
    };
    const result = await detectObjects(image, { modelsDir: dir, model: path });
    assert.equal(result.model.name, 'yolo11n');
    assert.deepEqual(result.objects, [
      {
        label: 'bicycle',
        classId: 1,
        confidence: 0.9,
        box: { x: 88, y: 44, width: 80, height: 40 },
        boxNormalized: { left: 0.34375, top: 0.34375, width: 0.3125, height: 0.3125 },
      },
    ]);
  });

  test('parses Python dict names, including quotes inside names', () => {
    assert.deepEqual(parseNamesMetadata(`{0: 'person', 1: "o'clock", 2: 'traffic light'}`), [
      'person',
      "o'clock",
      'traffic light',
    ]);
    assert.equal(parseNamesMetadata(undefined), undefined);
  });
});

describe('nonMaxSuppression', () => {
  test('is class-aware: overlapping boxes of different classes both stay', () => {
    const box = { x1: 0, y1: 0, x2: 10, y2: 10 };
    const kept = nonMaxSuppression(
      [
        { ...box, score: 0.9, classId: 0 },
        { ...box, x2: 11, score: 0.8, classId: 0 },
        { ...box, score: 0.7, classId: 1 },
      ],
      0.45,
      10,
    );
    assert.deepEqual(
      kept.map((candidate) => [candidate.classId, candidate.score]),
      [
        [0, 0.9],
        [1, 0.7],
      ],
    );
  });
});
