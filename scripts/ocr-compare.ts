/**
 * imgpipe's OCR against RapidOCR on the same generated images (packages/vision/src/ocr/synthetic-text.ts), by kind:
 * small print on a 3000 x 2250 photo, and a text block turned 90, 180 and 270 degrees. Prints CER per kind and the
 * median milliseconds per image for both. Run through scripts/ocr-compare.sh, which provides RapidOCR.
 *
 *   node scripts/ocr-compare.ts --python /tmp/venv/bin/python [--out DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { characterErrorRate, countErrors } from '../packages/vision/src/ocr/character-error-rate.ts';
import { labelOnPhoto, turned } from '../packages/vision/src/ocr/synthetic-text.ts';

const { values } = parseArgs({
  options: { python: { type: 'string' }, out: { type: 'string' }, shared: { type: 'string' } },
});
if (!values.python) throw new Error('--python is required (the venv with rapidocr-onnxruntime)');
const root = fileURLToPath(new URL('..', import.meta.url));
const shared = values.shared ?? join(root, '..', 'shared');
const out = values.out ?? join(tmpdir(), 'imgpipe-ocr-compare');
mkdirSync(out, { recursive: true });

const LABELS = [
  ['Invoice 2024-0173 due 12 March', 'Total EUR 1,284.50 paid by card', 'Ref QX-77 Hamburg Nord'],
  ['Platform 7 closed until 18:40', 'Use the north exit'],
  ['Batch L2291 best before 03/2027', 'Store below 25 C', 'Net weight 450 g'],
];
const PHOTOS = ['giraffe.jpg', 'horses.jpg', 'dog.jpg'];

interface Item {
  kind: string;
  file: string;
  truth: string[];
}
const items: Item[] = [];
for (const [i, lines] of LABELS.entries()) {
  const photo = readFileSync(join(shared, 'images', 'photos', PHOTOS[i]!));
  for (const fontSize of [20, 24, 28]) {
    const file = join(out, `small-${i}-${fontSize}.jpg`);
    const bytes = await labelOnPhoto(
      photo,
      { width: 3000, height: 2250 },
      {
        lines,
        fontSize,
        left: 400 + 500 * i,
        top: 600 + 400 * i,
      },
    );
    writeFileSync(file, bytes);
    items.push({ kind: 'small print, 20-28 px on 3000x2250', file, truth: lines });
  }
  const upright = await labelOnPhoto(photo, { width: 1200, height: 900 }, { lines, fontSize: 28, left: 150, top: 250 });
  for (const degrees of [90, 180, 270] as const) {
    const file = join(out, `turned-${i}-${degrees}.png`);
    writeFileSync(file, await turned(upright, degrees));
    items.push({ kind: `turned ${degrees}`, file, truth: lines });
  }
}

function imgpipe(file: string): { lines: string[]; ms: number } {
  const stdout = execFileSync(
    process.execPath,
    [join(root, 'apps/cli/bin/imgpipe.js'), 'analyze', '--json', '--analyses', 'ocr', file],
    { env: { ...process.env, IMGPIPE_MODELS_DIR: process.env.IMGPIPE_MODELS_DIR ?? join(shared, 'models') } },
  ).toString();
  const result = JSON.parse(stdout.trim().split('\n')[0]!);
  return { lines: result.text.lines.map((l: { text: string }) => l.text), ms: result.stages.ocr.durationMs };
}

const rapid = new Map<string, { lines: string[]; ms: number }>();
const rapidOut = execFileSync(values.python, [join(root, 'scripts/ocr-compare.py'), ...items.map((i) => i.file)], {
  maxBuffer: 64 * 1024 * 1024,
}).toString();
for (const line of rapidOut.trim().split('\n')) {
  const row = JSON.parse(line);
  rapid.set(row.file, { lines: row.lines, ms: row.ms });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kinds = [...new Set(items.map((i) => i.kind))];
console.log('| images | n | imgpipe CER | RapidOCR CER | imgpipe ms (OCR stage, median) | RapidOCR ms (median) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const kind of kinds) {
  const set = items.filter((i) => i.kind === kind);
  const ours = set.map((i) => ({ item: i, read: imgpipe(i.file) }));
  const theirs = set.map((i) => ({ item: i, read: rapid.get(i.file)! }));
  for (const [who, rows] of [
    ['imgpipe', ours],
    ['RapidOCR', theirs],
  ] as const) {
    for (const { item, read } of rows) {
      if (countErrors(item.truth, read.lines).edits > 0) {
        console.error(`${who} misread ${item.file}: ${JSON.stringify(read.lines)}`);
      }
    }
  }
  const cer = (rows: { item: Item; read: { lines: string[] } }[]) =>
    (100 * characterErrorRate(rows.map((r) => countErrors(r.item.truth, r.read.lines)))).toFixed(1);
  console.log(
    `| ${kind} | ${set.length} | ${cer(ours)}% | ${cer(theirs)}% | ${median(ours.map((r) => r.read.ms))} | ${median(theirs.map((r) => r.read.ms))} |`,
  );
}
