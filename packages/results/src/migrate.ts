import type { Kysely } from 'kysely';
import { type MigrationResult, Migrator } from 'kysely/migration';
import { ImgpipeError } from '@imgpipe/core';
import { toDatabaseError } from './database-errors.ts';
import { MIGRATIONS } from './migrations/index.ts';
import type { Database } from './schema.ts';

export interface MigrationOutcome {
  /** Migrations this run applied, in order (empty when the database was already up to date). */
  applied: string[];
  /** Every migration the code knows, in order. */
  known: string[];
}

export interface MigrateOptions {
  /** The schema the connection's search_path puts first (createDatabase's `schema`); default public. */
  schema?: string;
}

function migratorFor(db: Kysely<Database>, options: MigrateOptions): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
    // Named explicitly: kysely otherwise takes a bookkeeping table in any schema for its own.
    migrationTableSchema: options.schema ?? 'public',
  });
}

/**
 * Brings the schema to the latest migration. Safe to run twice and from several processes at once: kysely holds a
 * PostgreSQL advisory lock while it migrates, and each migration runs in its own transaction.
 */
export async function migrate(db: Kysely<Database>, options: MigrateOptions = {}): Promise<MigrationOutcome> {
  let outcome: { error?: unknown; results?: MigrationResult[] };
  try {
    outcome = await migratorFor(db, options).migrateToLatest();
  } catch (error) {
    throw toDatabaseError(error);
  }
  if (outcome.error !== undefined) {
    const failed = outcome.results?.find((result) => result.status === 'Error')?.migrationName;
    const cause = toDatabaseError(outcome.error);
    if (cause instanceof ImgpipeError) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new Error(failed ? `migration ${failed} failed: ${message}` : `migrating failed: ${message}`, { cause });
  }
  return {
    applied: (outcome.results ?? []).filter((result) => result.status === 'Success').map((r) => r.migrationName),
    known: Object.keys(MIGRATIONS),
  };
}

/** Which migrations have run, for `imgpipe migrate --status`. */
export async function migrationStatus(
  db: Kysely<Database>,
  options: MigrateOptions = {},
): Promise<{ name: string; executedAt?: Date }[]> {
  try {
    const migrations = await migratorFor(db, options).getMigrations();
    return migrations.map((m) => (m.executedAt ? { name: m.name, executedAt: m.executedAt } : { name: m.name }));
  } catch (error) {
    throw toDatabaseError(error);
  }
}
