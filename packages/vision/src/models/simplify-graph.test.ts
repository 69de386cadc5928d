/**
 * simplify-graph.ts against onnxruntime itself: every model imgpipe ships or fetches, run as published and as
 * simplified, on the same real pixels, must give the same outputs to float32 rounding; the PP-OCR models must lose
 * their spelt-out affine and hard-swish nodes, and models with nothing to fold must come back byte for byte.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import { loadVisionConfig } from '../config.ts';
import { sharp } from '../sharp-instance.ts';
import { readShared, sharedModelsDir } from '../testing/shared.ts';
import { readOnnxGraph, writeOnnxGraph } from './onnx-graph.ts';
import { resolveModel } from './model-loader.ts';
import { simplifyGraph } from './simplify-graph.ts';

const { modelsDir } = loadVisionConfig({ IMGPIPE_MODELS_DIR: process.env.IMGPIPE_MODELS_DIR });

/** An NCHW float tensor of real pixels scaled to [-1, 1]: a photo, or a line of text for the recognisers. */
async function pixels(kind: 'photo' | 'line', width: number, height: number): Promise<ort.Tensor> {
  const input =
    kind === 'photo'
      ? sharp(readShared('images', 'photos', 'horses.jpg'))
      : sharp(
          Buffer.from(
            `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#f4f1e8"/><text x="6" y="${height * 0.75}" font-family="DejaVu Sans" font-size="${height * 0.7}" fill="#222">Invoice 2024-0173 due 12 March</text></svg>`,
          ),
        );
  const { data } = await input
    .resize(width, height, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const plane = width * height;
  const tensor = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) tensor[c * plane + i] = data[i * 3 + c]! / 127.5 - 1;
  return new ort.Tensor('float32', tensor, [1, 3, height, width]);
}

async function modelBytes(name: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile((await resolveModel(name, modelsDir)).path));
}

async function outputs(bytes: Uint8Array, input: ort.Tensor): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const result = await session.run({ [session.inputNames[0]!]: input });
    return session.outputNames.map((name) => Float32Array.from(result[name]!.data as Float32Array));
  } finally {
    await session.release();
  }
}

/** Nodes of these op types in the model's graph. */
function count(bytes: Uint8Array, ...opTypes: string[]): number {
  return readOnnxGraph(bytes).nodes.filter((node) => opTypes.includes(node.opType)).length;
}

const PP_OCR = [
  { model: 'ppocr-v4-det', kind: 'photo', width: 640, height: 480 },
  { model: 'ppocr-v4-rec', kind: 'line', width: 640, height: 48 },
  { model: 'ppocr-v2-cls', kind: 'line', width: 192, height: 48 },
  { model: 'ppocr-v5-det', kind: 'photo', width: 640, height: 480 },
  { model: 'ppocr-v5-rec', kind: 'line', width: 640, height: 48 },
] as const;

describe('simplifyGraph', () => {
  for (const { model, kind, width, height } of PP_OCR) {
    test(`${model}: the same outputs from fewer nodes`, async () => {
      const original = await modelBytes(model);
      const simplified = simplifyGraph(original);
      const input = await pixels(kind, width, height);
      const [expected, actual] = [await outputs(original, input), await outputs(simplified.bytes, input)];
      assert.equal(actual.length, expected.length);
      for (const [i, want] of expected.entries()) {
        const got = actual[i]!;
        assert.equal(got.length, want.length);
        let worst = 0;
        let scale = 0;
        for (let j = 0; j < want.length; j++) {
          worst = Math.max(worst, Math.abs(got[j]! - want[j]!));
          scale = Math.max(scale, Math.abs(want[j]!));
        }
        assert.ok(scale > 0, 'the model responded to the pixels');
        // Float32 rounding after 60-odd layers: about 1e-4 of a detector's probabilities (thresholded at 0.3).
        assert.ok(worst <= 1e-3 * Math.max(1, scale), `output ${i} moved by ${worst} (largest value ${scale})`);
      }
      const elementwise = ['Mul', 'Add', 'Sub', 'Div', 'Clip'];
      const { foldedIntoProducer, hardSwish, foldedIntoConsumer } = simplified.rewrites;
      assert.ok(foldedIntoProducer + hardSwish + foldedIntoConsumer > 0);
      assert.ok(
        count(simplified.bytes, ...elementwise) < count(original, ...elementwise),
        `${count(simplified.bytes, ...elementwise)} element-wise nodes, against ${count(original, ...elementwise)}`,
      );
      assert.equal(count(simplified.bytes, 'Clip'), count(original, 'Clip') - (hardSwish > 0 ? hardSwish : 0));
    });
  }

  test('the recogniser reads the same characters, step by step', async () => {
    const original = await modelBytes('ppocr-v4-rec');
    const input = await pixels('line', 960, 48);
    const [want] = await outputs(original, input);
    const [got] = await outputs(simplifyGraph(original).bytes, input);
    const classes = 6625;
    const argmax = (data: Float32Array, step: number) => {
      let best = 0;
      for (let c = 1; c < classes; c++) if (data[step * classes + c]! > data[step * classes + best]!) best = c;
      return best;
    };
    const steps = want!.length / classes;
    const differing = Array.from({ length: steps }, (_, s) => argmax(want!, s) !== argmax(got!, s)).filter(Boolean);
    assert.equal(differing.length, 0);
    assert.ok(new Set(Array.from({ length: steps }, (_, s) => argmax(want!, s))).size > 10, 'it read characters');
  });

  test('a graph read and written back unchanged is the same bytes', async () => {
    for (const model of ['ppocr-v4-rec', 'ppocr-v5-det']) {
      const original = await modelBytes(model);
      assert.ok(Buffer.from(writeOnnxGraph(readOnnxGraph(original))).equals(Buffer.from(original)), model);
    }
  });

  for (const file of ['yolox_nano.onnx', 'yunet_n_dynamic.onnx']) {
    test(`${file}: nothing to fold, returned byte for byte`, async () => {
      const original = new Uint8Array(await readFile(join(sharedModelsDir(), file)));
      const simplified = simplifyGraph(original);
      assert.deepEqual(simplified.rewrites, { foldedIntoProducer: 0, hardSwish: 0, foldedIntoConsumer: 0 });
      assert.equal(simplified.bytes, original);
    });
  }
});
