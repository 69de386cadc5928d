import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ImgpipeError } from '@imgpipe/core';
import {
  applyRecipe,
  type DetectionSource,
  detectionNeedsOf,
  loadTransformLimits,
  parseRecipe,
  type Recipe,
  validateRecipe,
} from '@imgpipe/imaging';
import { UsageError, wholeNumber } from '../cli-args.ts';
import { type Command, EXIT } from '../command.ts';
import { IMAGE_EXTENSIONS } from '../image-files.ts';
import { createProgress } from '../progress.ts';

const HELP = `Usage: imgpipe transform <files or folders...> --recipe <recipe> [options]

Applies a recipe of image operations to each image, in this process (no services needed), and writes the results.
Folders are searched recursively for .jpg .jpeg .png .webp .avif .gif .tif .tiff files.

The recipe is the string form (resize:800x600:cover/sharpen/format:webp:80), JSON ({"ops":[...]}), or @file
holding either. Grammar and every operation: docs/transform.md.

Options:
  --recipe <recipe>    the recipe, as a string, JSON or @file (--ops is the same option)
  --out <dir>          where to write (default: the current folder); a folder's images keep their sub-folders
  --accept <types>     the Accept header format:auto chooses by (default: image/avif,image/webp)
  --concurrency <n>    images transformed at once (default 2)
  --json               one object per line and image: file, output, format, width, height, bytes (or error)
  -h, --help           this help

crop:faces and crop:objects detect faces and objects in each image first, with the models in IMGPIPE_MODELS_DIR
('imgpipe models fetch' fills it). Limits come from IMGPIPE_MAX_IMAGE_BYTES, IMGPIPE_MAX_IMAGE_PIXELS and the
IMGPIPE_TRANSFORM_MAX_* variables.
Exit code 0 when every image was written, 1 when any failed (each failure's code on stderr), 2 for usage errors
(a malformed recipe among them).`;

export const command: Command = {
  summary: 'Apply a recipe of image operations (resize, crop, filters, formats) to files or folders',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        recipe: { type: 'string' },
        ops: { type: 'string' },
        out: { type: 'string', default: '.' },
        accept: { type: 'string', default: 'image/avif,image/webp' },
        concurrency: { type: 'string', default: '2' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (values.recipe !== undefined && values.ops !== undefined)
      throw new UsageError('give --recipe or --ops, not both');
    const recipeText = values.recipe ?? values.ops;
    if (recipeText === undefined || positionals.length === 0) {
      console.error(HELP);
      return EXIT.usage;
    }
    const concurrency = wholeNumber('--concurrency', values.concurrency, 1);
    const limits = loadTransformLimits();
    const recipe = await readRecipe(recipeText, limits);
    const inputs = await listInputs(positionals);
    if (inputs.length === 0) {
      console.error('imgpipe transform: no image files found');
      return EXIT.usage;
    }
    const outDir = resolve(values.out);
    const targets = outputPaths(inputs, outDir);
    const detections = detectionSource(recipe);

    const progress = createProgress({ total: inputs.length > 1 ? inputs.length : 0, unit: 'images' });
    const lines: (string | undefined)[] = [];
    let printed = 0;
    const emit = (index: number, text: string) => {
      lines[index] = text;
      progress.printAbove(() => {
        while (lines[printed] !== undefined) console.log(lines[printed++]);
      });
    };
    const failures: { file: string; code: string }[] = [];
    let next = 0;
    try {
      await Promise.all(
        Array.from({ length: Math.min(concurrency, inputs.length) }, async () => {
          while (next < inputs.length) {
            const index = next++;
            const { file } = inputs[index]!;
            try {
              const bytes = await readFile(file);
              const result = await applyRecipe(bytes, recipe, {
                limits,
                accept: values.accept,
                ...(detections ? { detections: (needs) => detections.detect(bytes, needs) } : {}),
              });
              const output = `${targets[index]}.${result.format === 'jpeg' ? 'jpg' : result.format}`;
              await mkdir(dirname(output), { recursive: true });
              await writeFile(output, result.bytes);
              const { width, height, format } = result;
              emit(
                index,
                values.json
                  ? JSON.stringify({ file, output, format, width, height, bytes: result.bytes.length })
                  : `${file} -> ${output}  ${width}x${height} ${format} ${result.bytes.length} bytes`,
              );
            } catch (error) {
              const failure =
                error instanceof ImgpipeError ? error : new ImgpipeError('TRANSFORM_FAILED', String(error));
              failures.push({ file, code: failure.code });
              emit(
                index,
                values.json
                  ? JSON.stringify({ file, error: { code: failure.code, message: failure.message } })
                  : `${file}  error  ${failure.code}: ${failure.message}`,
              );
            }
            progress.tick();
          }
        }),
      );
    } finally {
      progress.done();
      await detections?.close();
    }
    for (const failure of failures) console.error(`imgpipe transform: ${failure.file}: ${failure.code}`);
    return failures.length > 0 ? EXIT.failure : EXIT.ok;
  },
};

