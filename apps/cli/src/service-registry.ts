import { STAGES } from '@imgpipe/contracts';

/**
 * The one registry of the services the CLI can start (`imgpipe run`, and `imgpipe dev`, which runs each as
 * `imgpipe run …` in its own process). Apps do not import each other: each entry names the service's entry module by
 * file path and the function it exports, and the module is loaded by dynamic import of that file only when the
 * service starts. This file is the one sanctioned place where the CLI points into another app
 * (test/architecture/import-graph.test.ts names it).
 */
export interface ServiceDefinition {
  /** The service's entry module (apps/<app>/src/main.ts). */
  readonly entry: URL;
  /** The function the entry module exports; it runs the service until SIGTERM and resolves to the exit code. */
  readonly exportName: string;
  readonly summary: string;
  /** Whether the service takes `--stage <name>` (the worker). */
  readonly takesStage: boolean;
}

export const SERVICES = {
  worker: {
    entry: new URL('../../worker/src/main.ts', import.meta.url),
    exportName: 'runWorker',
    summary: 'one pipeline stage, as its own consumer group',
    takesStage: true,
  },
  results: {
    entry: new URL('../../results/src/main.ts', import.meta.url),
    exportName: 'runResults',
    summary: 'materialise results into PostgreSQL and Redis; deadline sweep',
    takesStage: false,
  },
  'ingest-api': {
    entry: new URL('../../ingest-api/src/main.ts', import.meta.url),
    exportName: 'runIngestApi',
    summary: 'the HTTP API',
    takesStage: false,
  },
} as const satisfies Record<string, ServiceDefinition>;

export type ServiceName = keyof typeof SERVICES;

export function isServiceName(value: string): value is ServiceName {
  return Object.hasOwn(SERVICES, value);
}

/** Loads a service's entry module and returns its run function (called with the stage for the worker). */
export async function loadService(name: ServiceName): Promise<(...args: string[]) => Promise<number>> {
  const definition: ServiceDefinition = SERVICES[name];
  const module = (await import(definition.entry.href)) as Record<string, unknown>;
  const run = module[definition.exportName];
  if (typeof run !== 'function') {
    throw new TypeError(`${definition.entry.pathname} does not export ${definition.exportName}()`);
  }
  return run as (...args: string[]) => Promise<number>;
}

/** The processes `imgpipe dev` runs: every stage's worker, the results service and (unless left out) the API. */
export function devProcesses(options: { api: boolean }): { name: string; args: string[] }[] {
  return [
    ...STAGES.map((stage) => ({ name: stage, args: ['run', 'worker', '--stage', stage] })),
    { name: 'results', args: ['run', 'results'] },
    ...(options.api ? [{ name: 'api', args: ['run', 'ingest-api'] }] : []),
  ];
}
