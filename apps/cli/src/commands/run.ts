import { parseArgs } from 'node:util';
import { STAGES } from '@imgpipe/contracts';
import { type Command, EXIT } from '../command.ts';
import { isServiceName, loadService, SERVICES } from '../service-registry.ts';

const HELP = `Usage: imgpipe run <service> [options]

Services:
  worker --stage <${STAGES.join('|')}>   ${SERVICES.worker.summary}
  results                                  ${SERVICES.results.summary}
  ingest-api                               ${SERVICES['ingest-api'].summary}

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
    if (!isServiceName(service)) {
      console.error(`imgpipe run: unknown service '${service}'\n\n${HELP}`);
      return EXIT.usage;
    }
    if (SERVICES[service].takesStage && !values.stage) {
      console.error(`imgpipe run ${service}: --stage is required (${STAGES.join(', ')})`);
      return EXIT.usage;
    }
    const run = await loadService(service);
    const code = SERVICES[service].takesStage ? await run(values.stage as string) : await run();
    // Client libraries may hold sockets open after a graceful stop; the service is done, so is the process.
    process.exit(code);
  },
};
