import { parseArgs } from 'node:util';
import { type Command, EXIT } from '../command.ts';
import { lookUpImage } from '../image-lookup.ts';
import { formatAnalysis } from '../format-analysis.ts';

const HELP = `Usage: imgpipe results <imageId> [--tenant <id>] [--json]

Shows an image's results: labels, objects, faces and text, with each stage's status. --json prints the whole
result object (the result contract documented in docs/results.md). Exit code 4 when no such image exists.`;

export const command: Command = {
  summary: "Show an image's results",
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tenant: { type: 'string', default: 'default' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [imageId] = positionals;
    if (values.help || !imageId) {
      console.log(HELP);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    const { view } = await lookUpImage(values.tenant, imageId);
    if (!view) {
      if (values.json) console.log(JSON.stringify({ imageId, error: { code: 'RESOURCE_NOT_FOUND' } }));
      else console.error(`imgpipe results: no image ${imageId} for tenant ${values.tenant}`);
      return 4;
    }
    console.log(values.json ? JSON.stringify(view) : formatAnalysis(view.sourceName ?? imageId, view));
    return EXIT.ok;
  },
};
