import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { createDatabase } from './database.ts';
import { migrate, migrationStatus } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { settings } from './test-fixtures.ts';

describe('migrate', () => {
  test('running twice applies nothing the second time', async () => {
    const db = createDatabase({ url: settings.databaseUrl, poolSize: 2 });
    try {
      await migrate(db);
      const again = await migrate(db);
      assert.deepEqual(again, { applied: [], known: Object.keys(MIGRATIONS) });
      const status = await migrationStatus(db);
      assert.ok(status.every((migration) => migration.executedAt instanceof Date));
    } finally {
      await db.destroy();
    }
  });

  test('concurrent runners on an empty schema apply each migration exactly once', async () => {
    const schema = `imgpipe_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const admin = createDatabase({ url: settings.databaseUrl, poolSize: 1 });
    await sql`create schema ${sql.id(schema)}`.execute(admin);
    const runners = [1, 2, 3].map(() => createDatabase({ url: settings.databaseUrl, poolSize: 2, schema }));
    try {
      const outcomes = await Promise.all(runners.map((db) => migrate(db, { schema })));
      assert.deepEqual(outcomes.flatMap((outcome) => outcome.applied).sort(), Object.keys(MIGRATIONS).sort());
      const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables
        where table_schema = ${schema} order by table_name`.execute(admin);
      const names = tables.rows.map((row) => row.table_name);
      for (const table of ['images', 'image_stages', 'detections', 'faces', 'text_lines', 'image_labels']) {
        assert.ok(names.includes(table), `${table} exists`);
      }
      assert.equal(names.filter((name) => name === 'kysely_migration').length, 1, 'one bookkeeping table');
    } finally {
      await Promise.all(runners.map((db) => db.destroy()));
      await sql`drop schema ${sql.id(schema)} cascade`.execute(admin);
      await admin.destroy();
    }
  });

  test('an unreachable database is a retriable DATABASE_UNAVAILABLE', async () => {
    const db = createDatabase({ url: 'postgres://imgpipe:imgpipe@127.0.0.1:1/imgpipe', poolSize: 1 });
    try {
      await assert.rejects(migrate(db), { code: 'DATABASE_UNAVAILABLE', retriable: true });
    } finally {
      await db.destroy();
    }
  });
});
