import { STAGES } from '@imgpipe/contracts';
import { type RunningService, type ServiceSpec, startService } from '../../apps/cli/src/supervisor.ts';
import { waitFor } from './kafka.ts';
import { sharedPath } from './shared.ts';

export interface PipelineService {
  name: string;
  service: RunningService;
  /** Lines the process printed, newest last. */
  lines: string[];
  /** Health and metrics port, from its 'stage started' log line. */
  httpPort: number;
}

const BASE_ENV = {
  IMGPIPE_MODELS_DIR: sharedPath('models'),
  IMGPIPE_HTTP_PORT: '0',
  IMGPIPE_LOG_LEVEL: 'info',
  IMGPIPE_VISION_WORKERS: '1',
};

/**
 * Starts real service processes (`imgpipe run ...`) and waits until each has joined its consumer group, as a
 * deployment would run them. Scenario tests drive the pipeline through Kafka against these.
 */
export async function startServices(
  names: readonly string[] = [...STAGES, 'results'],
  env: Record<string, string> = {},
): Promise<Map<string, PipelineService>> {
  const services = new Map<string, PipelineService>();
  for (const name of names) services.set(name, launch(name, env));
  try {
    await Promise.all([...services.values()].map((service) => waitUntilStarted(service)));
  } catch (error) {
    // The caller never gets the map, so its after hook cannot stop them: stopped here, or they would keep the test
    // process (and the suite) alive.
    await stopServices(services);
    throw error;
  }
  return services;
}

export function launch(name: string, env: Record<string, string> = {}): PipelineService {
  const spec: ServiceSpec = {
    name,
    args: name === 'results' ? ['run', 'results'] : ['run', 'worker', '--stage', name],
    env: { ...BASE_ENV, ...env },
  };
  const lines: string[] = [];
  const entry: PipelineService = {
    name,
    lines,
    httpPort: 0,
    service: startService(spec, (_name, line) => lines.push(line)),
  };
  return entry;
}

export async function waitUntilStarted(service: PipelineService, timeoutMs = 120_000): Promise<void> {
  const started = await waitFor(
    `${service.name} to start`,
    () => {
      if (service.service.child.exitCode !== null) {
        throw new Error(`${service.name} exited early:\n${service.lines.slice(-20).join('\n')}`);
      }
      for (const line of service.lines) {
        if (line.includes('"stage started"')) return JSON.parse(line) as { httpPort: number };
      }
      return undefined;
    },
    timeoutMs,
  );
  service.httpPort = started.httpPort;
  await waitFor(
    `${service.name} to join its group`,
    async () => {
      const response = await fetch(`http://127.0.0.1:${service.httpPort}/readyz`).catch(() => undefined);
      return response?.ok ? true : undefined;
    },
    timeoutMs,
  );
}

export async function stopServices(services: Map<string, PipelineService>): Promise<void> {
  await Promise.all([...services.values()].map((entry) => entry.service.stop(30_000)));
}
