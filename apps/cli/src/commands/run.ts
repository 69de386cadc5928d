import { parseArgs } from 'node:util';
import { STAGES } from '@imgpipe/contracts';
import { type Command, EXIT } from '../command.ts';

const HELP = `Usage: imgpipe run <service> [options]

Services:
  worker --stage <${STAGES.join('|')}>   one pipeline stage, as its own consumer group
  results                                  materialise results into PostgreSQL and Redis; deadline sweep
  ingest-api                               the HTTP API

Each serves /healthz, /readyz and /metrics on IMGPIPE_HTTP_PORT (default 9464; the API on IMGPIPE_API_PORT).
Stops gracefully on SIGTERM or SIGINT: in-flight work finishes, offsets are committed, the group is left.
Configuration comes from the environment (see .env.example).`;

export const command: Command = {
  summary: 'Run one service: worker --stage <name>, results, ingest-api',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { stage: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    const [service] = positionals;
    if (values.help || !service) {
      console.log(HELP);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    let code: number;
    switch (service) {
      case 'worker': {
        if (!values.stage) {
          console.error(`imgpipe run worker: --stage is required (${STAGES.join(', ')})`);
          return EXIT.usage;
        }
        const { runWorker } = await import('@imgpipe/worker');
        code = await runWorker(values.stage);
        break;
      }
      case 'results': {
        const { runResults } = await import('@imgpipe/results');
        code = await runResults();
        break;
      }
      case 'ingest-api': {
        const { runIngestApi } = await import('@imgpipe/ingest-api');
        code = await runIngestApi();
        break;
      }
      default:
        console.error(`imgpipe run: unknown service '${service}'\n\n${HELP}`);
        return EXIT.usage;
    }
    // Client libraries may hold sockets open after a graceful stop; the service is done, so is the process.
    process.exit(code);
  },
};
