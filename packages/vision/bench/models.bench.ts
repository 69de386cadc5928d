/**
 * What simplify-graph.ts buys: each model's bare session.run as published and as imgpipe runs it (after the exact
 * graph rewrites), in the same process, alternating rounds, one onnxruntime thread (as the vision workers run),
 * on inputs of the sizes the stages use; plus the rewrite's own time at load.
 *
 *   IMGPIPE_MODELS_DIR=~/.cache/imgpipe/models node packages/vision/bench/models.bench.ts [--rounds N] [--threads N]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { loadVisionConfig } from '../src/config.ts';
import { resolveModel, sessionOptions } from '../src/models/model-loader.ts';
import { simplifyGraph } from '../src/models/simplify-graph.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, threads: { type: 'string', default: '1' } },
});
const rounds = Number(values.rounds);
const threads = Number(values.threads);
const { modelsDir } = loadVisionConfig({ IMGPIPE_MODELS_DIR: process.env['IMGPIPE_MODELS_DIR'] });

/** [model, input shape]: the detector at a 1200 x 900 image's 960 x 736, a dense page's line, six classifier windows. */
const CASES: [string, number[]][] = [
  ['ppocr-v4-det', [1, 3, 736, 960]],
  ['ppocr-v4-rec', [1, 3, 48, 1450]],
  ['ppocr-v2-cls', [6, 3, 48, 192]],
  ['ppocr-v5-det', [1, 3, 736, 960]],
  ['ppocr-v5-rec', [1, 3, 48, 1450]],
  ['yolox-nano', [1, 3, 416, 416]],
  ['yunet-n', [1, 3, 480, 640]],
];

const options = sessionOptions(threads);

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timeRun(session: ort.InferenceSession, input: ort.Tensor): Promise<number> {
  const feeds = { [session.inputNames[0]!]: input };
  const started = performance.now();
  await session.run(feeds);
  return performance.now() - started;
}

console.log(`bare session.run, ${threads} onnxruntime thread(s), median of ${rounds} alternating rounds`);
console.log('| model | input | nodes rewritten | rewrite ms | published ms | simplified ms | simplified / published |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [name, shape] of CASES) {
  let resolved: Awaited<ReturnType<typeof resolveModel>>;
  try {
    resolved = await resolveModel(name, modelsDir);
  } catch {
    console.log(`| ${name} | not in ${modelsDir}: \`imgpipe models fetch\` | | | | | |`);
    continue;
  }
  const published = new Uint8Array(await readFile(resolved.path));
  const began = performance.now();
  const { bytes, rewrites } = simplifyGraph(published);
  const rewriteMs = performance.now() - began;
  const [a, b] = await Promise.all([
    ort.InferenceSession.create(published, options),
    ort.InferenceSession.create(bytes, options),
  ]);
  const size = shape.reduce((p, d) => p * d, 1);
  const input = new ort.Tensor(
    'float32',
    new Float32Array(size).map(() => Math.random() * 2 - 1),
    shape,
  );
  await timeRun(a, input);
  await timeRun(b, input);
  const times: [number[], number[]] = [[], []];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order) times[which]!.push(await timeRun(which === 0 ? a : b, input));
  }
  const [before, after] = [median(times[0]), median(times[1])];
  const count = rewrites.foldedIntoProducer + rewrites.hardSwish + rewrites.foldedIntoConsumer;
  console.log(
    `| ${name} | ${shape.join('x')} | ${count} | ${rewriteMs.toFixed(0)} | ${before.toFixed(1)} | ${after.toFixed(1)} | ${(after / before).toFixed(2)} |`,
  );
  await Promise.all([a.release(), b.release()]);
}
