import { parseArgs } from 'node:util';
import { STAGES } from '@imgpipe/contracts';
import { type Command, EXIT } from '../command.ts';
import { lookUpImage } from '../image-lookup.ts';

const HELP = `Usage: imgpipe status <imageId> [--tenant <id>] [--json]

Shows an image's overall status and each stage's status, with error codes. Exit code: 0 when the image is completed,
1 when it failed or is partial, 3 while it is still pending, 4 when no such image exists for the tenant.`;

export const command: Command = {
  summary: "Show an image's status",
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
    const { view, from } = await lookUpImage(values.tenant, imageId);
    if (!view) {
      if (values.json) console.log(JSON.stringify({ imageId, error: { code: 'RESOURCE_NOT_FOUND' } }));
      else console.error(`imgpipe status: no image ${imageId} for tenant ${values.tenant}`);
      return 4;
    }
    if (values.json) {
      console.log(JSON.stringify({ imageId, status: view.status, error: view.error, stages: view.stages, from }));
    } else {
      console.log(`${imageId}  ${view.status}${view.error ? `  ${view.error.code}: ${view.error.message}` : ''}`);
      for (const stage of STAGES) {
        const report = view.stages[stage];
        const detail = report.error ? `  ${report.error.code}: ${report.error.message}` : '';
        const took = report.durationMs !== undefined ? `  ${report.durationMs} ms` : '';
        console.log(`  ${stage.padEnd(10)} ${report.status}${took}${detail}`);
      }
    }
    if (view.status === 'pending') return 3;
    return view.status === 'completed' ? EXIT.ok : EXIT.failure;
  },
};
