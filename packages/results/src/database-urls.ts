import type { Kysely } from 'kysely';
import { createDatabase } from './database.ts';
import { type MigrationOutcome, migrate } from './migrate.ts';
import type { Database } from './schema.ts';

/**
 * Where each kind of database work goes (docs/scaling.md, PostgreSQL):
 * - `databaseUrl` (IMGPIPE_DATABASE_URL): the primary, through PgBouncer in transaction pooling in production. Every
 *   write, and every read that must see a write just made (one image, dedup, API keys, idempotency).
 * - `databaseReadUrl` (IMGPIPE_DATABASE_READ_URL): a streaming replica for searches and lists, which may lag.
 * - `databaseDirectUrl` (IMGPIPE_DATABASE_DIRECT_URL): the primary itself, for migrations only: kysely's migrator
 *   takes a session-level advisory lock (pg_advisory_lock) on one connection, then migrates in a transaction and
 *   unlocks, which transaction pooling would spread over different server connections.
 */
export interface DatabaseUrls {
  readonly databaseUrl: string;
  readonly databaseReadUrl?: string | undefined;
  readonly databaseDirectUrl?: string | undefined;
}

export function migrationUrl(urls: DatabaseUrls): string {
  return urls.databaseDirectUrl ?? urls.databaseUrl;
}

/** Brings the schema up to date over one connection of its own to the primary itself, then closes it. */
export async function migrateDirect(
  urls: DatabaseUrls,
  applicationName = 'imgpipe-migrate',
): Promise<MigrationOutcome> {
  const db = createDatabase({ url: migrationUrl(urls), poolSize: 1, applicationName });
  try {
    return await migrate(db);
  } finally {
    await db.destroy();
  }
}

/**
 * The pool for searches and lists: a replica's when IMGPIPE_DATABASE_READ_URL is set, else the primary's own pool
 * (`primary`, returned as is: the caller closes one pool, not two).
 */
export function readDatabase(
  urls: DatabaseUrls,
  primary: Kysely<Database>,
  options: { applicationName?: string; poolSize?: number } = {},
): Kysely<Database> {
  if (urls.databaseReadUrl === undefined) return primary;
  return createDatabase({
    url: urls.databaseReadUrl,
    applicationName: options.applicationName ?? 'imgpipe-read',
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
  });
}
