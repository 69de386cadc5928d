import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ImgpipeError } from '@imgpipe/core';
import type { ProgressReporter } from './artifacts.ts';
import { withStackLock } from './lock.ts';
import {
  isRecordAlive,
  listeningPid,
  type PidRecord,
  readPidRecord,
  removePidRecord,
  residentKib,
  stopPid,
  tailLines,
  writePidRecord,
} from './processes.ts';
import { runCommand } from './run-command.ts';
import type { ServiceName, StackService } from './service.ts';
import { kafkaService } from './services/kafka.ts';
import { pgReplicaService } from './services/pg-replica.ts';
import { pgbouncerService } from './services/pgbouncer.ts';
import { postgresService } from './services/postgres.ts';
import { redisService } from './services/redis.ts';
import { s3Service } from './services/s3.ts';
import { schemaRegistryService } from './services/schema-registry.ts';
import { resolveStackLayout, type StackLayout } from './settings.ts';
import { waitFor } from './wait.ts';

/**
 * The services `up` starts and `status` reports: the replica only when asked for (IMGPIPE_STACK_REPLICA) or while one
 * that `up` started is still recorded, so `status` shows it and `down` stops it. `all` lists it regardless.
 */
export function stackServices(layout: StackLayout, options: { all?: boolean } = {}): StackService[] {
  const withReplica = options.all || layout.replica.enabled || existsSync(pidFile(layout, 'pg-replica'));
  return [
    kafkaService,
    schemaRegistryService,
    s3Service,
    postgresService,
    redisService,
    pgbouncerService,
    ...(withReplica ? [pgReplicaService] : []),
  ].map((make) => make(layout));
}

function pidFile(layout: StackLayout, name: ServiceName): string {
  return join(layout.runDir, `${name}.json`);
}

const isUp = (service: StackService) => service.ready().catch(() => false);

export interface ServiceUpResult {
  readonly name: ServiceName;
  readonly endpoint: string;
  /** started: we spawned it now; running: ours, already up; external: up, not started by imgpipe. */
  readonly state: 'started' | 'running' | 'external' | 'failed';
  /** Seconds until it answered, when this run started it (or found it still starting). */
  readonly seconds?: number;
  readonly pid?: number;
  readonly logFile: string;
  readonly notes: readonly string[];
  readonly error?: string;
}

export interface StackUpResult {
  readonly ok: boolean;
  readonly stackDir: string;
  readonly services: readonly ServiceUpResult[];
}

async function failure(service: StackService, record: PidRecord | undefined, reason: string): Promise<ImgpipeError> {
  const logFile = record?.logFile ?? service.logFile;
  const tail = await tailLines(logFile, 25);
  return new ImgpipeError(
    'STACK_SERVICE_FAILED',
    `${service.name} did not come up: ${reason}\n  log: ${logFile}\n  last lines:\n${tail.replace(/^/gm, '    | ')}`,
    { details: { service: service.name, logFile } },
  );
}

async function bringUp(layout: StackLayout, service: StackService, report: ProgressReporter): Promise<ServiceUpResult> {
  const file = pidFile(layout, service.name);
  let record = await readPidRecord(file);
  if (record && !isRecordAlive(record)) {
    await removePidRecord(file);
    record = undefined;
  }
  const base = { name: service.name, endpoint: service.endpoint, logFile: record?.logFile ?? service.logFile };

  if (await isUp(service)) {
    const notes = (await service.provision?.()) ?? [];
    return record
      ? { ...base, state: 'running', pid: record.pid, notes }
      : { ...base, state: 'external', pid: listeningPid(service.port), notes };
  }

  const began = Date.now();
  let state: ServiceUpResult['state'] = 'running';
  if (!record) {
    report(`${service.name}: starting`);
    record = await service.start(report);
    if (record) {
      await writePidRecord(file, record);
      state = 'started';
    } else {
      state = 'external';
    }
  } else {
    report(`${service.name}: pid ${record.pid} is ours but not answering yet; waiting`);
  }

  const watched = record;
  try {
    await waitFor(() => service.ready(), {
      timeoutMs: service.startTimeoutMs,
      intervalMs: 300,
      what: `${service.name} answering on ${service.endpoint}`,
      abort: () =>
        watched && !isRecordAlive(watched) ? `the process (pid ${watched.pid}) exited while starting` : undefined,
    });
  } catch (error) {
    if (watched && !isRecordAlive(watched)) await removePidRecord(file);
    throw await failure(service, watched, (error as Error).message);
  }
  const seconds = Math.round((Date.now() - began) / 100) / 10;
  if (watched && state === 'started') await writePidRecord(file, { ...watched, startupSeconds: seconds });
  const notes = (await service.provision?.()) ?? [];
  return { ...base, logFile: watched?.logFile ?? service.logFile, state, seconds, pid: watched?.pid, notes };
}

/**
 * Brings every service up, leaving running ones alone. Downloads run one after another (Maven shares ~/.m2) before
 * the services that need them start; the services start in parallel, each waiting for its own readiness with a
 * deadline. A service with nothing to download starts at once, without waiting on the others' probes (PgBouncer's
 * waits for the primary: a stopped PostgreSQL would otherwise wait for it).
 */
