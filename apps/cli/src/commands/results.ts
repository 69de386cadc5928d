import { type Command, EXIT } from '../command.ts';
import { formatAnalysis } from '../format-analysis.ts';
import { runImageCommand } from '../image-lookup.ts';

const HELP = `Usage: imgpipe results <imageId> [--tenant <id>] [--json]

Shows an image's results: labels, objects, faces and text, with each stage's status. --json prints the whole
result object (the result contract, docs/results.md). Exit code 4 when no such image exists for the tenant.`;

export const command: Command = {
  summary: "Show an image's results",
  run: (argv) =>
    runImageCommand('results', argv, HELP, (view, { json }) => {
      console.log(json ? JSON.stringify(view) : formatAnalysis(view.sourceName ?? view.imageId, view));
      return EXIT.ok;
    }),
};
