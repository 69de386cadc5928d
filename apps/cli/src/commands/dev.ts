import { parseArgs } from 'node:util';
import { STAGES } from '@imgpipe/contracts';
import { type Command, EXIT } from '../command.ts';
import { devProcesses } from '../service-registry.ts';
import { readableLogLine, type RunningService, startService } from '../supervisor.ts';

const HELP = `Usage: imgpipe dev [--no-api] [--json-logs]

Runs every pipeline worker (${STAGES.join(', ')}), the results service and the HTTP API against the local stack
('imgpipe stack up' first), each as its own process (each stage its own consumer group), with their logs combined.
Health and metrics: worker i serves on port 9464+i (preprocess 9464, detect 9465, ... results 9469); the API
listens on IMGPIPE_API_PORT (default 8080). Ctrl-C stops them all gracefully.

Options:
  --no-api      leave the HTTP API out
  --json-logs   print the services' JSON log lines as they are`;

const COLOURS = ['36', '35', '34', '33', '32', '96', '95'];

export const command: Command = {
  summary: 'Run every worker, the results service and the HTTP API locally',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        'json-logs': { type: 'boolean', default: false },
        'no-api': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    const colour = process.stdout.isTTY === true;
    const specs = devProcesses({ api: !values['no-api'] });
    const width = Math.max(...specs.map((spec) => spec.name.length));
    const services: RunningService[] = specs.map((spec, index) => {
      const prefix = spec.name.padEnd(width);
      const painted = colour ? `\x1b[${COLOURS[index % COLOURS.length]}m${prefix}\x1b[0m` : prefix;
      return startService({ ...spec, env: { IMGPIPE_HTTP_PORT: String(9464 + index) } }, (_name, line) => {
        console.log(`${painted} | ${values['json-logs'] ? line : readableLogLine(line, colour)}`);
      });
    });
    const stopAll = () => Promise.all(services.map((service) => service.stop()));
    const firstExit = Promise.race(services.map((service) => service.exited.then(() => service)));
    const signalled = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    const winner = await Promise.race([signalled.then(() => undefined), firstExit]);
    if (winner) console.error(`imgpipe dev: ${winner.spec.name} exited; stopping the others`);
    await stopAll();
    return winner ? EXIT.failure : EXIT.ok;
  },
};
