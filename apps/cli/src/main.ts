import { readFileSync } from 'node:fs';
import { isErrorCode, ImgpipeError } from '@imgpipe/core';
import { UsageError } from './cli-args.ts';
import { type Command, EXIT } from './command.ts';

/** Commands load lazily so `imgpipe analyze` never pays for Kafka clients and `imgpipe stack` never loads models. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  // Each entry: name -> { summary, load: () => import('./commands/<name>.ts') }. Keep alphabetical.
  analyze: {
    summary: 'Analyse image files or folders in-process (no services needed)',
    load: () => import('./commands/analyze.ts'),
  },
  apikey: { summary: 'Create, list or revoke API keys for the HTTP API', load: () => import('./commands/apikey.ts') },
  dev: {
    summary: 'Run every worker, the results service and the HTTP API locally',
    load: () => import('./commands/dev.ts'),
  },
  dlq: { summary: 'List or re-drive dead-lettered messages', load: () => import('./commands/dlq.ts') },
  duplicates: {
    summary: "Group a tenant's images into near-duplicate clusters",
    load: () => import('./commands/duplicates.ts'),
  },
  features: { summary: 'Detect SIFT or ORB keypoints in image files', load: () => import('./commands/features.ts') },
  match: {
    summary: 'Match two images: keypoint matches, a RANSAC homography, inliers',
    load: () => import('./commands/match.ts'),
  },
  migrate: { summary: 'Bring the results database to the latest schema', load: () => import('./commands/migrate.ts') },
  models: { summary: 'Fetch and list ONNX models, verifying SHA-256', load: () => import('./commands/models.ts') },
  produce: {
    summary: "Upload images and produce ImageUploaded events, as another system's producer would",
    load: () => import('./commands/produce.ts'),
  },
  reprocess: {
    summary: 'Re-run a stage on all images, or on those missing its result or analysed by another model version',
    load: () => import('./commands/reprocess.ts'),
  },
  results: { summary: "Show an image's results", load: () => import('./commands/results.ts') },
  run: {
    summary: 'Run one service: worker --stage <name>, results, ingest-api',
    load: () => import('./commands/run.ts'),
  },
  schemas: {
    summary: 'Register the event schemas, or check local changes for compatibility',
    load: () => import('./commands/schemas.ts'),
  },
  'sign-url': {
    summary: 'Print a signed, expiring rendition URL for an image and a recipe (no token needed to fetch it)',
    load: () => import('./commands/sign-url.ts'),
  },
  stack: {
    summary: 'Start, stop or inspect the local stack (Kafka, schema registry, S3, PostgreSQL, Redis)',
    load: () => import('./commands/stack.ts'),
  },
  stage: {
    summary: "Pause or resume a stage in every replica, or show each stage's state, lag and model",
    load: () => import('./commands/stage.ts'),
  },
  status: { summary: "Show an image's status", load: () => import('./commands/status.ts') },
  token: {
    summary: 'Mint a development JWT for the HTTP API (--tenant, --role, --ttl)',
    load: () => import('./commands/token.ts'),
  },
  topics: { summary: 'Create the pipeline and dead-letter topics', load: () => import('./commands/topics.ts') },
  transform: {
    summary: 'Apply a recipe of image operations (resize, crop, filters, formats) to files or folders',
    load: () => import('./commands/transform.ts'),
  },
  user: {
    summary: 'Create, list, disable or enable users of a tenant, set their role or reset their password',
    load: () => import('./commands/user.ts'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`);
  return `Usage: imgpipe <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'imgpipe <command> --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    console.log(version);
    return EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`imgpipe: unknown command '${name}'\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    const { command } = await entry.load();
    return await command.run(rest);
  } catch (error) {
    return reportFatal(error);
  }
}

export function reportFatal(error: unknown): number {
  const nodeCode = (error as { code?: unknown } | undefined)?.code;
  if (error instanceof UsageError || (typeof nodeCode === 'string' && nodeCode.startsWith('ERR_PARSE_ARGS'))) {
    console.error(`imgpipe: ${(error as Error).message}`);
    return EXIT.usage;
  }
  if (error instanceof ImgpipeError) {
    console.error(`imgpipe: ${error.code}: ${error.message}`);
    if (error.code === 'CONFIG_INVALID') return EXIT.config;
    return error.retriable ? EXIT.unavailable : EXIT.failure;
  }
  if (error instanceof Error && 'code' in error && isErrorCode(error.code)) {
    console.error(`imgpipe: ${error.code}: ${error.message}`);
    return EXIT.failure;
  }
  console.error('imgpipe: unexpected error:', error);
  return EXIT.failure;
}