/** The recipe from the option: @file, JSON or the string form. A malformed recipe is a usage error (exit 2). */
async function readRecipe(text: string, limits: ReturnType<typeof loadTransformLimits>): Promise<Recipe> {
  let source = text;
  if (text.startsWith('@')) {
    source = await readFile(text.slice(1), 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`--recipe ${text}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
    });
  }
  try {
    return validateRecipe(parseRecipe(source), limits);
  } catch (error) {
    if (error instanceof ImgpipeError) throw new UsageError(`${error.code}: ${error.message}`);
    throw error;
  }
}

interface Input {
  file: string;
  /** The folder argument it was found in, when it came from one. */
  root?: string;
}

async function listInputs(paths: readonly string[]): Promise<Input[]> {
  const inputs: Input[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`${path}: ${error.code === 'ENOENT' ? 'no such file or folder' : error.message}`);
    });
    if (!info.isDirectory()) {
      inputs.push({ file: path });
      continue;
    }
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    inputs.push(
      ...entries
        .filter((entry) => entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()))
        .map((entry) => join(entry.parentPath, entry.name))
        .sort()
        .map((file) => ({ file, root: path })),
    );
  }
  return inputs;
}

/**
 * Where each result goes, without its extension (the output format decides it): a folder's images keep their
 * sub-folders under --out, files named directly go to --out itself. Never onto an input, never twice to one name.
 */
function outputPaths(inputs: readonly Input[], outDir: string): string[] {
  const taken = new Set(inputs.map((input) => resolve(input.file).replace(/\.[^./]+$/, '')));
  const used = new Set<string>();
  return inputs.map((input) => {
    const relativePath = input.root ? relative(input.root, input.file) : basename(input.file);
    const stem = join(outDir, relativePath.replace(/\.[^./]+$/, ''));
    let target = taken.has(stem) ? `${stem}.transformed` : stem;
    for (let n = 2; used.has(target); n++) target = `${stem}-${n}`;
    used.add(target);
    return target;
  });
}

interface DetectionRunner {
  detect(bytes: Uint8Array, needs: Parameters<DetectionSource>[0]): ReturnType<DetectionSource>;
  close(): Promise<void>;
}

/** For crop:faces and crop:objects: the vision models, run in this process (loaded only when a recipe needs them). */
function detectionSource(recipe: Recipe): DetectionRunner | undefined {
  const needs = detectionNeedsOf(recipe);
  if (!needs.faces && !needs.objects) return undefined;
  let vision: Promise<import('@imgpipe/vision').Vision> | undefined;
  const load = () => {
    vision ??= import('@imgpipe/vision').then(({ createVision }) => createVision({ workers: 0 }));
    return vision;
  };
  return {
    async detect(bytes, wanted) {
      const engine = await load();
      const { derivatives } = await engine.preprocess(bytes);
      const box = ({ x, y, width, height }: { x: number; y: number; width: number; height: number }) => ({
        left: x,
        top: y,
        width,
        height,
      });
      const [faces, objects] = await Promise.all([
        wanted.faces ? engine.detectFaces(derivatives.normalized) : undefined,
        wanted.objects ? engine.detectObjects(derivatives.normalized) : undefined,
      ]);
      return {
        ...(faces ? { faces: faces.faces.map((face) => ({ ...box(face.box), score: face.confidence })) } : {}),
        ...(objects
          ? {
              objects: objects.objects.map((object) => ({
                ...box(object.box),
                label: object.label,
                score: object.confidence,
              })),
            }
          : {}),
      };
    },
    async close() {
      if (vision) await (await vision).close();
    },
  };
}
