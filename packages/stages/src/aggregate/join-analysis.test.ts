import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  DetectedObject,
  FeaturesExtracted,
  ImagePreprocessed,
  ImageTransformed,
  ObjectsDetected,
  Rendition,
  TextLine,
  TextRecognized,
} from '@imgpipe/contracts';
import { type ImageParts, isComplete, joinAnalysis, requestedAnalyses, textInObjects } from './join-analysis.ts';

const model = { name: 'm', version: '1', sha256: 'a'.repeat(64) };
const envelope = { imageId: 'img', tenantId: 't', occurredAt: 1 };
const original = { bucket: 'b', key: 'k', sha256: 'c'.repeat(64), size: 10, contentType: 'image/jpeg' };

function preprocessed(fields: Partial<ImagePreprocessed> = {}): ImagePreprocessed {
  return { ...envelope, status: 'completed', analyses: [], original, attributes: {}, renditions: [], ...fields };
}

function object(label: string, confidence: number, box = { x: 0, y: 0, width: 100, height: 100 }): DetectedObject {
  return { label, classId: 0, confidence, box, boxNormalized: { left: 0, top: 0, width: 0.5, height: 0.5 } };
}

function line(text: string, box: TextLine['box']): TextLine {
  return {
    text,
    confidence: 0.9,
    polygon: [],
    box,
    boxNormalized: { left: 0, top: 0, width: 0, height: 0 },
  };
}

const detected = (objects: DetectedObject[]): ObjectsDetected => ({ ...envelope, status: 'completed', model, objects });
const recognized = (lines: TextLine[]): TextRecognized => ({
  ...envelope,
  status: 'completed',
  model,
  text: { fullText: lines.map((l) => l.text).join('\n'), lines },
});

