import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { config } from './support.ts';

describe('postgres (the local stack database)', () => {
  test('connects as the configured role and round-trips a row', async () => {
    const client = new pg.Client({ connectionString: config.databaseUrl });
    await client.connect();
    try {
      const url = new URL(config.databaseUrl);
      const who = await client.query<{ user: string; database: string; version: string }>(
        'select current_user as user, current_database() as database, current_setting($1) as version',
        ['server_version_num'],
      );
      assert.equal(who.rows[0]?.user, decodeURIComponent(url.username));
      assert.equal(who.rows[0]?.database, url.pathname.slice(1));
      assert.ok(Number(who.rows[0]?.version) >= 150000, `PostgreSQL 15 or newer, got ${who.rows[0]?.version}`);

      await client.query('create temporary table stack_probe (id int primary key, body jsonb not null)');
      await client.query('insert into stack_probe values ($1, $2)', [1, { labels: ['cat'], score: 0.93 }]);
      const row = await client.query<{ body: unknown }>('select body from stack_probe where id = $1', [1]);
      assert.deepEqual(row.rows[0]?.body, { labels: ['cat'], score: 0.93 });
    } finally {
      await client.end();
    }
  });
});
