import type { ProgressReporter } from './artifacts.ts';
import type { PidRecord } from './processes.ts';
import type { StackLayout } from './settings.ts';

/** pg-replica is optional: started when asked (IMGPIPE_STACK_REPLICA, `stack up --replica`), listed while it runs. */
export const SERVICE_NAMES = [
  'kafka',
  'schema-registry',
  's3',
  'postgres',
  'redis',
  'pgbouncer',
  'pg-replica',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** One service of the local stack: how to tell it is really up, how to start it, what to set up once it is. */
export interface StackService {
  readonly name: ServiceName;
  /** What clients connect to, as the IMGPIPE_* variable spells it (secrets left out). */
  readonly endpoint: string;
  readonly port: number;
  /** Where its output goes when we start it. */
  readonly logFile: string;
  readonly startTimeoutMs: number;
  /** Resolves true when the service answers a real request; throws or returns false otherwise. */
  ready(): Promise<boolean>;
  /** Fetches what it needs (cold run) before any service starts, so downloads do not race each other. */
  prepare?(report: ProgressReporter): Promise<void>;
  /**
   * Brings the service up. Returns the record of the process it spawned, or undefined when it made an existing
   * service usable without starting one (e.g. created the PostgreSQL role on a running cluster).
   */
  start(report: ProgressReporter): Promise<PidRecord | undefined>;
  /** Idempotent set-up once ready (the bucket, ...). Returns what it did, for the report. */
  provision?(): Promise<string[]>;
}

export type ServiceFactory = (layout: StackLayout) => StackService;
