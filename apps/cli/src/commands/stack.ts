import { parseArgs } from 'node:util';
import { type ServiceStatus, type ServiceUpResult, stackDown, stackStatus, stackUp } from '@imgpipe/local-stack';
import { textTable } from '../cli-args.ts';
import { type Command, EXIT } from '../command.ts';

const HELP = `Usage: imgpipe stack <up|down|status> [--json] [--replica]

Runs the real local stack on 127.0.0.1, without Docker: Kafka (KRaft), the schema registry (Apicurio, Confluent
API), S3 (S3Proxy), PostgreSQL with PgBouncer (transaction pooling) in front, Redis, and on request a streaming
replica of PostgreSQL. Ports and credentials come from the IMGPIPE_* variables (.env.example).
Data, logs and pid files live in IMGPIPE_STACK_DIR (default .imgpipe/ at the repository root).

  up      start whatever is not running (idempotent), wait until each service answers, print the endpoints
  down    stop what 'up' started (services it found running are left alone)
  status  show each service as up or down; exits ${EXIT.failure} when any is down

Options:
  --json     machine-readable output
  --replica  up also starts the PostgreSQL streaming replica (as IMGPIPE_STACK_REPLICA=true does)
  -h, --help`;

function describeUp(result: ServiceUpResult): string {
  switch (result.state) {
    case 'started':
      return `started, up in ${result.seconds} s`;
    case 'running':
      return result.seconds === undefined ? 'already running' : `was starting, up after ${result.seconds} s`;
    case 'external':
      return result.seconds === undefined
        ? 'already up (not started by imgpipe)'
        : `made usable in ${result.seconds} s`;
    case 'failed':
      return 'FAILED';
  }
}

function formatMemory(status: ServiceStatus): string {
  return status.rssKib === undefined ? '-' : `${Math.round(status.rssKib / 1024)} MiB`;
}

async function up(json: boolean, replica: boolean): Promise<number> {
  const result = await stackUp({
    replica,
    report: (message) => console.error(`  ${message}`),
  });
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return result.ok ? EXIT.ok : EXIT.failure;
  }
  const rows = result.services.map((service) => [
    service.name,
    describeUp(service),
    service.endpoint,
    service.notes.join('; '),
  ]);
  console.log(textTable([['service', 'state', 'endpoint', ''], ...rows]));
  for (const service of result.services) {
    if (service.error) console.error(`\n${service.name}: ${service.error}`);
  }
  console.log(`\nstack folder: ${result.stackDir}`);
  return result.ok ? EXIT.ok : EXIT.failure;
}

async function status(json: boolean): Promise<number> {
  const result = await stackStatus();
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return result.ok ? EXIT.ok : EXIT.failure;
  }
  const rows = result.services.map((service) => [
    service.name,
    service.up ? 'up' : 'DOWN',
    service.endpoint,
    service.pid === undefined ? '-' : String(service.pid),
    service.startedByImgpipe ? 'imgpipe' : service.up ? 'external' : '-',
    formatMemory(service),
  ]);
  console.log(textTable([['service', 'state', 'endpoint', 'pid', 'started by', 'rss'], ...rows]));
  for (const service of result.services) {
    if (!service.up) console.error(`${service.name}: ${service.error ?? 'not answering'} (log: ${service.logFile})`);
  }
  return result.ok ? EXIT.ok : EXIT.failure;
}

async function down(json: boolean): Promise<number> {
  const results = await stackDown();
  if (json) {
    console.log(JSON.stringify({ services: results }, null, 2));
    return EXIT.ok;
  }
  const words = {
    stopped: 'stopped',
    killed: 'killed (did not stop in time)',
    'not-running': 'was not running',
    'not-ours': 'left alone (not started by imgpipe)',
  } as const;
  const rows = results.map((result) => [
    result.name,
    words[result.outcome],
    result.pid === undefined ? '' : `pid ${result.pid}`,
  ]);
  console.log(textTable(rows));
  return EXIT.ok;
}

export const command: Command = {
  summary: 'Start, stop or inspect the local stack (Kafka, schema registry, S3, PostgreSQL, Redis)',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        replica: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const [action, ...extra] = positionals;
    if (values.help) {
      console.log(HELP);
      return EXIT.ok;
    }
    if (extra.length > 0 || action === undefined) {
      console.error(HELP);
      return EXIT.usage;
    }
    switch (action) {
      case 'up':
        return up(values.json, values.replica);
      case 'down':
        return down(values.json);
      case 'status':
        return status(values.json);
      default:
        console.error(`imgpipe stack: unknown action '${action}'\n\n${HELP}`);
        return EXIT.usage;
    }
  },
};
