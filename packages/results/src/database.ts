import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export interface DatabaseOptions {
  /** postgres://user:password@host:port/database (IMGPIPE_DATABASE_URL). */
  url: string;
  /** Connections in the pool; a results replica writes one message at a time per partition, so a few suffice. */
  poolSize?: number;
  /** Shown in pg_stat_activity, so an operator can tell the services apart. */
  applicationName?: string;
  /** Use this schema instead of public (tests that need an empty database, e.g. concurrent migrations). */
  schema?: string;
  /** An idle pooled connection broke (server restart, network); the pool replaces it on the next checkout. */
  onIdleError?: (error: Error) => void;
}

export const DEFAULT_POOL_SIZE = 10;

export function createDatabase(options: DatabaseOptions): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    application_name: options.applicationName ?? 'imgpipe',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    ...(options.schema ? { options: `-c search_path=${quoteIdentifier(options.schema)}` } : {}),
  });
  // Without a listener an idle client's error would crash the process.
  pool.on('error', options.onIdleError ?? ((error) => process.emitWarning(`imgpipe db pool: ${error.message}`)));
  // pg-pool listens for errors of idle clients only: a connection lost during a query (a server restart, a failover,
  // pg_terminate_backend) would emit an unhandled 'error' and crash the process. The query itself fails too, with a
  // retriable DATABASE_UNAVAILABLE (database-errors.ts), and the pool discards the broken client on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
