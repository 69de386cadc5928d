import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { sql } from 'kysely';
import pg from 'pg';
import { createDatabase } from './database.ts';
import { withDatabaseErrors } from './database-errors.ts';
import { settings } from './test-fixtures.ts';

test('a connection lost mid-transaction fails that transaction as retriable, and nothing else', async () => {
  const applicationName = `imgpipe-db-kill-${randomUUID().slice(0, 8)}`;
  const db = createDatabase({ url: settings.databaseUrl, poolSize: 2, applicationName });
  const admin = new pg.Client({ connectionString: settings.databaseUrl });
  await admin.connect();
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    const sleeping = withDatabaseErrors(() =>
      db.transaction().execute(async (trx) => {
        await sql`select pg_sleep(30)`.execute(trx);
      }),
    );
    const outcome = sleeping.then(
      () => undefined,
      (error: unknown) => error,
    );
    let pid: number | undefined;
    for (let tries = 0; pid === undefined && tries < 200; tries += 1) {
      const { rows } = await admin.query<{ pid: number }>(
        "select pid from pg_stat_activity where application_name = $1 and state = 'active'",
        [applicationName],
      );
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.ok(pid, 'the transaction is running');
    await admin.query('select pg_terminate_backend($1)', [pid]);
    const error = await outcome;
    assert.ok(error instanceof ImgpipeError && error.code === 'DATABASE_UNAVAILABLE' && error.retriable, String(error));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(uncaught, [], 'the lost connection did not escape as an unhandled error event');
    const [row] = (await sql<{ one: number }>`select 1 as one`.execute(db)).rows;
    assert.equal(row?.one, 1, 'the pool goes on with a new connection');
  } finally {
    process.off('uncaughtException', onUncaught);
    await admin.end();
    await db.destroy();
  }
});
