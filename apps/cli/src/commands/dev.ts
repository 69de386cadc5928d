import { parseArgs } from 'node:util';
import { STAGES } from '@imgpipe/contracts';
import { type Command, EXIT } from '../command.ts';
import { devProcesses } from '../service-registry.ts';
import { describeSupervisorEvent, readableLogLine, supervise } from '../supervisor.ts';

const HELP = `Usage: imgpipe dev [--no-api] [--json-logs]

Runs every pipeline worker (${STAGES.join(', ')}), the results service and the HTTP API against the local stack
('imgpipe stack up' first), each as its own process (each stage its own consumer group), with their logs combined.
Health and metrics: worker i serves on port 9464+i (preprocess 9464, detect 9465, ... results 9469); the API
listens on IMGPIPE_API_PORT (default 8080).

A process that exits unexpectedly is restarted after 1 s, the delay doubling with each further restart up to 30 s
(back to 1 s once it has run for a minute); the log says which restart it is. A process that refuses its
configuration (exit 78) is not restarted. Ctrl-C (or SIGTERM) stops them all: SIGTERM, then SIGKILL for any still
running 30 s later; a second Ctrl-C kills them at once.

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
    const prefixes = new Map(
      specs.map((spec, index) => {
        const prefix = spec.name.padEnd(width);
        return [spec.name, colour ? `\x1b[${COLOURS[index % COLOURS.length]}m${prefix}\x1b[0m` : prefix];
      }),
    );
    const supervisor = supervise(
      specs.map((spec, index) => ({ ...spec, env: { ...spec.env, IMGPIPE_HTTP_PORT: String(9464 + index) } })),
      {
        onLine: (name, line) => {
          console.log(`${prefixes.get(name)} | ${values['json-logs'] ? line : readableLogLine(line, colour)}`);
        },
        onEvent: (event) => {
          const text = `imgpipe dev: ${event.service} ${describeSupervisorEvent(event)}`;
          console.log(`${prefixes.get(event.service)} | ${colour ? `\x1b[33m${text}\x1b[0m` : text}`);
        },
      },
    );
    let signals = 0;
    const signalled = new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        signals += 1;
        if (signals === 1) {
          console.error(`imgpipe dev: ${signal}: stopping every process (again to kill them at once)`);
          resolve();
        } else void supervisor.stop(0);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    const outcome = await Promise.race([signalled.then(() => 'signal' as const), supervisor.exhausted]);
    if (outcome !== 'signal')
      console.error('imgpipe dev: every process refused its configuration; nothing left to run');
    await supervisor.stop();
    return outcome === 'signal' ? EXIT.ok : EXIT.config;
  },
};