describe('joining an image', () => {
  test('an image asking for nothing in particular waits for every analysis', () => {
    assert.deepEqual(requestedAnalyses(preprocessed()), ['detect', 'faces', 'ocr']);
    assert.deepEqual(requestedAnalyses(preprocessed({ analyses: ['ocr'] })), ['ocr']);
  });

  test('is complete once the requested analyses arrived, or at once when preprocessing failed', () => {
    const parts: ImageParts = { preprocessed: preprocessed({ analyses: ['detect', 'ocr'] }) };
    assert.equal(isComplete(parts), false);
    parts.detect = detected([]);
    assert.equal(isComplete(parts), false);
    parts.ocr = recognized([]);
    assert.equal(isComplete(parts), true);
    assert.equal(isComplete({ detect: detected([]) }), false, 'nothing completes without the preprocess outcome');
    assert.equal(isComplete({ preprocessed: preprocessed({ status: 'failed' }) }), true);
  });

  test('labels count instances and keep the best confidence, best first', () => {
    const analysis = joinAnalysis('img', {
      preprocessed: preprocessed({ analyses: ['detect'] }),
      detect: detected([object('dog', 0.6), object('cat', 0.7), object('dog', 0.9)]),
    });
    assert.deepEqual(analysis.labels, [
      { label: 'dog', count: 2, confidence: 0.9 },
      { label: 'cat', count: 1, confidence: 0.7 },
    ]);
    assert.equal(analysis.status, 'completed');
    assert.equal(analysis.stages.faces.status, 'skipped');
    assert.equal(analysis.stages.detect.model?.name, 'm');
  });

  test('a failed analysis leaves the others standing and makes the image partial', () => {
    const analysis = joinAnalysis('img', {
      preprocessed: preprocessed({ analyses: ['detect', 'ocr'] }),
      detect: detected([object('dog', 0.9)]),
      ocr: {
        ...envelope,
        status: 'failed',
        error: { code: 'MODEL_INFERENCE_FAILED', message: 'x' },
        text: { fullText: '', lines: [] },
      },
    });
    assert.equal(analysis.status, 'partial');
    assert.equal(analysis.objects.length, 1);
    assert.equal(analysis.stages.ocr.error?.code, 'MODEL_INFERENCE_FAILED');
  });

  test('a failed preprocess fails the image and its analyses with STAGE_DEPENDENCY_FAILED', () => {
    const analysis = joinAnalysis('img', {
      preprocessed: preprocessed({ status: 'failed', error: { code: 'IMAGE_TRUNCATED', message: 'cut' } }),
    });
    assert.equal(analysis.status, 'failed');
    assert.equal(analysis.stages.preprocess.error?.code, 'IMAGE_TRUNCATED');
    for (const stage of ['detect', 'faces', 'ocr'] as const) {
      assert.equal(analysis.stages[stage].status, 'failed');
      assert.equal(analysis.stages[stage].error?.code, 'STAGE_DEPENDENCY_FAILED');
    }
  });

  test("the producer's attributes come from the preprocess outcome, also when it failed; {} before it arrived", () => {
    const attributes = { order: 'A-17', 'camera/id': 'front 2' };
    const completed = joinAnalysis('img', {
      preprocessed: preprocessed({ analyses: ['detect'], attributes }),
      detect: detected([]),
    });
    assert.deepEqual(completed.attributes, attributes);
    const failed = joinAnalysis('img', {
      preprocessed: preprocessed({ status: 'failed', error: { code: 'IMAGE_CORRUPT', message: 'x' }, attributes }),
    });
    assert.deepEqual(failed.attributes, attributes);
    assert.deepEqual(joinAnalysis('img', { detect: detected([]) }).attributes, {});
  });

  test('text lies inside an object when most of the line falls within its box', () => {
    const sign = object('stop sign', 0.9, { x: 100, y: 100, width: 200, height: 100 });
    const car = object('car', 0.8, { x: 500, y: 500, width: 100, height: 100 });
    const inside = line('STOP', { x: 120, y: 120, width: 100, height: 40 });
    const straddling = line('half', { x: 250, y: 120, width: 100, height: 40 });
    assert.deepEqual(textInObjects([inside, straddling], [sign, car]), [{ line: 0, object: 0 }]);
  });

  test('an image that asked for renditions waits for the transform stage; one that did not never does', () => {
    const parts: ImageParts = { preprocessed: preprocessed({ analyses: ['detect'], renditions: ['thumb'] }) };
    parts.detect = detected([]);
    assert.equal(isComplete(parts), false, 'transform outstanding');
    parts.transform = transformed('completed', [thumb]);
    assert.equal(isComplete(parts), true);
    const without: ImageParts = { preprocessed: preprocessed({ analyses: ['detect'] }), detect: detected([]) };
    assert.equal(isComplete(without), true);
    const plain = joinAnalysis('img', without);
    assert.deepEqual(plain.renditions, []);
    assert.equal(plain.transform, undefined, 'no transform report for an image without renditions');
  });

  test('the renditions and the transform report join the analysis; a failed transform makes the image partial', () => {
    const asked = preprocessed({ analyses: ['detect'], renditions: ['thumb'] });
    const done = joinAnalysis('img', {
      preprocessed: asked,
      detect: detected([]),
      transform: transformed('completed', [thumb]),
    });
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.renditions, [thumb]);
    assert.deepEqual(done.transform, { status: 'completed', durationMs: 12 });
    const error = { code: 'RENDITION_PRESET_UNKNOWN' as const, message: 'unknown rendition preset: thumb' };
    const failed = joinAnalysis('img', {
      preprocessed: asked,
      detect: detected([]),
      transform: { ...transformed('failed', []), error },
    });
    assert.equal(failed.status, 'partial');
    assert.deepEqual(failed.renditions, []);
    assert.deepEqual(failed.transform, { status: 'failed', error, durationMs: 12 });
    const noPreprocess = joinAnalysis('img', {
      preprocessed: { ...asked, status: 'failed', error: { code: 'IMAGE_CORRUPT', message: 'x' } },
    });
    assert.equal(noPreprocess.transform?.status, 'failed');
    assert.equal(noPreprocess.transform?.error?.code, 'STAGE_DEPENDENCY_FAILED');
  });

  test('an image that asked for features waits for them; alone, features wait for no model analysis', () => {
    const alone: ImageParts = { preprocessed: preprocessed({ analyses: ['features'] }) };
    assert.equal(isComplete(alone), false, 'features outstanding');
    alone.features = extracted('completed');
    assert.equal(isComplete(alone), true);
    const joined = joinAnalysis('img', alone);
    assert.equal(joined.status, 'completed');
    assert.deepEqual(joined.features, extracted('completed').features);
    assert.deepEqual(joined.featuresStage, { status: 'completed', model, durationMs: 40 });
    assert.deepEqual(
      [joined.stages.detect.status, joined.stages.faces.status, joined.stages.ocr.status],
      ['skipped', 'skipped', 'skipped'],
    );
    const withDetect: ImageParts = { preprocessed: preprocessed({ analyses: ['detect', 'features'] }) };
    withDetect.features = extracted('completed');
    assert.equal(isComplete(withDetect), false, 'detect outstanding');
    const plain = joinAnalysis('img', { preprocessed: preprocessed({ analyses: ['detect'] }), detect: detected([]) });
    assert.equal(plain.features, undefined);
    assert.equal(plain.featuresStage, undefined, 'no features report for an image that did not ask');
  });

  test('a failed features stage makes the image partial (failed when nothing else ran) and lists no keypoints', () => {
    const error = { code: 'IMAGE_CORRUPT' as const, message: 'corrupt' };
    const failed = { ...extracted('failed'), error, features: undefined };
    const partial = joinAnalysis('img', {
      preprocessed: preprocessed({ analyses: ['detect', 'features'] }),
      detect: detected([]),
      features: failed,
    });
    assert.equal(partial.status, 'partial');
    assert.equal(partial.features, undefined);
    assert.deepEqual(partial.featuresStage?.error, error);
    const alone = joinAnalysis('img', { preprocessed: preprocessed({ analyses: ['features'] }), features: failed });
    assert.equal(alone.status, 'failed');
  });
});

function extracted(status: 'completed' | 'failed'): FeaturesExtracted {
  return {
    ...envelope,
    status,
    model,
    durationMs: 40,
    ...(status === 'completed'
      ? {
          features: {
            detector: 'orb',
            params: 'orb:edgeThreshold=31,fastThreshold=20,nfeatures=500,nlevels=8,scaleFactor=1.2,scoreType=harris',
            maxSide: 1280,
            width: 640,
            height: 480,
            count: 1,
            keypoints: [{ x: 1, y: 2, size: 31, angle: 90, response: 0.001, octave: 0 }],
            descriptorType: 'binary',
            descriptorSize: 32,
            descriptorsKey: 'tenants/t/features/cc/x/y.ipkf',
            descriptorsBytes: 100,
          },
        }
      : {}),
  };
}

const thumb: Rendition = {
  name: 'thumb',
  recipe: 'resize:320x320:cover/format:webp:80',
  key: 'tenants/t/renditions/cc/x/y',
  format: 'webp',
  width: 320,
  height: 320,
  bytes: 1234,
};

function transformed(status: 'completed' | 'failed', renditions: Rendition[]): ImageTransformed {
  return { ...envelope, status, durationMs: 12, renditions };
}
