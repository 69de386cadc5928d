import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImgpipeError } from '@imgpipe/core';
import type { PidRecord } from './processes.ts';
import { runCommand } from './run-command.ts';
import { listClusters } from './services/postgres.ts';
import type { StackLayout } from './settings.ts';
import { stackUp } from './stack.ts';

/**
 * Faults a test or a soak run injects into the local stack's own services, by the pid files `stack up` wrote:
 * each one takes a service away the way production loses it (a restart, a crash, a stall), and `restore` brings
 * every service back (`stack up` is idempotent: it starts only what is down). Only for the local stack: never
 * point these at services you did not start with `imgpipe stack up`.
 */
export type StackFault = 'postgres-restart' | 'redis-kill' | 'kafka-kill' | 'registry-kill' | 's3-freeze';

export const STACK_FAULTS: readonly StackFault[] = [
  'postgres-restart',
  'redis-kill',
  'kafka-kill',
  'registry-kill',
  's3-freeze',
];

export function stackPid(layout: StackLayout, service: string): number {
  return readRecord(layout, service).pid;
}

function readRecord(layout: StackLayout, service: string): PidRecord {
  return JSON.parse(readFileSync(join(layout.runDir, `${service}.json`), 'utf8')) as PidRecord;
}

/**
 * Starts the fault and returns how to end it. PostgreSQL is stopped cleanly (fast shutdown: its clients' sessions
 * are terminated, as in a restart or failover); Redis, the Kafka broker and the schema registry are SIGKILLed (a
 * crash); S3 is frozen with SIGSTOP (a stall: connections stay open and nothing answers) until the returned function
 * sends SIGCONT.
 */
export async function startFault(layout: StackLayout, fault: StackFault): Promise<() => Promise<void>> {
  switch (fault) {
    case 'postgres-restart': {
      const [command, ...args] = await postgresStopCommand(layout);
      const result = await runCommand(command!, args);
      if (result.code !== 0) throw new Error(`${command} failed: ${result.output}`);
      return () => restore();
    }
    case 'redis-kill':
      process.kill(stackPid(layout, 'redis'), 'SIGKILL');
      return () => restore();
    case 'kafka-kill':
      process.kill(stackPid(layout, 'kafka'), 'SIGKILL');
      return () => restore();
    case 'registry-kill':
      process.kill(stackPid(layout, 'schema-registry'), 'SIGKILL');
      return () => restore();
    case 's3-freeze': {
      const pid = stackPid(layout, 's3');
      process.kill(pid, 'SIGSTOP');
      return async () => {
        process.kill(pid, 'SIGCONT');
        await restore();
      };
    }
  }
}

/**
 * How to stop the stack's PostgreSQL: from its pid record, or, when a cluster on the stack's port was started by
 * someone else (`stack status` says "external"), the Debian cluster's own stop command.
 */
async function postgresStopCommand(layout: StackLayout): Promise<string[]> {
  try {
    const recorded = readRecord(layout, 'postgres').stopCommand;
    if (recorded) return [...recorded];
  } catch {
    // no record: not started by `stack up`
  }
  const cluster = (await listClusters()).find((candidate) => candidate.port === layout.postgres.port);
  if (!cluster) throw new Error(`no PostgreSQL cluster listens on port ${layout.postgres.port}`);
  return ['pg_ctlcluster', cluster.version, cluster.name, 'stop', '-m', 'fast'];
}

/** Brings every service of the stack back (`stack up`); throws STACK_SERVICE_FAILED naming any that did not come up. */
export async function restore(env?: NodeJS.ProcessEnv): Promise<void> {
  const result = await stackUp(env ? { env } : {});
  const failed = result.services.filter((service) => service.state === 'failed');
  if (failed.length > 0) {
    throw new ImgpipeError(
      'STACK_SERVICE_FAILED',
      `stack up left ${failed.map((service) => service.name).join(', ')} down:\n${failed.map((service) => service.error).join('\n')}`,
      { details: { services: failed.map((service) => service.name) } },
    );
  }
}
