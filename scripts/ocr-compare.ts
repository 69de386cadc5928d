/**
 * imgpipe's OCR against RapidOCR on the same generated images (packages/vision/src/ocr/synthetic-text.ts), by kind:
 * (a) small print on a 3000 x 2250 photo; (b) a text block turned 90, 180 and 270 degrees; (c) a label at low
 * contrast, with salt-and-pepper noise, blurred, or as JPEG quality 30; (d) dense pages of one and two columns at
 * 20 and 24 px; (e) Chinese signs on photos. Everything random is seeded, so every run reads the same images.
 *
 * Prints two measures of speed, both with CER, misreads on stderr:
 *
 * 1. Per image, per model set: a table of CER per kind and milliseconds per image (median per kind, total over all
 *    images) with the ratio. Both engines are warm (each reads a warm-up image first, left out) and read one image
 *    at a time, taking turns image by image (so load from other work hits both alike), with onnxruntime's threads
 *    over the machine's CPUs (RapidOCR's default; imgpipe's in-process pipeline, as `imgpipe analyze --workers 1`
 *    runs it, so its one vision worker gets every CPU as intra-op threads). imgpipe's time is its preprocess stage
 *    plus its OCR stage (`durationMs`: decoding, the normalised copy, OCR, the code search); RapidOCR's is one
 *    `engine(path)` call (decoding and OCR).
 * 2. Folder runs (`--rounds`, default 2; `--no-per-image` runs only these): images/s of each tool run as its users
 *    run it over the whole set, in a fresh process each time, start-up and model loading included: `imgpipe analyze
 *    --analyses ocr --json` with its defaults (two images at once, one vision worker per CPU, one onnxruntime thread
 *    each) and RapidOCR's script over the same paths (one image at a time, onnxruntime's threads over every CPU, as
 *    RapidOCR ships). The rounds alternate which engine goes first.
 *
 *   node scripts/ocr-compare.ts --python /tmp/venv/bin/python [--sets ppocr-v4,ppocr-v5] [--kinds small,dense]
 *     [--workers 1] [--rounds 2] [--no-per-image] [--out DIR] [--shared DIR]
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { createVisionEngine, InProcessPipeline } from '@imgpipe/stages';
import { createLogger } from '@imgpipe/telemetry';
import { type CerCount, characterErrorRate, countErrors } from '../packages/vision/src/ocr/character-error-rate.ts';
import {
  type Degradation,
  degraded,
  densePage,
  labelOnPhoto,
  signOnPhoto,
  turned,
} from '../packages/vision/src/ocr/synthetic-text.ts';

const { values } = parseArgs({
  options: {
    python: { type: 'string' },
    out: { type: 'string' },
    shared: { type: 'string' },
    sets: { type: 'string' },
    kinds: { type: 'string' },
    workers: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    'per-image': { type: 'boolean', default: true },
  },
  allowNegative: true,
});
if (!values.python) throw new Error('--python is required (the venv with rapidocr-onnxruntime)');
const root = fileURLToPath(new URL('..', import.meta.url));
const shared = values.shared ?? join(root, '..', 'shared');
const out = values.out ?? join(tmpdir(), 'imgpipe-ocr-compare');
mkdirSync(out, { recursive: true });
const sets = (values.sets ?? process.env.IMGPIPE_OCR_MODEL_SET ?? 'ppocr-v4').split(',').filter(Boolean);
const kindFilter = values.kinds?.split(',').filter(Boolean);

const LABELS = [
  ['Invoice 2024-0173 due 12 March', 'Total EUR 1,284.50 paid by card', 'Ref QX-77 Hamburg Nord'],
  ['Platform 7 closed until 18:40', 'Use the north exit'],
  ['Batch L2291 best before 03/2027', 'Store below 25 C', 'Net weight 450 g'],
];
const PHOTOS = ['giraffe.jpg', 'horses.jpg', 'dog.jpg'];
const DEGRADATIONS: [Degradation, string][] = [
  ['low-contrast', 'low contrast (0.25)'],
  ['salt-and-pepper', 'salt-and-pepper noise (4%)'],
  ['blur', 'blur (sigma 1.6)'],
  ['jpeg-30', 'JPEG quality 30'],
];
const SIGNS: { lines: string[]; background: string; foreground: string }[] = [
  { lines: ['安全出口'], background: '#1f7a3a', foreground: '#ffffff' },
  { lines: ['小心地滑'], background: '#f2c200', foreground: '#111111' },
  { lines: ['停车场入口', '限高2.2米'], background: '#1d4f91', foreground: '#ffffff' },
  { lines: ['地铁站', '2号出口'], background: '#b22222', foreground: '#ffffff' },
  { lines: ['请勿触摸展品'], background: '#ffffff', foreground: '#222222' },
  { lines: ['欢迎光临', '本店周一休息'], background: '#8b1a1a', foreground: '#ffe9a8' },
  { lines: ['前方施工', '车辆慢行'], background: '#e07b00', foreground: '#111111' },
  { lines: ['营业时间', '9:00-21:00'], background: '#2f2f2f', foreground: '#ffffff' },
];

interface Item {
  kind: string;
  file: string;
  truth: string[];
}
const items: Item[] = [];
const wanted = (kind: string) => !kindFilter || kindFilter.some((k) => kind.includes(k));
const add = async (kind: string, name: string, truth: string[], render: () => Promise<Uint8Array>) => {
  if (!wanted(kind)) return;
  const file = join(out, name);
  writeFileSync(file, await render());
  items.push({ kind, file, truth });
};

const photos = PHOTOS.map((name) => readFileSync(join(shared, 'images', 'photos', name)));
// (a) small print and (b) turned
for (const [i, lines] of LABELS.entries()) {
  for (const fontSize of [20, 24, 28]) {
    await add('small print, 20-28 px on 3000x2250', `small-${i}-${fontSize}.jpg`, lines, () =>
      labelOnPhoto(
        photos[i]!,
        { width: 3000, height: 2250 },
        { lines, fontSize, left: 400 + 500 * i, top: 600 + 400 * i },
      ),
    );
  }
  const upright = await labelOnPhoto(
    photos[i]!,
    { width: 1200, height: 900 },
    { lines, fontSize: 28, left: 150, top: 250 },
  );
  for (const degrees of [90, 180, 270] as const) {
    await add(`turned ${degrees}`, `turned-${i}-${degrees}.png`, lines, () => turned(upright, degrees));
  }
}
// (c) degraded: the labels at 26 px on a 1200 x 900 photo
for (const [i, lines] of LABELS.entries()) {
  const clean = await labelOnPhoto(
    photos[i]!,
    { width: 1200, height: 900 },
    { lines, fontSize: 26, left: 200, top: 300 },
  );
  for (const [how, kind] of DEGRADATIONS) {
    const ext = how === 'jpeg-30' ? 'jpg' : 'png';
    await add(kind, `degraded-${i}-${how}.${ext}`, lines, () => degraded(clean, how, 13 + i));
  }
}
// (d) dense pages, A4 at 150 dpi
for (const columns of [1, 2] as const) {
  for (const fontSize of [20, 24]) {
    const kind = `dense page, ${columns === 1 ? 'one column' : 'two columns'}, 20/24 px`;
    if (!wanted(kind)) continue;
    const page = await densePage({ width: 1240, height: 1754, fontSize, columns, seed: 100 * columns + fontSize });
    await add(kind, `dense-${columns}col-${fontSize}.png`, page.lines, async () => page.bytes);
  }
}
// (e) Chinese signs, 40-56 px, on 1200 x 900 photos
const SIGN_PHOTOS = ['kite.jpg', 'person.jpg', 'eagle.jpg', 'horses.jpg'].map((name) =>
  readFileSync(join(shared, 'images', 'photos', name)),
);
for (const [i, sign] of SIGNS.entries()) {
  await add('Chinese signs, 40-56 px', `sign-${i}.jpg`, sign.lines, () =>
    signOnPhoto(
      SIGN_PHOTOS[i % SIGN_PHOTOS.length]!,
      { width: 1200, height: 900 },
      { ...sign, fontSize: 40 + 8 * (i % 3), left: 120 + 90 * i, top: 150 + 70 * i },
    ),
  );
}
if (items.length === 0) throw new Error(`no kind matches --kinds ${values.kinds}`);

// Each engine reads this first, untimed: model sessions are created and warmed before the timed images.
const warmUp = join(out, 'warm-up.jpg');
writeFileSync(
  warmUp,
  await labelOnPhoto(
    photos[0]!,
    { width: 800, height: 600 },
    { lines: ['Warm up'], fontSize: 28, left: 100, top: 100 },
  ),
);
const files = items.map((i) => i.file);

interface Read {
  lines: string[];
  ms: number;
}

/** RapidOCR in one Python process, asked one path at a time (stdin), so its runs interleave with imgpipe's. */
const python = spawn(values.python, [join(root, 'scripts/ocr-compare.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
const answers = createInterface({ input: python.stdout })[Symbol.asyncIterator]();
async function rapidOcr(file: string): Promise<Read> {
  python.stdin.write(`${file}\n`);
  const next = await answers.next();
  if (next.done) throw new Error('RapidOCR stopped');
  const row = JSON.parse(next.value);
  return { lines: row.lines, ms: row.ms };
}

// imgpipe in this process: the pipeline `imgpipe analyze` runs (preprocess, then the OCR stage), one image at a time.
const vision = await createVisionEngine({ workers: Number(values.workers), inProcess: true });
const pipeline = new InProcessPipeline(vision, createLogger('ocr-compare', 'silent'));
async function imgpipe(file: string, set: string): Promise<Read> {
  const analysis = await pipeline.analyze({
    bytes: readFileSync(file),
    sourceName: basename(file),
    analyses: ['ocr'],
    ocrModel: set,
  });
  const { preprocess, ocr } = analysis.stages;
  if (ocr?.status !== 'completed' || preprocess?.status !== 'completed') {
    console.error(`imgpipe (${set}) failed on ${file}: ${JSON.stringify(analysis.stages)}`);
    return { lines: [], ms: Number.NaN };
  }
  return { lines: analysis.text.lines.map((l) => l.text), ms: (preprocess.durationMs ?? 0) + (ocr.durationMs ?? 0) };
}

// Warm up (untimed), then each image by RapidOCR and by each set in turn, so load from other work hits both alike.
const perImage = values['per-image'];
const rapid = new Map<string, Read>();
const ours = new Map<string, Map<string, Read>>(sets.map((set) => [set, new Map()]));
if (perImage) {
  await rapidOcr(warmUp);
  for (const set of sets) await imgpipe(warmUp, set);
  for (const file of files) {
    rapid.set(file, await rapidOcr(file));
    for (const set of sets) ours.get(set)!.set(file, await imgpipe(file, set));
  }
}
python.stdin.end();
await vision.close();

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const percent = (counts: CerCount[]) => `${(100 * characterErrorRate(counts)).toFixed(1)}%`;
const kinds = [...new Set(items.map((i) => i.kind))];
const missing: Read = { lines: [], ms: Number.NaN };

for (const set of perImage ? sets : []) {
  const reads = ours.get(set)!;
  for (const [who, byFile] of [
    [`imgpipe ${set}`, reads],
    ['RapidOCR', rapid],
  ] as const) {
    for (const item of items) {
      const read = byFile.get(item.file) ?? missing;
      const count = countErrors(item.truth, read.lines);
      if (count.edits === 0) continue;
      if (item.truth.length <= 6) {
        console.error(`${who} misread ${item.file}: ${JSON.stringify(read.lines)}`);
        continue;
      }
      // A page: the edit count, and the lines read that are not lines of the truth (the first few).
      const truth = new Set(item.truth);
      const wrong = read.lines.filter((l) => !truth.has(l.replace(/\s+/g, ' ').trim()));
      console.error(
        `${who} misread ${item.file}: ${count.edits} edits in ${count.referenceLength} characters, ` +
          `${read.lines.length} lines read of ${item.truth.length}; not in the truth (${wrong.length}): ` +
          JSON.stringify(wrong.slice(0, 6)),
      );
    }
  }
  console.log(`\nimgpipe with ${set} (${values.workers} vision worker) against RapidOCR:\n`);
  console.log(
    '| images | n | imgpipe CER | RapidOCR CER | imgpipe ms (median) | RapidOCR ms (median) | RapidOCR / imgpipe |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const row = (label: string, group: Item[], ms: (xs: number[]) => number) => {
    const a = group.map((i) => reads.get(i.file) ?? missing);
    const b = group.map((i) => rapid.get(i.file) ?? missing);
    const oursMs = ms(a.map((r) => r.ms));
    const theirsMs = ms(b.map((r) => r.ms));
    console.log(
      `| ${label} | ${group.length} | ${percent(group.map((i, k) => countErrors(i.truth, a[k]!.lines)))} | ` +
        `${percent(group.map((i, k) => countErrors(i.truth, b[k]!.lines)))} | ${Math.round(oursMs)} | ` +
        `${Math.round(theirsMs)} | ${(theirsMs / oursMs).toFixed(2)}x |`,
    );
  };
  for (const kind of kinds)
    row(
      kind,
      items.filter((i) => i.kind === kind),
      median,
    );
  row('**all images, total ms**', items, sum);
}

// Folder runs (measure 2 of the header).
const rounds = Number(values.rounds);
const execute = promisify(execFile);
async function timed(command: string, args: string[]): Promise<{ seconds: number; stdout: string }> {
  const started = performance.now();
  const { stdout } = await execute(command, args, { maxBuffer: 256 * 1024 * 1024 });
  return { seconds: (performance.now() - started) / 1000, stdout };
}
const jsonLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
async function folderRapidOcr(): Promise<Map<string, string[]>> {
  const { seconds, stdout } = await timed(values.python!, [join(root, 'scripts/ocr-compare.py'), ...files]);
  folderSeconds.get('RapidOCR')!.push(seconds);
  return new Map(jsonLines(stdout).map((row) => [row.file as string, row.lines as string[]]));
}
async function folderImgpipe(set: string): Promise<Map<string, string[]>> {
  const cli = join(root, 'apps/cli/bin/imgpipe.js');
  const args = [cli, 'analyze', '--analyses', 'ocr', '--json', '--ocr-model', set, ...files];
  const { seconds, stdout } = await timed(process.execPath, args);
  folderSeconds.get(`imgpipe ${set}`)!.push(seconds);
  return new Map(
    jsonLines(stdout).map((row) => [row.file as string, (row.text.lines as { text: string }[]).map((l) => l.text)]),
  );
}
const engines = ['RapidOCR', ...sets.map((set) => `imgpipe ${set}`)];
const folderSeconds = new Map<string, number[]>(engines.map((who) => [who, []]));
const folderReads = new Map<string, Map<string, string[]>>();
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? engines : [...engines].reverse();
  for (const who of order) {
    const reads = who === 'RapidOCR' ? await folderRapidOcr() : await folderImgpipe(who.slice('imgpipe '.length));
    folderReads.set(who, reads);
  }
}
if (rounds > 0) {
  console.log(
    `\nFolder runs: ${files.length} images, each engine in a fresh process per round (start-up included), ` +
      `${rounds} rounds alternating which goes first; imgpipe as \`imgpipe analyze --analyses ocr --json\` runs ` +
      'by default, RapidOCR one image at a time:\n',
  );
  console.log('| engine | CER | seconds per round | images/s (median round) | images/s / RapidOCR |');
  console.log('| --- | --- | --- | --- | --- |');
  const rate = (who: string) => files.length / median(folderSeconds.get(who)!);
  for (const who of engines) {
    const reads = folderReads.get(who)!;
    const cer = percent(items.map((i) => countErrors(i.truth, reads.get(i.file) ?? [])));
    const seconds = folderSeconds
      .get(who)!
      .map((s) => s.toFixed(1))
      .join(', ');
    const ratio = who === 'RapidOCR' ? '' : `**${(rate(who) / rate('RapidOCR')).toFixed(2)}x**`;
    console.log(`| ${who} | ${cer} | ${seconds} | ${rate(who).toFixed(2)} | ${ratio} |`);
  }
  // Round by round too: within a round the engines ran one after the other, not interleaved, so the spread says how
  // much the machine's speed moved between them.
  for (const who of engines.slice(1)) {
    const ratios = folderSeconds.get(who)!.map((s, k) => (folderSeconds.get('RapidOCR')![k]! / s).toFixed(2));
    console.log(`\n${who}: images/s / RapidOCR's, round by round: ${ratios.join(', ')}`);
  }
}
