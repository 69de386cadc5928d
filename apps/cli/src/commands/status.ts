import { STAGES } from '@imgpipe/contracts';
import { type Command, EXIT } from '../command.ts';
import { runImageCommand } from '../image-lookup.ts';

const HELP = `Usage: imgpipe status <imageId> [--tenant <id>] [--json]

Shows an image's overall status and each stage's status, with error codes. Exit code: 0 when the image is completed,
1 when it failed or is partial, 3 while it is still pending, 4 when no such image exists for the tenant.`;

export const command: Command = {
  summary: "Show an image's status",
  run: (argv) =>
    runImageCommand('status', argv, HELP, (view, { json, from }) => {
      if (json) {
        console.log(
          JSON.stringify({ imageId: view.imageId, status: view.status, error: view.error, stages: view.stages, from }),
        );
      } else {
        console.log(
          `${view.imageId}  ${view.status}${view.error ? `  ${view.error.code}: ${view.error.message}` : ''}`,
        );
        for (const stage of STAGES) {
          const report = view.stages[stage];
          const detail = report.error ? `  ${report.error.code}: ${report.error.message}` : '';
          const took = report.durationMs !== undefined ? `  ${report.durationMs} ms` : '';
          console.log(`  ${stage.padEnd(10)} ${report.status}${took}${detail}`);
        }
      }
      if (view.status === 'pending') return 3;
      return view.status === 'completed' ? EXIT.ok : EXIT.failure;
    }),
};
