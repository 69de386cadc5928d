import { availableParallelism } from 'node:os';
import { STAGES, type StageName, WORKER_STAGES } from '@imgpipe/contracts';
import { type ConfigEnv, loadConfig, optionalStr } from '@imgpipe/core';

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

/** The stages whose processes run image work (sharp, onnxruntime); aggregate only joins events. */
const IMAGE_STAGES: readonly StageName[] = STAGES.filter((stage) => stage !== 'aggregate');

/**
 * The processes `imgpipe dev` runs: every stage's worker (transform and features included: they render the presets and
 * find the keypoints uploads ask for, and idle otherwise), the results service and (unless left out) the API.
 *
 * They share one host without cgroup limits, so each image stage gets an equal share of its CPUs
 * (IMGPIPE_CPUS = CPUs / image stages: 0.5 on two cores), from which the vision engine derives its workers and
 * onnxruntime threads; otherwise every process would size itself for the whole machine and four of them would run
 * four times as many model threads as there are cores. An IMGPIPE_CPUS the caller set is left as it is.
 */
export function devProcesses(
  options: { api: boolean },
  env?: ConfigEnv,
): { name: string; args: string[]; env: Record<string, string> }[] {
  const given = loadConfig({ cpus: optionalStr('IMGPIPE_CPUS') }, env);
  const share: Record<string, string> = given.cpus ? {} : { IMGPIPE_CPUS: cpuShareOf(IMAGE_STAGES.length) };
  return [
    ...WORKER_STAGES.map((stage) => ({
      name: stage,
      args: ['run', 'worker', '--stage', stage],
      env: (IMAGE_STAGES as readonly string[]).includes(stage) ? share : {},
    })),
    { name: 'results', args: ['run', 'results'], env: {} },
    ...(options.api ? [{ name: 'api', args: ['run', 'ingest-api'], env: {} }] : []),
  ];
}

function cpuShareOf(processes: number): string {
  return String(Math.round((availableParallelism() / processes) * 100) / 100);
}