export async function stackUp(
  options: { env?: NodeJS.ProcessEnv; report?: ProgressReporter; replica?: boolean } = {},
): Promise<StackUpResult> {
  const resolved = resolveStackLayout(options.env);
  // `stack up --replica` asks for the replica whatever IMGPIPE_STACK_REPLICA says.
  const layout = options.replica ? { ...resolved, replica: { ...resolved.replica, enabled: true } } : resolved;
  const report = options.report ?? (() => {});
  const services = stackServices(layout);
  return withStackLock(layout, report, async () => {
    const downloading = services.filter((service) => service.prepare !== undefined);
    const prepared = (async () => {
      const up = await Promise.all(downloading.map(isUp));
      for (const [index, service] of downloading.entries()) {
        if (!up[index]) await service.prepare?.(report);
      }
    })();
    const results = await Promise.all(
      services.map((service) =>
        (service.prepare ? prepared : Promise.resolve())
          .then(() => bringUp(layout, service, report))
          .catch(
            (error: unknown): ServiceUpResult => ({
              name: service.name,
              endpoint: service.endpoint,
              state: 'failed',
              logFile: service.logFile,
              notes: [],
              error: error instanceof Error ? error.message : String(error),
            }),
          ),
      ),
    );
    // A failed download still fails `stack up` as a whole (the services waiting for it are reported failed too).
    await prepared;
    return { ok: results.every((result) => result.state !== 'failed'), stackDir: layout.stackDir, services: results };
  });
}

export interface ServiceStatus {
  readonly name: ServiceName;
  readonly up: boolean;
  readonly endpoint: string;
  readonly pid?: number;
  /** True when `imgpipe stack up` started it (and `down` will stop it). */
  readonly startedByImgpipe: boolean;
  /** Resident memory of the main process (VmRSS), when it is known. */
  readonly rssKib?: number;
  readonly startupSeconds?: number;
  readonly logFile?: string;
  readonly error?: string;
}

export interface StackStatus {
  readonly ok: boolean;
  readonly stackDir: string;
  readonly services: readonly ServiceStatus[];
}

export async function stackStatus(options: { env?: NodeJS.ProcessEnv } = {}): Promise<StackStatus> {
  const layout = resolveStackLayout(options.env);
  const services = await Promise.all(
    stackServices(layout).map(async (service): Promise<ServiceStatus> => {
      const stored = await readPidRecord(pidFile(layout, service.name));
      const record = stored && isRecordAlive(stored) ? stored : undefined;
      let error: string | undefined;
      const up = await service.ready().then(
        (answered) => answered,
        (reason: unknown) => {
          error = reason instanceof Error ? reason.message : String(reason);
          return false;
        },
      );
      const pid = record?.pid ?? (up ? listeningPid(service.port) : undefined);
      return {
        name: service.name,
        up,
        endpoint: service.endpoint,
        ...(pid === undefined ? {} : { pid, rssKib: residentKib(pid) }),
        startedByImgpipe: record !== undefined,
        ...(record?.startupSeconds === undefined ? {} : { startupSeconds: record.startupSeconds }),
        logFile: record?.logFile ?? service.logFile,
        ...(up || error === undefined ? {} : { error }),
      };
    }),
  );
  return { ok: services.every((service) => service.up), stackDir: layout.stackDir, services };
}

export interface ServiceDownResult {
  readonly name: ServiceName;
  readonly outcome: 'stopped' | 'killed' | 'not-running' | 'not-ours';
  readonly pid?: number;
}

/**
 * Stops what `stack up` started (per its pid files): SIGTERM, a grace period, then SIGKILL. `only` names the services
 * to stop (a test stops the replica it started), default all.
 */
export async function stackDown(
  options: { env?: NodeJS.ProcessEnv; only?: readonly ServiceName[] } = {},
): Promise<ServiceDownResult[]> {
  const layout = resolveStackLayout(options.env);
  const chosen = stackServices(layout, { all: true }).filter(
    (service) => options.only === undefined || options.only.includes(service.name),
  );
  const results = await Promise.all(
    chosen.map(async (service): Promise<ServiceDownResult> => {
      const file = pidFile(layout, service.name);
      const record = await readPidRecord(file);
      if (!record) return { name: service.name, outcome: 'not-ours' };
      if (!isRecordAlive(record)) {
        await removePidRecord(file);
        return { name: service.name, outcome: 'not-running', pid: record.pid };
      }
      let outcome: ServiceDownResult['outcome'];
      if (record.stopCommand) {
        const [command, ...args] = record.stopCommand;
        const result = await runCommand(command!, args);
        outcome = result.code === 0 ? 'stopped' : await stopPid(record.pid, 30_000);
      } else {
        // Kafka's controlled shutdown and log flush take a few seconds.
        outcome = await stopPid(record.pid, 30_000);
      }
      await removePidRecord(file);
      return { name: service.name, outcome, pid: record.pid };
    }),
  );
  // The optional replica is not worth a line when it was never started.
  return results.filter((result) => result.name !== 'pg-replica' || result.outcome !== 'not-ours');
}
